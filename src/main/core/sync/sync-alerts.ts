import type { WritableDB } from '../store/database'

/**
 * The sync's alerts, in the same `alerts` table as processing's, so the console shows one list.
 * Record failures are grouped by kind and error code (a missing field fails every record the
 * same way; one alert with a count and an example says it once). A dismissed alert stays
 * dismissed; a resolved one opens again if the problem comes back.
 */
export interface SyncAlert {
  key: string
  kind: string
  severity: 'info' | 'warning' | 'error'
  message: string
  count: number
  customerId?: string | null
}

export function raiseSyncAlert(db: WritableDB, alert: SyncAlert, now: number): void {
  db.prepare(
    `INSERT INTO alerts (key, kind, severity, scope, customer_id, message, first_seen_ms, last_seen_ms,
                         count, state, state_changed_ms)
     VALUES (@key, @kind, @severity, 'run', @customer, @message, @now, @now, @count, 'open', @now)
     ON CONFLICT (key) DO UPDATE SET severity = @severity, message = @message, last_seen_ms = @now,
       count = @count, customer_id = @customer,
       state = CASE WHEN state = 'dismissed' THEN 'dismissed' ELSE 'open' END,
       state_changed_ms = CASE WHEN state IN ('open', 'dismissed') THEN state_changed_ms ELSE @now END`,
  ).run({ ...alert, customer: alert.customerId ?? null, now })
}

export function resolveSyncAlert(db: WritableDB, key: string, now: number): void {
  db.prepare(
    `UPDATE alerts SET state = 'resolved', state_changed_ms = ? WHERE key = ? AND state IN ('open', 'retrying')`,
  ).run(now, key)
}

/** Resolves the sync alerts with this key prefix that are not in `keep`. */
export function resolveSyncAlertsExcept(
  db: WritableDB,
  prefix: string,
  keep: Set<string>,
  now: number,
): void {
  const keys = db
    .prepare(`SELECT key FROM alerts WHERE key LIKE ? AND state IN ('open', 'retrying')`)
    .all(`${prefix}%`) as { key: string }[]
  for (const { key } of keys) if (!keep.has(key)) resolveSyncAlert(db, key, now)
}
