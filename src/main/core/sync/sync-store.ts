import type Database from 'better-sqlite3'
import type { WritableDB } from '../store/database'
import type { RollupRecordSource, VisitRecordSource } from './field-mapping'

/** SQL of the sync's own tables (migration 0003), kept out of the engine's logic. */

export type SyncKind = 'account' | 'visit' | 'visit_removal'
export type SyncState = 'synced' | 'retrying' | 'failed' | 'unmatched'

export interface SyncRecordRow {
  kind: SyncKind
  key: string
  customer_id: string
  state: SyncState
  synced_version: number
  attempted_version: number
  attempts: number
  next_attempt_ms: number | null
  error_code: string | null
  error_message: string | null
  error_fields: string | null
  sf_id: string | null
}

/** One record to write in this run, whatever brought it here (a change, a retry, a match). */
export interface WorkItem<Row> {
  kind: SyncKind
  key: string
  customerId: string
  version: number
  row: Row
  prior: SyncRecordRow | null
}

/** What a sync run did, as stored in `sync_runs` and returned to its caller. */
export interface SyncRunReport {
  runId: number
  outcome: 'ok' | 'partial' | 'paused' | 'failed'
  mode: string | null
  accountsWritten: number
  visitsWritten: number
  failed: number
  waiting: number
  apiCalls: number
  message: string | null
}

export interface RemovalRow {
  visit_key: string
  customer_id: string
}

export class SyncStore {
  private readonly statements = new Map<string, Database.Statement>()

  constructor(private readonly db: WritableDB) {}

  /** A prepared statement, prepared once: a run may touch 100,000 records. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text)
    if (!statement) {
      statement = this.db.prepare(text)
      this.statements.set(text, statement)
    }
    return statement
  }

  cursor(kind: SyncKind): number {
    return (
      this.sql('SELECT version FROM sync_cursors WHERE kind = ?').get(kind) as {
        version: number
      }
    ).version
  }

  setCursor(kind: SyncKind, version: number): void {
    this.sql('UPDATE sync_cursors SET version = max(version, ?) WHERE kind = ?').run(version, kind)
  }

  resetCursors(): void {
    this.sql('UPDATE sync_cursors SET version = 0').run()
  }

  private record(kind: SyncKind, key: string): SyncRecordRow | null {
    return (
      (this.sql('SELECT * FROM sync_records WHERE kind = ? AND key = ?').get(kind, key) as
        SyncRecordRow | undefined) ?? null
    )
  }

  /**
   * Changed rollups after the cursor, then rollups due for a retry or waiting for their Account,
   * each once; at most `limit` (the rest stay for the next run).
   */
  accountWork(limit: number, now: number): WorkItem<RollupRecordSource>[] {
    const changed = this.sql(
      'SELECT * FROM customer_rollups WHERE version > ? ORDER BY version LIMIT ?',
    ).all(this.cursor('account'), limit) as (RollupRecordSource & { version: number })[]
    const pending = this.sql(
      `SELECT r.* FROM sync_records s JOIN customer_rollups r ON r.customer_id = s.key
         WHERE s.kind = 'account' AND r.version <= ?
           AND ((s.state = 'retrying' AND s.next_attempt_ms <= ?) OR s.state = 'unmatched')
         LIMIT ?`,
    ).all(this.cursor('account'), now, limit) as (RollupRecordSource & { version: number })[]
    return this.toWork('account', [...changed, ...pending], (r) => r.customer_id, limit)
  }

  visitWork(limit: number, now: number): WorkItem<VisitRecordSource>[] {
    const changed = this.sql('SELECT * FROM visits WHERE version > ? ORDER BY version LIMIT ?').all(
      this.cursor('visit'),
      limit,
    ) as (VisitRecordSource & { version: number })[]
    const pending = this.sql(
      `SELECT v.* FROM sync_records s JOIN visits v ON v.visit_key = s.key
         WHERE s.kind = 'visit' AND v.version <= ?
           AND ((s.state = 'retrying' AND s.next_attempt_ms <= ?) OR s.state = 'unmatched')
         LIMIT ?`,
    ).all(this.cursor('visit'), now, limit) as (VisitRecordSource & { version: number })[]
    return this.toWork('visit', [...changed, ...pending], (v) => v.visit_key, limit)
  }

  removalWork(limit: number, now: number): WorkItem<RemovalRow>[] {
    const changed = this.sql(
      'SELECT * FROM visit_removals WHERE version > ? ORDER BY version LIMIT ?',
    ).all(this.cursor('visit_removal'), limit) as (RemovalRow & { version: number })[]
    const pending = this.sql(
      `SELECT r.* FROM sync_records s JOIN visit_removals r ON r.visit_key = s.key
         WHERE s.kind = 'visit_removal' AND r.version <= ? AND s.state = 'retrying' AND s.next_attempt_ms <= ?
         LIMIT ?`,
    ).all(this.cursor('visit_removal'), now, limit) as (RemovalRow & { version: number })[]
    return this.toWork('visit_removal', [...changed, ...pending], (r) => r.visit_key, limit)
  }

  private toWork<Row extends { customer_id: string; version: number }>(
    kind: SyncKind,
    rows: Row[],
    keyOf: (row: Row) => string,
    limit: number,
  ): WorkItem<Row>[] {
    const seen = new Set<string>()
    const out: WorkItem<Row>[] = []
    for (const row of rows) {
      const key = keyOf(row)
      if (seen.has(key) || out.length >= limit) continue
      seen.add(key)
      out.push({
        kind,
        key,
        customerId: row.customer_id,
        version: row.version,
        row,
        prior: this.record(kind, key),
      })
    }
    return out
  }

  /** Whether Salesforce holds this visit (so its removal needs an API call). */
  visitSfId(visitKey: string): string | null {
    const row = this.sql(
      "SELECT sf_id FROM sync_records WHERE kind = 'visit' AND key = ? AND synced_version > 0",
    ).get(visitKey) as { sf_id: string | null } | undefined
    return row?.sf_id ?? null
  }

  markSynced(item: WorkItem<unknown>, sfId: string | null, now: number): void {
    this.sql(
      `INSERT INTO sync_records (kind, key, customer_id, state, synced_version, attempted_version,
                                   attempts, next_attempt_ms, sf_id, last_attempt_ms, synced_ms)
         VALUES (@kind, @key, @customer, 'synced', @version, @version, 0, NULL, @sfId, @now, @now)
         ON CONFLICT (kind, key) DO UPDATE SET state = 'synced',
           synced_version = max(synced_version, @version), attempted_version = @version, attempts = 0,
           next_attempt_ms = NULL, error_code = NULL, error_message = NULL, error_fields = NULL,
           sf_id = coalesce(@sfId, sf_id), last_attempt_ms = @now, synced_ms = @now`,
    ).run({
      kind: item.kind,
      key: item.key,
      customer: item.customerId,
      version: item.version,
      sfId,
      now,
    })
  }

  markUnsynced(
    item: WorkItem<unknown>,
    state: Exclude<SyncState, 'synced'>,
    attempts: number,
    nextAttemptMs: number | null,
    error: { code: string; message: string; fields: string[] } | null,
    now: number,
  ): void {
    this.sql(
      `INSERT INTO sync_records (kind, key, customer_id, state, attempted_version, attempts,
                                   next_attempt_ms, error_code, error_message, error_fields, last_attempt_ms)
         VALUES (@kind, @key, @customer, @state, @version, @attempts, @next, @code, @message, @fields, @now)
         ON CONFLICT (kind, key) DO UPDATE SET state = @state, attempted_version = @version,
           attempts = @attempts, next_attempt_ms = @next, error_code = @code, error_message = @message,
           error_fields = @fields, last_attempt_ms = @now`,
    ).run({
      kind: item.kind,
      key: item.key,
      customer: item.customerId,
      state,
      version: item.version,
      attempts,
      next: nextAttemptMs,
      code: error?.code ?? null,
      message: error?.message ?? null,
      fields: error && error.fields.length > 0 ? error.fields.join(',') : null,
      now,
    })
  }

  transaction(fn: () => void): void {
    this.db.transaction(fn)()
  }

  startRun(trigger: string, now: number): number {
    return Number(
      this.sql("INSERT INTO sync_runs (started_ms, trigger, outcome) VALUES (?, ?, 'running')").run(
        now,
        trigger,
      ).lastInsertRowid,
    )
  }

  finishRun(
    report: SyncRunReport & { orgUsed: number | null; orgMax: number | null; errors: unknown[] },
    now: number,
  ): void {
    this.sql(
      `UPDATE sync_runs SET ended_ms = @now, outcome = @outcome, mode = @mode,
           accounts_written = @accountsWritten, visits_written = @visitsWritten,
           records_failed = @failed, records_waiting = @waiting, api_calls = @apiCalls,
           org_used = @orgUsed, org_max = @orgMax, message = @message, errors_json = @errors
         WHERE id = @id`,
    ).run({ ...report, errors: JSON.stringify(report.errors.slice(0, 50)), id: report.runId, now })
  }
}
