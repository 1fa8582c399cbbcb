import type { ReadableDB, WritableDB } from '../store/database'
import type { DerivedAlert, Severity } from './rules'

export type AlertState = 'open' | 'retrying' | 'resolved' | 'dismissed'
export type AlertScope = 'customer' | 'stream' | 'quarantine' | 'run'

/** An alerts row as stored. */
export interface AlertRow extends DerivedAlert {
  scope: AlertScope
  quarantine_seq: number | null
  state: AlertState
  state_changed_ms: number
}

const DERIVED_FIELDS = [
  'kind',
  'severity',
  'customer_id',
  'visit_key',
  'event_id',
  'store_id',
  'message',
  'first_seen_ms',
  'last_seen_ms',
  'count',
] as const

/**
 * Writes derived alerts while keeping what people decided: a dismissed alert stays dismissed
 * whatever the data says (so a rebuild never brings it back), everything else follows the data.
 */
export class AlertWriter {
  private readonly getOne
  private readonly insert
  private readonly update
  private readonly setState
  private readonly byScope

  constructor(
    db: WritableDB,
    private readonly clock: () => number,
  ) {
    this.getOne = db.prepare('SELECT * FROM alerts WHERE key = ?')
    this.insert = db.prepare(`
      INSERT INTO alerts (key, kind, severity, scope, customer_id, visit_key, event_id, store_id,
                          quarantine_seq, message, first_seen_ms, last_seen_ms, count, state,
                          state_changed_ms)
      VALUES (@key, @kind, @severity, @scope, @customer_id, @visit_key, @event_id, @store_id,
              @quarantine_seq, @message, @first_seen_ms, @last_seen_ms, @count, @state,
              @state_changed_ms)`)
    this.update = db.prepare(`
      UPDATE alerts SET kind = @kind, severity = @severity, customer_id = @customer_id,
        visit_key = @visit_key, event_id = @event_id, store_id = @store_id, message = @message,
        first_seen_ms = @first_seen_ms, last_seen_ms = @last_seen_ms, count = @count,
        state = @state, state_changed_ms = @state_changed_ms
      WHERE key = @key`)
    this.setState = db.prepare(
      'UPDATE alerts SET state = ?, state_changed_ms = ? WHERE key = ? AND state != ?',
    )
    this.byScope = db.prepare('SELECT * FROM alerts WHERE scope = ?')
  }

  /** Writes one alert as the data says it should be: present (open) or gone (resolved). */
  put(
    alert: DerivedAlert,
    scope: AlertScope,
    wanted: 'open' | 'resolved',
    quarantineSeq: number | null = null,
    existing?: AlertRow,
  ): void {
    const old = existing ?? (this.getOne.get(alert.key) as AlertRow | undefined)
    const now = this.clock()
    if (!old) {
      this.insert.run({
        ...alert,
        scope,
        quarantine_seq: quarantineSeq,
        state: wanted,
        state_changed_ms: now,
      })
      return
    }
    const state: AlertState = old.state === 'dismissed' ? 'dismissed' : wanted
    const changed = state !== old.state || DERIVED_FIELDS.some((f) => old[f] !== alert[f])
    if (!changed) return
    this.update.run({
      ...alert,
      state,
      state_changed_ms: state === old.state ? old.state_changed_ms : now,
    })
  }

  /** Resolves an alert whose cause is gone (a dismissed one stays dismissed). */
  resolve(key: string): void {
    const old = this.getOne.get(key) as AlertRow | undefined
    if (!old || old.state === 'resolved' || old.state === 'dismissed') return
    this.setState.run('resolved', this.clock(), key, 'resolved')
  }

  /**
   * Sets a customer's derived alerts to exactly `alerts`, given the ones stored now (scope
   * 'customer'): new ones open, vanished ones resolve.
   */
  replaceCustomer(alerts: readonly DerivedAlert[], stored: readonly AlertRow[]): void {
    const existing = new Map(stored.map((a) => [a.key, a] as const))
    for (const a of alerts) {
      this.put(a, 'customer', 'open', null, existing.get(a.key))
      existing.delete(a.key)
    }
    for (const old of existing.values()) this.resolve(old.key)
  }

  ofKey(key: string): AlertRow | undefined {
    return this.getOne.get(key) as AlertRow | undefined
  }

  /** Alerts of a scope, for rebuilds that recompute a whole scope at once. */
  ofScope(scope: AlertScope): AlertRow[] {
    return this.byScope.all(scope) as AlertRow[]
  }

  markRetrying(key: string): void {
    const old = this.getOne.get(key) as AlertRow | undefined
    if (!old || old.state === 'dismissed') return
    this.setState.run('retrying', this.clock(), key, 'retrying')
  }
}

/** A person's decision on an alert. Dismissed survives rebuilds; reopening undoes it. */
export function setAlertDismissed(db: WritableDB, key: string, dismissed: boolean): boolean {
  const now = Date.now()
  const result = dismissed
    ? db
        .prepare(
          "UPDATE alerts SET state = 'dismissed', state_changed_ms = ? WHERE key = ? AND state != 'dismissed'",
        )
        .run(now, key)
    : db
        .prepare(
          "UPDATE alerts SET state = 'open', state_changed_ms = ? WHERE key = ? AND state = 'dismissed'",
        )
        .run(now, key)
  return result.changes === 1
}

export function readAlert(db: ReadableDB | WritableDB, key: string): AlertRow | undefined {
  return db.prepare('SELECT * FROM alerts WHERE key = ?').get(key) as AlertRow | undefined
}

export type { Severity }
