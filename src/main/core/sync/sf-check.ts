import { classifySfError } from './salesforce-errors'
import { ACCOUNT_FIELDS, CUSTOMER_ID_FIELD, VISIT_FIELDS, VISIT_OBJECT } from './salesforce-schema'
import type { RequiredField } from './salesforce-schema'
import { isExternalId, setupText } from './salesforce-schema'
import { errorInfo, SfSession } from './sf-session'
import type { SalesforceSettings } from './settings'

export interface SetupCheck {
  ok: boolean
  login: { ok: boolean; message: string }
  /** What the admin still has to do, one line each; empty when the org is ready. */
  missing: string[]
  orgUsage: { used: number; max: number } | null
}

type Described = { name: string; externalId: boolean; updateable: boolean; createable: boolean }

function checkFields(
  object: string,
  described: Described[] | null,
  required: readonly RequiredField[],
): string[] {
  if (!described) {
    return [
      `create the custom object ${object} (child of Account), with: ${required.map((f) => `${f.name} ${setupText(f.shape)}`).join('; ')}`,
    ]
  }
  const byName = new Map(described.map((f) => [f.name, f]))
  const out: string[] = []
  for (const field of required) {
    const found = byName.get(field.name)
    if (!found)
      out.push(`add ${object}.${field.name}: ${setupText(field.shape)} (label "${field.label}")`)
    else if (isExternalId(field) && !found.externalId)
      out.push(`mark ${object}.${field.name} as External ID (and Unique)`)
    else if (!isExternalId(field) && !found.updateable) {
      out.push(
        `make ${object}.${field.name} editable for the integration user (field-level security)`,
      )
    } else if (isExternalId(field) && object === VISIT_OBJECT && !found.createable) {
      out.push(
        `make ${object}.${field.name} editable for the integration user (field-level security)`,
      )
    }
  }
  return out
}

/**
 * `footfall sf-check`: logs in, then checks that the org has what the sync writes, and lists
 * what the admin still has to add. Read-only: it costs a few API calls and writes nothing.
 */
export async function checkSalesforceSetup(settings: SalesforceSettings): Promise<SetupCheck> {
  let session: SfSession
  try {
    session = await SfSession.login(settings)
  } catch (error) {
    const info = errorInfo(error)
    return {
      ok: false,
      login: {
        ok: false,
        message: `${info.code}: ${info.message}. ${classifySfError(info.code, info.message).advice}`,
      },
      missing: [],
      orgUsage: null,
    }
  }
  const describe = async (object: string): Promise<Described[] | null> => {
    try {
      return (await session.describe(object)).fields
    } catch (error) {
      const code = errorInfo(error).code
      if (code === 'NOT_FOUND' || code === 'INVALID_TYPE' || code === '404') return null
      throw error
    }
  }
  const account = await describe('Account')
  const missing: string[] = []
  if (!account) missing.push('the integration user cannot read Account: grant it access')
  else {
    missing.push(
      ...checkFields('Account', account, [CUSTOMER_ID_FIELD]).map(
        (m) => `${m} (Footfall matches customers on it)`,
      ),
    )
    missing.push(...checkFields('Account', account, ACCOUNT_FIELDS))
  }
  missing.push(...checkFields(VISIT_OBJECT, await describe(VISIT_OBJECT), VISIT_FIELDS))
  const usage = session.usage()
  return {
    ok: missing.length === 0,
    login: { ok: true, message: `logged in to ${session.conn.instanceUrl}` },
    missing,
    orgUsage: usage,
  }
}
