import type { ReadableDB, WritableDB } from '../store/database'

export interface ProcessingStats {
  visits: number
  open_visits: number
  customers: number
  alerts_open: number
  processing_failed: number
  /** Stored events not processed yet. */
  processing_pending: number
  /** The last processed event (by arrival) and the stream's high-water mark; null before any. */
  processed_through: { seq: number; high_water: string | null } | null
  rebuild_in_progress: boolean
}

/** Processing's counters for `footfall stats`; works on a read-only connection beside serve. */
export function readProcessingStats(db: ReadableDB | WritableDB): ProcessingStats {
  const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n
  const state = db
    .prepare('SELECT cursor_seq, now_ms, rebuild_target_seq FROM processing_state WHERE id = 1')
    .get() as { cursor_seq: number; now_ms: number | null; rebuild_target_seq: number | null }
  const pending = db
    .prepare('SELECT count(*) AS n FROM events WHERE seq > ?')
    .get(state.cursor_seq) as { n: number }
  return {
    visits: count('SELECT count(*) AS n FROM visits'),
    open_visits: count("SELECT count(*) AS n FROM visits WHERE status = 'open'"),
    customers: count('SELECT count(*) AS n FROM customer_rollups'),
    alerts_open: count("SELECT count(*) AS n FROM alerts WHERE state IN ('open', 'retrying')"),
    processing_failed: count(
      "SELECT count(*) AS n FROM processing_failures WHERE state != 'resolved'",
    ),
    processing_pending: pending.n,
    processed_through:
      state.cursor_seq === 0
        ? null
        : {
            seq: state.cursor_seq,
            high_water: state.now_ms === null ? null : new Date(state.now_ms).toISOString(),
          },
    rebuild_in_progress: state.rebuild_target_seq !== null,
  }
}
