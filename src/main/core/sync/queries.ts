import type { ReadableDB, WritableDB } from '../store/database'

type AnyDB = ReadableDB | WritableDB

const DAY_MS = 24 * 3_600_000

export interface SyncStats {
  accounts_synced: number
  sync_pending: number
  sync_failed: number
  unmatched_customers: number
  api_calls_today: number
  /** Calls a day at the traffic of the last hour. */
  api_calls_forecast_per_day: number
}

function hasSyncTables(db: AnyDB): boolean {
  return Boolean(
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_records'").get(),
  )
}

/** The sync's counters for `footfall stats` ("today": the last 24 hours, like the org's window). */
export function readSyncStats(db: AnyDB, now = Date.now()): SyncStats {
  if (!hasSyncTables(db)) {
    return {
      accounts_synced: 0,
      sync_pending: 0,
      sync_failed: 0,
      unmatched_customers: 0,
      api_calls_today: 0,
      api_calls_forecast_per_day: 0,
    }
  }
  const one = (sql: string, ...args: unknown[]): number =>
    (db.prepare(sql).get(...args) as { n: number | null }).n ?? 0
  const cursor = (kind: string): number =>
    one('SELECT version AS n FROM sync_cursors WHERE kind = ?', kind)
  const changedRollups = one(
    'SELECT count(*) AS n FROM customer_rollups WHERE version > ?',
    cursor('account'),
  )
  const changedVisits = one('SELECT count(*) AS n FROM visits WHERE version > ?', cursor('visit'))
  return {
    accounts_synced: one(
      "SELECT count(*) AS n FROM sync_records WHERE kind = 'account' AND synced_version > 0",
    ),
    // Written by the coming runs without anyone acting; unmatched customers wait for a person
    // (their Account) and are counted apart.
    sync_pending:
      changedRollups +
      changedVisits +
      one("SELECT count(*) AS n FROM sync_records WHERE state = 'retrying'"),
    sync_failed: one("SELECT count(*) AS n FROM sync_records WHERE state = 'failed'"),
    unmatched_customers: one(
      "SELECT count(DISTINCT customer_id) AS n FROM sync_records WHERE state = 'unmatched'",
    ),
    api_calls_today: one(
      'SELECT sum(api_calls) AS n FROM sync_runs WHERE started_ms > ?',
      now - DAY_MS,
    ),
    api_calls_forecast_per_day: apiBudget(db, now).forecastPerDay,
  }
}

export interface SyncRunDto {
  id: number
  startedAt: string
  endedAt: string | null
  trigger: string
  outcome: string
  mode: string | null
  accountsWritten: number
  visitsWritten: number
  recordsFailed: number
  recordsWaiting: number
  apiCalls: number
  orgUsed: number | null
  orgMax: number | null
  message: string | null
}

export function recentSyncRuns(db: AnyDB, limit = 20): SyncRunDto[] {
  if (!hasSyncTables(db)) return []
  const rows = db.prepare('SELECT * FROM sync_runs ORDER BY id DESC LIMIT ?').all(limit) as Record<
    string,
    unknown
  >[]
  return rows.map((r) => ({
    id: r.id as number,
    startedAt: new Date(r.started_ms as number).toISOString(),
    endedAt: r.ended_ms === null ? null : new Date(r.ended_ms as number).toISOString(),
    trigger: r.trigger as string,
    outcome: r.outcome as string,
    mode: r.mode as string | null,
    accountsWritten: r.accounts_written as number,
    visitsWritten: r.visits_written as number,
    recordsFailed: r.records_failed as number,
    recordsWaiting: r.records_waiting as number,
    apiCalls: r.api_calls as number,
    orgUsed: r.org_used as number | null,
    orgMax: r.org_max as number | null,
    message: r.message as string | null,
  }))
}

export interface RecordSyncDto {
  kind: string
  key: string
  state: string
  syncedVersion: number
  attempts: number
  nextAttemptAt: string | null
  error: { code: string; message: string | null; fields: string[] } | null
  salesforceId: string | null
  syncedAt: string | null
}

/** Each of a customer's records as Salesforce last saw them: the Account and the visits. */
export function customerSyncState(
  db: AnyDB,
  customerId: string,
): { accountId: string | null; records: RecordSyncDto[] } {
  if (!hasSyncTables(db)) return { accountId: null, records: [] }
  const match = db
    .prepare('SELECT account_id FROM sf_accounts WHERE customer_id = ?')
    .get(customerId) as { account_id: string | null } | undefined
  const rows = db
    .prepare('SELECT * FROM sync_records WHERE customer_id = ? ORDER BY kind, key')
    .all(customerId) as Record<string, unknown>[]
  return {
    accountId: match?.account_id ?? null,
    records: rows.map((r) => ({
      kind: r.kind as string,
      key: r.key as string,
      state: r.state as string,
      syncedVersion: r.synced_version as number,
      attempts: r.attempts as number,
      nextAttemptAt:
        r.next_attempt_ms === null ? null : new Date(r.next_attempt_ms as number).toISOString(),
      error:
        r.error_code === null
          ? null
          : {
              code: r.error_code as string,
              message: r.error_message as string | null,
              fields: r.error_fields ? (r.error_fields as string).split(',') : [],
            },
      salesforceId: r.sf_id as string | null,
      syncedAt: r.synced_ms === null ? null : new Date(r.synced_ms as number).toISOString(),
    })),
  }
}

export interface ApiBudgetDto {
  callsLastHour: number
  callsToday: number
  /** Calls a day at the traffic of the last hour. */
  forecastPerDay: number
  orgUsed: number | null
  orgMax: number | null
}

export function apiBudget(db: AnyDB, now = Date.now()): ApiBudgetDto {
  if (!hasSyncTables(db))
    return { callsLastHour: 0, callsToday: 0, forecastPerDay: 0, orgUsed: null, orgMax: null }
  const sum = (since: number): number =>
    (
      db.prepare('SELECT sum(api_calls) AS n FROM sync_runs WHERE started_ms > ?').get(since) as {
        n: number | null
      }
    ).n ?? 0
  const last = db
    .prepare(
      'SELECT org_used, org_max FROM sync_runs WHERE org_max IS NOT NULL ORDER BY id DESC LIMIT 1',
    )
    .get() as { org_used: number; org_max: number } | undefined
  const lastHour = sum(now - 3_600_000)
  return {
    callsLastHour: lastHour,
    callsToday: sum(now - DAY_MS),
    forecastPerDay: lastHour * 24,
    orgUsed: last?.org_used ?? null,
    orgMax: last?.org_max ?? null,
  }
}
