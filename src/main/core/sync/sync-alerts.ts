import type { AlertWriter } from '../processing/alert-store'

/**
 * The sync's alerts, written by processing's AlertWriter into the same `alerts` table, so the
 * console shows one list and a dismissed alert stays dismissed. Record failures are grouped by
 * kind and error code (a missing field fails every record the same way; one alert with a count
 * and an example says it once).
 */
export interface SyncAlert {
  key: string
  kind: string
  severity: 'info' | 'warning' | 'error'
  message: string
  count: number
  customerId?: string | null
}

export function raiseSyncAlert(alerts: AlertWriter, alert: SyncAlert, now: number): void {
  const old = alerts.ofKey(alert.key)
  const reopened = !old || old.state === 'resolved'
  alerts.put(
    {
      key: alert.key,
      kind: alert.kind,
      severity: alert.severity,
      customer_id: alert.customerId ?? null,
      visit_key: null,
      event_id: null,
      store_id: null,
      message: alert.message,
      first_seen_ms: reopened ? now : old.first_seen_ms,
      last_seen_ms: now,
      count: alert.count,
    },
    'run',
    'open',
    null,
    old,
  )
}

/** Resolves the sync alerts with this key prefix that are not in `keep`. */
export function resolveSyncAlertsExcept(
  alerts: AlertWriter,
  prefix: string,
  keep: Set<string>,
): void {
  for (const a of alerts.ofScope('run')) {
    if (a.key.startsWith(prefix) && !keep.has(a.key)) alerts.resolve(a.key)
  }
}
