import { classifyBody } from '../ingest/classify-body'
import type { WritableDB } from '../store/database'
import { EventStore } from '../store/event-store'
import { AlertWriter } from './alert-store'
import type { FailureCode } from './rules'

/**
 * What a person can do about what processing could not do: retry failed events, and correct and
 * replay quarantined bodies. These only change inputs or ask for a recompute; the results
 * themselves always come from the next processing run, by the same rules as everything else.
 */

export interface RetryResult {
  /** Failures now marked `retrying`; the next processing run settles them. */
  failures: number
  customers: number
}

/** Asks the next run to process a failed event again (with its customer's other events). */
export function retryFailure(db: WritableDB, eventSeq: number): RetryResult {
  return retryWhere(db, 'event_seq = ?', eventSeq)
}

/** Asks the next run to process every unresolved failure of a kind again. */
export function retryFailuresOfKind(db: WritableDB, code: FailureCode): RetryResult {
  return retryWhere(db, 'code = ?', code)
}

function retryWhere(db: WritableDB, where: string, value: string | number): RetryResult {
  const alerts = new AlertWriter(db, Date.now)
  return db
    .transaction(() => {
      const rows = db
        .prepare(
          `SELECT event_seq, event_id, customer_id FROM processing_failures
         WHERE ${where} AND state != 'resolved'`,
        )
        .all(value) as { event_seq: number; event_id: string; customer_id: string }[]
      const markRetrying = db.prepare(
        "UPDATE processing_failures SET state = 'retrying' WHERE event_seq = ?",
      )
      const requeue = db.prepare(
        'INSERT INTO processing_requeue (customer_id, requested_ms) VALUES (?, ?) ON CONFLICT DO NOTHING',
      )
      const customers = new Set<string>()
      const now = Date.now()
      for (const r of rows) {
        markRetrying.run(r.event_seq)
        alerts.markRetrying(`processing_failure:${r.event_id}`)
        requeue.run(r.customer_id, now)
        customers.add(r.customer_id)
      }
      return { failures: rows.length, customers: customers.size }
    })
    .immediate()
}

export type ReplayOutcome =
  { outcome: 'stored' | 'duplicate'; eventId: string } | { outcome: 'rejected'; reason: string }

export class ReplayError extends Error {
  constructor(
    readonly code: 'quarantine_not_found' | 'already_replayed',
    message: string,
  ) {
    super(message)
    this.name = 'ReplayError'
  }
}

/**
 * Replays a corrected quarantined body through the same validation as live traffic
 * (classifyBody) and the same insert (EventStore), so the event is stored exactly as if it had
 * arrived valid: a duplicate id counts as a duplicate. The original bytes stay in `quarantine`;
 * the correction and its outcome go to `quarantine_replays`. All in one transaction.
 */
export function replayQuarantined(
  db: WritableDB,
  quarantineSeq: number,
  correctedBody: string | Buffer,
  receivedMs = Date.now(),
): ReplayOutcome {
  const store = new EventStore(db)
  const alerts = new AlertWriter(db, Date.now)
  const corrected =
    typeof correctedBody === 'string' ? Buffer.from(correctedBody, 'utf8') : correctedBody
  return db
    .transaction((): ReplayOutcome => {
      const q = db
        .prepare('SELECT seq, content_type FROM quarantine WHERE seq = ?')
        .get(quarantineSeq) as { seq: number; content_type: string | null } | undefined
      if (!q) {
        throw new ReplayError(
          'quarantine_not_found',
          `there is no quarantined payload #${quarantineSeq}; list the quarantine alerts to find it`,
        )
      }
      const prior = db
        .prepare(
          'SELECT state, event_id, attempts FROM quarantine_replays WHERE quarantine_seq = ?',
        )
        .get(quarantineSeq) as
        { state: string; event_id: string | null; attempts: number } | undefined
      if (prior && prior.state !== 'rejected') {
        throw new ReplayError(
          'already_replayed',
          `quarantined payload #${quarantineSeq} was already replayed as event ${prior.event_id ?? '?'}; nothing to do`,
        )
      }
      const op = classifyBody(corrected, q.content_type, receivedMs)
      const attempts = (prior?.attempts ?? 0) + 1
      const record = db.prepare(`
      INSERT INTO quarantine_replays (quarantine_seq, state, corrected_raw, event_id, reason,
                                      attempts, replayed_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (quarantine_seq) DO UPDATE SET state = excluded.state,
        corrected_raw = excluded.corrected_raw, event_id = excluded.event_id,
        reason = excluded.reason, attempts = excluded.attempts, replayed_ms = excluded.replayed_ms`)
      if (op.kind !== 'event') {
        const reason = op.kind === 'quarantine' ? op.reason : 'not an event'
        record.run(quarantineSeq, 'rejected', corrected, null, reason, attempts, Date.now())
        return { outcome: 'rejected', reason }
      }
      const [outcome] = store.commit([op])
      const state = outcome === 'duplicate' ? 'duplicate' : 'stored'
      record.run(quarantineSeq, state, corrected, op.row.id, null, attempts, Date.now())
      alerts.resolve(`quarantined_payload:${quarantineSeq}`)
      return { outcome: state, eventId: op.row.id }
    })
    .immediate()
}
