import type { OrgSchema } from './schema'
import type { FieldValue, Store } from './store'

export interface InspectView {
  accounts: Record<string, FieldValue>[]
  visits: Record<string, FieldValue>[]
  /** Footfall fields this org has (none before the admin's setup). */
  footfallFields: string[]
}

/** Accounts and visits with their Footfall fields: what a person checks by eye after a sync. */
export function inspectView(schema: OrgSchema, store: Store, limit = 500): InspectView {
  const account = schema.objects.get('Account')
  const accountFields = account
    ? [...account.fields.keys()].filter(
        (f) =>
          f === 'Id' ||
          f === 'Name' ||
          f === 'In_Store_Customer_Id__c' ||
          f.startsWith('Footfall_'),
      )
    : []
  const visitObject = schema.objects.get('Footfall_Visit__c')
  const visitFields = visitObject
    ? [...visitObject.fields.keys()].filter((f) => !['CreatedDate', 'SystemModstamp'].includes(f))
    : []
  const pick = (record: Record<string, FieldValue>, fields: string[]): Record<string, FieldValue> =>
    Object.fromEntries(fields.map((f) => [f, record[f] ?? null]))
  return {
    accounts: account
      ? store
          .all('Account')
          .slice(0, limit)
          .map((r) => pick(r, accountFields))
      : [],
    visits: visitObject
      ? store
          .all('Footfall_Visit__c')
          .slice(-limit)
          .map((r) => pick(r, visitFields))
      : [],
    footfallFields: accountFields.filter((f) => f.startsWith('Footfall_')),
  }
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function table(title: string, rows: Record<string, FieldValue>[]): string {
  if (rows.length === 0) return `<h2>${escape(title)}</h2><p>none</p>`
  const columns = Object.keys(rows[0]!)
  const head = columns.map((c) => `<th>${escape(c)}</th>`).join('')
  const body = rows
    .map(
      (r) =>
        `<tr>${columns.map((c) => `<td>${escape(r[c] === null ? '' : String(r[c]))}</td>`).join('')}</tr>`,
    )
    .join('\n')
  return `<h2>${escape(title)} (${rows.length})</h2><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
}

export interface InspectStatus {
  apiUsed: number
  apiMax: number
  /** One line per active fault. */
  faults: string[]
}

/** A read-only page; it loads no script and only shows what the org holds. */
export function inspectPage(view: InspectView, status: InspectStatus): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Footfall Salesforce emulator</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:nowrap}th{background:#f3f3f3}</style>
</head><body><h1>Footfall Salesforce emulator</h1>
<p>Read-only view. JSON: <a href="/__admin/inspect">/__admin/inspect</a>.
${view.footfallFields.length === 0 ? 'This org has no Footfall fields yet (admin setup not done).' : ''}</p>
<p>API requests in the last 24 h: ${status.apiUsed} of ${status.apiMax}.
${status.faults.length === 0 ? 'No faults injected.' : `Faults: ${status.faults.map(escape).join('; ')}.`}</p>
${table('Accounts', view.accounts)}
${table('Footfall visits', view.visits)}
</body></html>`
}
