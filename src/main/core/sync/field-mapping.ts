import { createHash } from 'node:crypto'
import type { RollupRow, VisitRow } from '../processing/rules'

/**
 * From processing's rows to the Salesforce fields of SALESFORCE.md. Pure: the same row always
 * gives the same record, so a rewrite after a retry writes exactly what the first try would have.
 */

/** A `customer_rollups` row (processing's), as the sync reads it. */
export type RollupRecordSource = RollupRow

/** The part of a `visits` row (processing's) that reaches Salesforce. */
export type VisitRecordSource = Pick<
  VisitRow,
  | 'visit_key'
  | 'customer_id'
  | 'store_id'
  | 'status'
  | 'entered_ms'
  | 'exited_ms'
  | 'tis_ms'
  | 'spend_cents'
  | 'brands'
  | 'items_json'
>

export const UNKNOWN_STORE = 'unknown'
export const TEXT_MAX = 255
export const STORE_MAX = 64
export const VISIT_KEY_MAX = 80
export const LONG_TEXT_MAX = 131_072

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
const amount = (cents: number): number => Math.round(cents) / 100

/** `a;b;c` cut at a `;` so that it fits `max`: whole brands only, the highest-spend ones first. */
export function fitList(joined: string, max = TEXT_MAX): string {
  if (joined.length <= max) return joined
  let out = ''
  for (const part of joined.split(';')) {
    const next = out ? `${out};${part}` : part
    if (next.length > max) break
    out = next
  }
  return out || joined.slice(0, max)
}

/**
 * The external id of a visit: `<customer_id>:<first event id>` (SALESFORCE.md). Text(80) cannot
 * hold every such key (ids are the sender's, up to 200 characters each), so a longer key is
 * replaced by a stable digest of it, marked with a `#` that no plain key starts with.
 */
export function salesforceVisitKey(visitKey: string): string {
  if (visitKey.length <= VISIT_KEY_MAX) return visitKey
  return `#${createHash('sha256').update(visitKey).digest('base64url')}`
}

export function accountFields(
  rollup: RollupRecordSource,
  syncedAtMs: number,
): Record<string, unknown> {
  return {
    Footfall_Visit_Count__c: rollup.visit_count,
    Footfall_Visits_30d__c: rollup.visits_30d,
    Footfall_First_Visit__c: iso(rollup.first_visit_ms),
    Footfall_Last_Visit__c: iso(rollup.last_visit_ms),
    Footfall_Last_Store__c: (rollup.last_store_id ?? UNKNOWN_STORE).slice(0, STORE_MAX),
    Footfall_Avg_TIS_Minutes__c: rollup.avg_tis_minutes,
    Footfall_Total_Spend__c: amount(rollup.total_spend_cents),
    Footfall_Purchase_Visits__c: rollup.purchase_visits,
    // Salesforce stores an empty text as null; sending null says the same thing plainly.
    Footfall_Top_Brands__c: fitList(rollup.top_brands) || null,
    Footfall_Synced_At__c: new Date(syncedAtMs).toISOString(),
  }
}

/** Items as JSON, dropping whole lines from the end (and saying so) past the Long Text limit. */
export function fitItems(itemsJson: string, max = LONG_TEXT_MAX): string {
  if (itemsJson.length <= max) return itemsJson
  const items = JSON.parse(itemsJson) as unknown[]
  let keep = items.length
  let text = itemsJson
  while (keep > 0 && text.length > max) {
    keep = Math.floor(keep * 0.9)
    text = JSON.stringify([...items.slice(0, keep), { truncated: items.length - keep }])
  }
  return text.length <= max ? text : JSON.stringify([{ truncated: items.length }])
}

export function visitFields(visit: VisitRecordSource, accountId: string): Record<string, unknown> {
  return {
    Visit_Key__c: salesforceVisitKey(visit.visit_key),
    Account__c: accountId,
    Store_Id__c: (visit.store_id ?? UNKNOWN_STORE).slice(0, STORE_MAX),
    Entered_At__c: iso(visit.entered_ms),
    Exited_At__c: iso(visit.exited_ms),
    Time_In_Store_Minutes__c: visit.tis_ms === null ? null : Math.round(visit.tis_ms / 600) / 100,
    Spend__c: amount(visit.spend_cents),
    Brands__c: fitList(visit.brands) || null,
    Items__c: fitItems(visit.items_json),
    Status__c: visit.status,
  }
}
