/**
 * What a Salesforce error means for the sync engine: whether a retry can cure it, and what a
 * person has to do when it cannot (SALESFORCE.md, "Errors a sync engine meets").
 */
export type SfErrorKind =
  | 'daily_limit' // the org's 24-hour allowance is spent: wait for the window, do not hammer
  | 'transient' // lock contention, unavailability, concurrency limits, network: back off, retry
  | 'session' // expired or invalid session: refresh the login, then retry
  | 'record' // this record's data or the org's setup is wrong: a person must act
  | 'config' // credentials or connection settings are wrong: a person must act

export interface SfErrorClass {
  kind: SfErrorKind
  retryable: boolean
  /** Retries worth making before the error becomes an alert. */
  maxAttempts: number
  /** What to do about it, in words for the integration owner. */
  advice: string
}

const TRANSIENT_ATTEMPTS = 6

const RECORD_ADVICE: Record<string, string> = {
  DUPLICATE_VALUE:
    'another record already has this unique value: merge or correct the duplicate in Salesforce, then retry',
  INVALID_FIELD:
    'the org does not have this field, or Footfall cannot see it: add the field and grant access (README: Salesforce setup), then retry',
  INVALID_FIELD_FOR_INSERT_UPDATE:
    'the field is not writable for the integration user: make it editable in the field-level security, then retry',
  FIELD_CUSTOM_VALIDATION_EXCEPTION:
    "a validation rule in the org rejected the record: change the rule or the record's data, then retry",
  REQUIRED_FIELD_MISSING:
    'the org requires a field Footfall does not fill: relax the requirement for the integration, then retry',
  STRING_TOO_LONG:
    'a value is longer than the field allows: widen the field in Salesforce, then retry',
  MALFORMED_ID: 'a record id is malformed: re-match the customer (resync), then retry',
  NOT_FOUND:
    'the object, field or record was not found: check the Salesforce setup (README) and that the Account still exists',
  ENTITY_IS_DELETED:
    'the Account was deleted: the customer is unmatched until an Account has its id again',
  INVALID_CROSS_REFERENCE_KEY:
    'the lookup points at a record that does not exist: re-match the customer (resync), then retry',
  INVALID_TYPE_ON_FIELD_IN_RECORD:
    'a value does not fit the field type in the org: compare the field types with the README, then retry',
  INVALID_TYPE:
    'the object does not exist in the org: deploy Footfall_Visit__c (README: Salesforce setup)',
  MALFORMED_QUERY: 'Footfall sent a query Salesforce refused: report this as a bug',
  INSUFFICIENT_ACCESS_OR_READONLY:
    'the integration user may not edit this record: share it or grant edit access, then retry',
  CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY:
    'a trigger or flow in the org failed on this record: fix the automation, then retry',
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
])

export function classifySfError(code: string | undefined, message = ''): SfErrorClass {
  switch (code) {
    case 'REQUEST_LIMIT_EXCEEDED':
      return /TotalRequests Limit exceeded/i.test(message)
        ? {
            kind: 'daily_limit',
            retryable: true,
            maxAttempts: Number.POSITIVE_INFINITY,
            advice:
              'the org spent its daily API allowance: sync resumes as the 24-hour window frees calls',
          }
        : transient('Salesforce is limiting concurrent requests: retrying with backoff')
    case 'UNABLE_TO_LOCK_ROW':
      return transient('another process held the record lock: retrying with backoff')
    case 'SERVER_UNAVAILABLE':
      return transient('Salesforce is unavailable: retrying with backoff')
    case 'UNKNOWN_EXCEPTION':
      return {
        kind: 'transient',
        retryable: true,
        maxAttempts: 3,
        advice:
          'Salesforce failed with an internal error: retried a few times; if it persists, open a case with Salesforce quoting the error id',
      }
    case 'ALL_OR_NONE_OPERATION_ROLLED_BACK':
      return transient('rolled back because another record in the same request failed: retrying')
    case 'INVALID_SESSION_ID':
      return {
        kind: 'session',
        retryable: true,
        maxAttempts: 2,
        advice:
          'the session expired or was revoked: Footfall logs in again; if this repeats, check the user, its password and the connected app',
      }
    case 'invalid_grant':
    case 'invalid_client':
    case 'invalid_client_id':
    case 'unsupported_grant_type':
      return {
        kind: 'config',
        retryable: false,
        maxAttempts: 1,
        advice: `Salesforce refused the login (${code}): check --sf-username, --sf-password, --sf-client-id and --sf-client-secret, and that the connected app allows this flow`,
      }
  }
  if (code && NETWORK_CODES.has(code)) {
    return transient('Salesforce could not be reached: retrying with backoff')
  }
  if (code && /^5\d\d$/.test(code))
    return transient(`Salesforce answered HTTP ${code}: retrying with backoff`)
  const advice = code ? RECORD_ADVICE[code] : undefined
  return {
    kind: 'record',
    retryable: false,
    maxAttempts: 1,
    advice:
      advice ?? 'Salesforce refused the record: read its message, correct the cause, then retry',
  }
}

function transient(advice: string): SfErrorClass {
  return { kind: 'transient', retryable: true, maxAttempts: TRANSIENT_ATTEMPTS, advice }
}
