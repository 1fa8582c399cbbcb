import type { WritableDB } from '../store/database'
import { EventIdSettler } from '../store/event-ids'
import { AlertWriter } from './alert-store'
import type { ProcessingConfig } from './config'
import { PROCESSING_DEFAULTS } from './config'
import {
  computeCustomer,
  computeCustomers,
  countsInTallies,
  FUTURE_TOLERANCE_MS,
} from './compute-customer'
import type { ComputedCustomer, TallyEvent } from './compute-customer'
import { CustomerReader } from './customer-reader'
import type { DerivedRows } from './customer-reader'
import type { CustomersAhead, OwnSide, RebuildKey } from './rebuild-ahead'
import type { CustomerResult, DerivedAlert, RollupRow, VisitRow } from './rules'

export interface ProcessingState {
  cursor_seq: number
  now_ms: number | null
  quarantine_cursor: number
  change_seq: number
  rebuild_target_seq: number | null
  rebuild_now_ms: number | null
  rebuild_after_customer: string | null
  last_run_ms: number | null
  /** `customer_events` holds every event with seq <= indexed_seq (migration 0005). */
  indexed_seq: number
  /** A rebuild's stream-wide tallies so far (JSON of StreamTallies). */
  rebuild_tallies: string | null
}

export interface BatchReport {
  kind: 'incremental' | 'rebuild'
  /** New events this batch moved the cursor over. */
  events: number
  customers: number
  visitsChanged: number
  rollupsChanged: number
  /** Events of the recomputed customers that failed processing. */
  failures: number
  /** True when this batch finished a rebuild. */
  rebuildDone: boolean
}

export interface ProcessorOptions {
  config?: ProcessingConfig
  /** Most new events one incremental batch (one transaction) takes. */
  maxEventsPerBatch?: number
  /** Most customers one rebuild batch (one transaction) recomputes. */
  maxCustomersPerBatch?: number
  /** Most events one batch copies into `customer_events` before a rebuild or catch-up. */
  maxIndexPerBatch?: number
  /** Stored event ids waiting before a batch starts settling them into `event_ids`. */
  settleIdsAfter?: number
  /**
   * How long a batch should hold the write lock (ingest commits wait for it): a rebuild batch
   * stops taking customers after this long; an incremental one takes as many events as the
   * rate measured so far does in this time.
   */
  maxBatchMs?: number
  /**
   * A backlog larger than this (and than a quarter of all events) is caught up customer by
   * customer, like a rebuild, instead of in arrival order: a cold store or a long outage would
   * otherwise recompute each customer once per batch its events are spread over.
   */
  catchUpAfterEvents?: number
  /**
   * When "now" moving alone (open visits going stale, visits leaving the 30-day window) changes
   * more customers than this in one batch, they are caught up customer by customer as well.
   */
  catchUpAfterCustomers?: number
  /** Wall clock, only for audit fields (never for the rules). */
  clock?: () => number
  /**
   * Starts what computes a rebuild's customers on another thread (rebuild-ahead.ts), for this
   * processor's config; without it, each batch computes its own. Called when a rebuild begins;
   * the processor closes it when the rebuild is done.
   */
  ahead?: (config: ProcessingConfig) => CustomersAhead | null
}

interface QuarantineRow {
  seq: number
  received_ms: number
  reason: string
  event_id: string | null
  customer_id: string | null
  replay_state: string | null
}

/** Aggregate of events showing one stream-level data-quality problem. */
interface StreamTally {
  count: number
  firstSeq: number
  eventId: string
  customerId: string
  firstMs: number
  lastMs: number
}

/** Every stream-level tally of a set of events; plain data (a rebuild keeps it as JSON). */
interface StreamTallies {
  missing: StreamTally | null
  /** By store id ('' for the unknown store, which has no id). */
  noOffset: Record<string, StreamTally>
  future: Record<string, StreamTally>
}

/** A new event as a batch reads it: the columns the tallies need (a stored event has them too). */
type NewEventRow = TallyEvent

const noTallies = (): StreamTallies => ({ missing: null, noOffset: {}, future: {} })
/** The store id a tally's key stands for ('' is the unknown store). */
const storeIdOf = (key: string): string | null => key || null

/** Adds events to tallies: counts, the first event by seq, the first and last timestamps. */
function tally(into: StreamTallies, events: readonly NewEventRow[]): StreamTallies {
  const add = (t: StreamTally | null | undefined, e: NewEventRow): StreamTally => {
    if (!t) {
      return {
        count: 1,
        firstSeq: e.seq,
        eventId: e.id,
        customerId: e.customer_id,
        firstMs: e.occurred_ms,
        lastMs: e.occurred_ms,
      }
    }
    t.count += 1
    if (e.seq < t.firstSeq) {
      t.firstSeq = e.seq
      t.eventId = e.id
      t.customerId = e.customer_id
    }
    t.firstMs = Math.min(t.firstMs, e.occurred_ms)
    t.lastMs = Math.max(t.lastMs, e.occurred_ms)
    return t
  }
  for (const e of events) {
    if (!countsInTallies(e)) continue
    const store = e.store_id ?? ''
    if (e.store_id === null) into.missing = add(into.missing, e)
    if (e.has_offset === 0) into.noOffset[store] = add(into.noOffset[store], e)
    if (e.occurred_ms > e.received_ms + FUTURE_TOLERANCE_MS) {
      into.future[store] = add(into.future[store], e)
    }
  }
  return into
}

const VISIT_FIELDS: readonly (keyof VisitRow)[] = [
  'customer_id',
  'store_id',
  'status',
  'entry_inferred',
  'entered_ms',
  'started_ms',
  'exited_ms',
  'last_event_ms',
  'last_event_id',
  'event_count',
  'tis_ms',
  'spend_cents',
  'checkouts',
  'brands',
  'items_json',
]
const ROLLUP_FIELDS: readonly (keyof RollupRow)[] = [
  'visit_count',
  'visits_30d',
  'first_visit_ms',
  'last_visit_ms',
  'last_store_id',
  'avg_tis_minutes',
  'total_spend_cents',
  'purchase_visits',
  'top_brands',
]

const INDEX_COLUMNS = `customer_id, occurred_ms, seq, name, store_id, id, has_offset, time_elapsed_s, received_ms`

/**
 * Turns stored events into visits, rollups and alerts, one transaction per batch. Every read
 * that decides a batch happens inside that batch's BEGIN IMMEDIATE transaction, so two
 * processes (serve and `footfall reprocess`) can drive the same store: whoever holds the write
 * lock sees the other's finished batches and continues from there.
 */
export class Processor {
  readonly config: ProcessingConfig
  private readonly maxEvents: number
  private readonly maxCustomers: number
  private readonly maxIndex: number
  private readonly maxBatchMs: number
  private readonly catchUpAfter: number
  private readonly catchUpAfterCustomers: number
  private readonly clock: () => number
  private readonly alerts: AlertWriter
  private readonly reader: CustomerReader
  private readonly startAhead: ((config: ProcessingConfig) => CustomersAhead | null) | null
  /** Started with the rebuild in progress (undefined: not yet, null: could not). */
  private ahead: CustomersAhead | null | undefined = undefined
  private readonly s
  private readonly settler: EventIdSettler
  private changeSeq = 0
  /** Events copied into customer_events per millisecond, as last measured (commit included). */
  private indexPerMs = 200
  /** Events the current batch copied into customer_events (0: it copied none). */
  private copiedThisBatch = 0
  /** Events an incremental batch processes per millisecond, as last measured. */
  private eventsPerMs = 10

  constructor(
    private readonly db: WritableDB,
    options: ProcessorOptions = {},
  ) {
    this.config = options.config ?? PROCESSING_DEFAULTS
    this.maxEvents = options.maxEventsPerBatch ?? 1_000
    this.maxCustomers = options.maxCustomersPerBatch ?? 200
    this.maxIndex = options.maxIndexPerBatch ?? 100_000
    this.maxBatchMs = options.maxBatchMs ?? 100
    this.catchUpAfter = options.catchUpAfterEvents ?? 50_000
    this.catchUpAfterCustomers = options.catchUpAfterCustomers ?? 8_000
    this.clock = options.clock ?? Date.now
    this.alerts = new AlertWriter(db, this.clock)
    this.reader = new CustomerReader(db)
    this.startAhead = options.ahead ?? null
    this.settler = new EventIdSettler(db, options.settleIdsAfter)
    this.s = {
      state: db.prepare('SELECT * FROM processing_state WHERE id = 1'),
      saveState: db.prepare(`
        UPDATE processing_state SET cursor_seq = @cursor_seq, now_ms = @now_ms,
          quarantine_cursor = @quarantine_cursor, change_seq = @change_seq,
          rebuild_target_seq = @rebuild_target_seq, rebuild_now_ms = @rebuild_now_ms,
          rebuild_after_customer = @rebuild_after_customer, last_run_ms = @last_run_ms,
          indexed_seq = @indexed_seq, rebuild_tallies = @rebuild_tallies
        WHERE id = 1`),
      // Sorted, so that the rows go into the clustered table in its own order.
      indexRange: db.prepare(`
        INSERT INTO customer_events (${INDEX_COLUMNS})
        SELECT ${INDEX_COLUMNS} FROM events WHERE seq > ? AND seq <= ?
        ORDER BY customer_id, occurred_ms, seq`),
      newEvents: db.prepare(
        `SELECT seq, id, customer_id, store_id, occurred_ms, has_offset, received_ms FROM events
         WHERE seq > ? ORDER BY seq LIMIT ?`,
      ),
      requeued: db.prepare(
        'SELECT customer_id FROM processing_requeue ORDER BY customer_id LIMIT ?',
      ),
      dequeue: db.prepare('DELETE FROM processing_requeue WHERE customer_id = ?'),
      anyRequeued: db.prepare('SELECT 1 FROM processing_requeue LIMIT 1'),
      anyRemoval: db.prepare('SELECT 1 FROM visit_removals LIMIT 1'),
      // No DISTINCT (the caller's Set dedupes): with it, SQLite chose to scan every visit in
      // customer order instead of these two small index ranges (measured: 40 ms a batch at
      // 100,000 visits). test/processing/migrations.test.ts checks the plans.
      goingStale: db.prepare(
        "SELECT customer_id FROM visits WHERE status = 'open' AND last_event_ms < ?",
      ),
      leavingWindow: db.prepare(
        'SELECT customer_id FROM visits WHERE started_ms >= ? AND started_ms < ?',
      ),
      nextCustomers: db.prepare(
        'SELECT DISTINCT customer_id FROM customer_events WHERE customer_id > ? ORDER BY customer_id LIMIT ?',
      ),
      maxSeq: db.prepare('SELECT max(seq) AS seq FROM events'),
      maxMsUpTo: db.prepare('SELECT max(occurred_ms) AS ms FROM events WHERE seq <= ?'),
      insertVisit: db.prepare(`
        INSERT INTO visits (visit_key, customer_id, store_id, status, entry_inferred, entered_ms,
          started_ms, exited_ms, last_event_ms, last_event_id, event_count, tis_ms, spend_cents,
          checkouts, brands, items_json, version)
        VALUES (@visit_key, @customer_id, @store_id, @status, @entry_inferred, @entered_ms,
          @started_ms, @exited_ms, @last_event_ms, @last_event_id, @event_count, @tis_ms,
          @spend_cents, @checkouts, @brands, @items_json, @version)`),
      updateVisit: db.prepare(`
        UPDATE visits SET store_id = @store_id, status = @status, entry_inferred = @entry_inferred,
          entered_ms = @entered_ms, started_ms = @started_ms, exited_ms = @exited_ms,
          last_event_ms = @last_event_ms, last_event_id = @last_event_id,
          event_count = @event_count, tis_ms = @tis_ms, spend_cents = @spend_cents,
          checkouts = @checkouts, brands = @brands, items_json = @items_json, version = @version
        WHERE visit_key = @visit_key`),
      deleteVisit: db.prepare('DELETE FROM visits WHERE visit_key = ?'),
      addRemoval: db.prepare(`
        INSERT INTO visit_removals (visit_key, customer_id, version) VALUES (?, ?, ?)
        ON CONFLICT (visit_key) DO UPDATE SET version = excluded.version`),
      dropRemoval: db.prepare('DELETE FROM visit_removals WHERE visit_key = ?'),
      putRollup: db.prepare(`
        INSERT INTO customer_rollups (customer_id, visit_count, visits_30d, first_visit_ms,
          last_visit_ms, last_store_id, avg_tis_minutes, total_spend_cents, purchase_visits,
          top_brands, version)
        VALUES (@customer_id, @visit_count, @visits_30d, @first_visit_ms, @last_visit_ms,
          @last_store_id, @avg_tis_minutes, @total_spend_cents, @purchase_visits, @top_brands,
          @version)
        ON CONFLICT (customer_id) DO UPDATE SET visit_count = excluded.visit_count,
          visits_30d = excluded.visits_30d, first_visit_ms = excluded.first_visit_ms,
          last_visit_ms = excluded.last_visit_ms, last_store_id = excluded.last_store_id,
          avg_tis_minutes = excluded.avg_tis_minutes,
          total_spend_cents = excluded.total_spend_cents,
          purchase_visits = excluded.purchase_visits, top_brands = excluded.top_brands,
          version = excluded.version`),
      deleteRollup: db.prepare('DELETE FROM customer_rollups WHERE customer_id = ?'),
      insertFailure: db.prepare(`
        INSERT INTO processing_failures (event_seq, event_id, customer_id, code, error, state,
          attempts, first_failed_ms, last_failed_ms, resolved_ms)
        VALUES (@event_seq, @event_id, @customer_id, @code, @error, 'failed', 1, @now, @now, NULL)`),
      failAgain: db.prepare(`
        UPDATE processing_failures SET code = @code, error = @error, state = 'failed',
          attempts = attempts + @bump, last_failed_ms = CASE WHEN @bump = 1 THEN @now ELSE last_failed_ms END,
          resolved_ms = NULL
        WHERE event_seq = @event_seq`),
      resolveFailure: db.prepare(
        "UPDATE processing_failures SET state = 'resolved', resolved_ms = ? WHERE event_seq = ?",
      ),
      newQuarantine: db.prepare(`
        SELECT q.seq, q.received_ms, q.reason, q.event_id, q.customer_id, r.state AS replay_state
        FROM quarantine q LEFT JOIN quarantine_replays r ON r.quarantine_seq = q.seq
        WHERE q.seq > ? ORDER BY q.seq LIMIT ?`),
    }
  }

  state(): ProcessingState {
    return this.s.state.get() as ProcessingState
  }

  /**
   * Does one batch in one transaction and returns what it did, or null when there is nothing to
   * do. A batch that throws leaves nothing behind; the next call does it again. `budgetMs` (at
   * most maxBatchMs) is how long it should hold the write lock.
   */
  runBatch(budgetMs = this.maxBatchMs): BatchReport | null {
    this.prepare()
    const budget = Math.min(budgetMs, this.maxBatchMs)
    const started = performance.now()
    this.copiedThisBatch = 0
    const run = this.db.transaction(() => {
      const state = this.state()
      this.changeSeq = state.change_seq
      let report =
        state.rebuild_target_seq === null
          ? this.incremental(state, budget)
          : this.rebuildBatch(state, budget)
      // What is left of the budget settles stored event ids (event-ids.ts): a batch with
      // nothing else to do still counts as work while they wait.
      if (this.settler.step(started + budget) > 0) report ??= emptyReport('incremental')
      if (report) {
        state.change_seq = this.changeSeq
        state.last_run_ms = this.clock()
        this.s.saveState.run(state)
      }
      return { report, state }
    })
    let outcome: { report: BatchReport | null; state: ProcessingState }
    try {
      outcome = run.immediate()
    } catch (error) {
      this.settler.abandon()
      throw error
    }
    const { report, state } = outcome
    // The rates that size incremental batches and copies count the whole batch, its commit
    // included (a copy's commit writes most of the pages it touched).
    const ms = Math.max(1, performance.now() - started)
    if (report?.kind === 'incremental' && report.events >= 50) this.eventsPerMs = report.events / ms
    if (this.copiedThisBatch > 0) this.indexPerMs = this.copiedThisBatch / ms
    if (report) this.lookAhead(state)
    return report
  }

  /**
   * Outside any transaction (and, on the processing thread, before its turn at the write lock):
   * gets the next rebuild batch's customers computed, so that the batch holds the lock only to
   * write them; and reads and sorts the next pass of event ids to settle (event-ids.ts). Hints:
   * the batch re-reads where the rebuild is, and computes what it must.
   */
  prepare(): void {
    this.settler.prepare()
    if (!this.ahead) return
    const state = this.state()
    const key = rebuildKeyOf(state)
    if (!key || state.indexed_seq < key.target) return
    this.ahead.prepare(key, state.rebuild_after_customer, this.maxCustomers, this.ownSide(key))
  }

  /** Stops the thread that computes ahead, if there is one. */
  close(): void {
    this.ahead?.close()
    this.ahead = undefined
  }

  /**
   * After a commit. A rebuild starts the thread that computes ahead (it boots while the events
   * are copied); once they all are (its connection must see them), it computes the next
   * customers while this one goes on. When the rebuild is done, the thread stops.
   */
  private lookAhead(state: ProcessingState): void {
    if (!this.startAhead) return
    const key = rebuildKeyOf(state)
    if (!key) {
      this.close()
      return
    }
    if (this.ahead === undefined) this.ahead = this.startAhead(this.config)
    if (this.ahead && state.indexed_seq >= key.target) {
      this.ahead.advance(key, state.rebuild_after_customer, this.maxCustomers, this.ownSide(key))
    }
  }

  /**
   * Starts recomputing every customer from the stored events alone, up to the events stored
   * now. Rows whose values come out the same are not touched (no version bump, nothing to sync).
   * Runs in batches through runBatch(); a rebuild already in progress is continued, not restarted.
   */
  startRebuild(): { targetSeq: number; resumed: boolean } {
    return this.db
      .transaction(() => {
        const state = this.state()
        if (state.rebuild_target_seq !== null) {
          return { targetSeq: state.rebuild_target_seq, resumed: true }
        }
        const target = (this.s.maxSeq.get() as { seq: number | null }).seq ?? 0
        this.beginRebuild(state, target)
        this.s.saveState.run(state)
        return { targetSeq: target, resumed: false }
      })
      .immediate()
  }

  // ---- incremental ------------------------------------------------------------------------

  private incremental(state: ProcessingState, budgetMs: number): BatchReport | null {
    const maxSeq = (this.s.maxSeq.get() as { seq: number | null }).seq ?? 0
    const backlog = maxSeq - state.cursor_seq
    if (backlog > this.catchUpAfter && backlog * 4 > maxSeq) {
      this.beginRebuild(state, maxSeq)
      return this.rebuildBatch(state, budgetMs)
    }
    // An incremental batch cannot stop halfway (its customers go with its cursor), so it takes
    // as many events as the rate measured so far gets done within its budget.
    const take = Math.min(this.maxEvents, Math.max(50, Math.round(this.eventsPerMs * budgetMs)))
    const fresh = this.s.newEvents.all(state.cursor_seq, take) as NewEventRow[]
    const requeued = (this.s.requeued.all(this.maxCustomers) as { customer_id: string }[]).map(
      (r) => r.customer_id,
    )
    const quarantined = this.s.newQuarantine.all(
      state.quarantine_cursor,
      this.maxEvents,
    ) as QuarantineRow[]
    if (fresh.length === 0 && requeued.length === 0 && quarantined.length === 0) return null

    const last = fresh.at(-1)
    const cursor = last ? last.seq : state.cursor_seq
    let nowMs = state.now_ms
    for (const e of fresh) if (nowMs === null || e.occurred_ms > nowMs) nowMs = e.occurred_ms

    const customers = new Set<string>(requeued)
    for (const e of fresh) customers.add(e.customer_id)
    const touched = customers.size
    if (nowMs !== null && nowMs !== state.now_ms) {
      // Results also depend on "now": an open visit goes stale, and a visit leaves the 30-day
      // window. Only visits that cross those lines between the old and the new "now" matter;
      // the stored visits are exact for the old "now", so these two queries find them all.
      const stale = this.s.goingStale.all(nowMs - this.config.abandonAfterMs) as {
        customer_id: string
      }[]
      for (const r of stale) customers.add(r.customer_id)
      const from =
        state.now_ms === null ? Number.MIN_SAFE_INTEGER : state.now_ms - this.config.recentWindowMs
      const leaving = this.s.leavingWindow.all(from, nowMs - this.config.recentWindowMs) as {
        customer_id: string
      }[]
      for (const r of leaving) customers.add(r.customer_id)
    }

    if (customers.size - touched > this.catchUpAfterCustomers) {
      // "Now" jumped far (weeks of stream at once, or a timestamp far ahead): so many customers
      // changed without a new event that one transaction would hold the write lock too long.
      // Catch up customer by customer instead, in short transactions, like a rebuild.
      this.beginRebuild(state, maxSeq)
      return this.rebuildBatch(state, budgetMs)
    }
    this.indexThrough(state, cursor)
    const report = this.recompute([...customers].sort(), cursor, nowMs ?? 0, 'incremental')
    report.events = fresh.length
    this.addStreamTallies(fresh)
    for (const q of quarantined) this.putQuarantineAlert(q)
    state.cursor_seq = cursor
    state.now_ms = nowMs
    const lastQ = quarantined.at(-1)
    if (lastQ) state.quarantine_cursor = lastQ.seq
    return report
  }

  // ---- rebuild ----------------------------------------------------------------------------

  private beginRebuild(state: ProcessingState, target: number): void {
    state.rebuild_target_seq = target
    state.rebuild_now_ms = (this.s.maxMsUpTo.get(target) as { ms: number | null }).ms
    state.rebuild_after_customer = null
    state.rebuild_tallies = JSON.stringify(noTallies())
  }

  private rebuildBatch(state: ProcessingState, budgetMs: number): BatchReport {
    const target = state.rebuild_target_seq ?? 0
    const nowMs = state.rebuild_now_ms ?? 0
    if (state.indexed_seq < target) {
      // The customers' events must all be in customer_events before any customer is recomputed;
      // a large backlog is copied over several batches, so no one transaction holds the lock long.
      // Sized by the rate measured so far to fit the batch's budget.
      const chunk = Math.min(this.maxIndex, Math.max(1_000, Math.round(this.indexPerMs * budgetMs)))
      const upTo = Math.min(target, state.indexed_seq + chunk)
      this.copiedThisBatch = upTo - state.indexed_seq
      this.indexThrough(state, upTo)
      return emptyReport('rebuild')
    }
    const key = { target, nowMs }
    const own = this.ownSide(key)
    const after = state.rebuild_after_customer
    const ahead = this.ahead?.take(key, after, this.maxCustomers, own) ?? null
    const customers = ahead
      ? ahead.customers.map((c) => c.customerId)
      : own.list(after, this.maxCustomers)
    const isLast = ahead ? ahead.last : customers.length < this.maxCustomers
    const tallies = state.rebuild_tallies
      ? (JSON.parse(state.rebuild_tallies) as StreamTallies)
      : noTallies()
    // A batch also ends when its time is up, so that it never holds the write lock for long
    // (ingest commits wait for it); the next batch continues after the last customer done.
    const deadline = performance.now() + budgetMs
    const report = this.recompute(customers, target, nowMs, 'rebuild', tallies, deadline, ahead)
    state.rebuild_tallies = JSON.stringify(tallies)
    const lastCustomer = customers[report.customers - 1]
    if (lastCustomer !== undefined) state.rebuild_after_customer = lastCustomer
    if (isLast && report.customers === customers.length) {
      // Last batch: the stream-wide alerts from the tallies of every customer's events (each
      // customer was recomputed exactly once), the quarantine alerts, then the cursor jumps.
      this.setStreamTallies(tallies)
      let qCursor = 0
      for (;;) {
        const rows = this.s.newQuarantine.all(qCursor, 10_000) as QuarantineRow[]
        for (const q of rows) this.putQuarantineAlert(q)
        const lastQ = rows.at(-1)
        if (!lastQ) break
        qCursor = lastQ.seq
      }
      report.events = target - state.cursor_seq > 0 ? target - state.cursor_seq : 0
      state.cursor_seq = Math.max(state.cursor_seq, target)
      state.now_ms = state.rebuild_now_ms
      state.quarantine_cursor = Math.max(state.quarantine_cursor, qCursor)
      state.rebuild_target_seq = null
      state.rebuild_now_ms = null
      state.rebuild_after_customer = null
      state.rebuild_tallies = null
      report.rebuildDone = true
    }
    return report
  }

  /** How this connection lists a rebuild's next customers and computes them. */
  private ownSide(key: RebuildKey): OwnSide {
    return {
      list: (after, n) =>
        (this.s.nextCustomers.all(after ?? '', n) as { customer_id: string }[]).map(
          (r) => r.customer_id,
        ),
      compute: (customers) => computeCustomers(this.reader, customers, key, this.config),
    }
  }

  /** Copies the events up to `seq` into customer_events (see migration 0005). */
  private indexThrough(state: ProcessingState, seq: number): void {
    if (seq <= state.indexed_seq) return
    this.s.indexRange.run(state.indexed_seq, seq)
    state.indexed_seq = seq
  }

  // ---- per customer -----------------------------------------------------------------------

  private recompute(
    customers: readonly string[],
    cursor: number,
    nowMs: number,
    kind: BatchReport['kind'],
    tallies?: StreamTallies,
    deadline = Infinity,
    /** These customers, computed ahead (in the same order); else they are computed here. */
    ahead: { customers: readonly ComputedCustomer[] } | null = null,
  ): BatchReport {
    const report = emptyReport(kind)
    const events = ahead ? null : this.reader.readEvents(customers, cursor)
    const derived = this.reader.readDerived(customers)
    // Most batches have no requeued customer and no removed visit at all: then skip a delete
    // per customer and per new visit.
    const anyQueued = this.s.anyRequeued.get() !== undefined
    const anyRemoval = this.s.anyRemoval.get() !== undefined
    for (const [i, customerId] of customers.entries()) {
      if (report.customers > 0 && performance.now() > deadline) break
      report.customers += 1
      const stored = derived.get(customerId)
      const computed =
        ahead?.customers[i] ??
        computeCustomer(customerId, events?.get(customerId) ?? [], nowMs, this.config)
      if (!stored || computed.customerId !== customerId) {
        throw new Error(`customer '${customerId}' was not read`)
      }
      if (tallies) tally(tallies, computed.tallyEvents)
      this.write(computed.result, stored, report, anyRemoval)
      if (anyQueued) this.s.dequeue.run(customerId)
    }
    return report
  }

  private nextVersion(): number {
    this.changeSeq += 1
    return this.changeSeq
  }

  private write(
    result: CustomerResult,
    read: DerivedRows,
    report: BatchReport,
    anyRemoval: boolean,
  ): void {
    const { customerId } = result
    const old = new Map(read.visits.map((v) => [v.visit_key, v] as const))
    for (const visit of result.visits) {
      const prev = old.get(visit.visit_key)
      old.delete(visit.visit_key)
      if (prev && VISIT_FIELDS.every((f) => prev[f] === visit[f])) continue
      const row = { ...visit, version: this.nextVersion() }
      if (prev) this.s.updateVisit.run(row)
      else {
        this.s.insertVisit.run(row)
        if (anyRemoval) this.s.dropRemoval.run(visit.visit_key)
      }
      report.visitsChanged += 1
    }
    for (const gone of old.values()) {
      this.s.deleteVisit.run(gone.visit_key)
      this.s.addRemoval.run(gone.visit_key, customerId, this.nextVersion())
      report.visitsChanged += 1
    }

    const prevRollup = read.rollup
    const rollup = result.rollup
    if (rollup === null) {
      if (prevRollup) {
        this.s.deleteRollup.run(customerId)
        report.rollupsChanged += 1
      }
    } else if (!prevRollup || ROLLUP_FIELDS.some((f) => prevRollup[f] !== rollup[f])) {
      this.s.putRollup.run({ ...rollup, version: this.nextVersion() })
      report.rollupsChanged += 1
    }

    this.writeFailures(read, result.failures)
    report.failures += result.failures.length
    this.alerts.replaceCustomer(result.alerts, read.alerts)
  }

  private writeFailures(read: DerivedRows, failures: CustomerResult['failures']): void {
    const now = this.clock()
    const old = new Map(read.failures.map((f) => [f.event_seq, f] as const))
    for (const f of failures) {
      const prev = old.get(f.event_seq)
      old.delete(f.event_seq)
      if (!prev) {
        this.s.insertFailure.run({ ...f, now })
      } else if (prev.state !== 'failed' || prev.code !== f.code || prev.error !== f.error) {
        // Failing again after a retry (or after it had healed) counts as another attempt.
        this.s.failAgain.run({
          event_seq: f.event_seq,
          code: f.code,
          error: f.error,
          now,
          bump: prev.state === 'failed' ? 0 : 1,
        })
      }
    }
    for (const gone of old.values()) {
      if (gone.state !== 'resolved') this.s.resolveFailure.run(now, gone.event_seq)
    }
  }

  // ---- stream-wide and quarantine alerts -----------------------------------------------------

  private addStreamTallies(fresh: readonly NewEventRow[]): void {
    const t = tally(noTallies(), fresh)
    if (t.missing) this.putStreamAlert(missingStoreAlert(this.merge(missingStoreKey, t.missing)))
    for (const [key, x] of Object.entries(t.noOffset)) {
      const store = storeIdOf(key)
      this.putStreamAlert(noOffsetAlert(store, this.merge(noOffsetKey(store), x)))
    }
    for (const [key, x] of Object.entries(t.future)) {
      const store = storeIdOf(key)
      this.putStreamAlert(futureAlert(store, this.merge(futureKey(store), x)))
    }
  }

  /** Adds a batch's tally to the stored one; sums, minima and maxima do not depend on batching. */
  private merge(key: string, t: StreamTally): StreamTally {
    const old = this.alerts.ofKey(key)
    if (!old || old.event_id === null || old.customer_id === null) return t
    return {
      count: old.count + t.count,
      firstSeq: 0,
      eventId: old.event_id,
      customerId: old.customer_id,
      firstMs: Math.min(old.first_seen_ms, t.firstMs),
      lastMs: Math.max(old.last_seen_ms, t.lastMs),
    }
  }

  /** Sets the stream-wide alerts to exactly these tallies; the others are resolved. */
  private setStreamTallies(t: StreamTallies): void {
    const alerts = [
      ...(t.missing ? [missingStoreAlert(t.missing)] : []),
      ...Object.entries(t.noOffset).map(([store, x]) => noOffsetAlert(storeIdOf(store), x)),
      ...Object.entries(t.future).map(([store, x]) => futureAlert(storeIdOf(store), x)),
    ]
    for (const alert of alerts) this.putStreamAlert(alert)
    const seen = new Set(alerts.map((a) => a.key))
    for (const old of this.alerts.ofScope('stream')) {
      if (!seen.has(old.key)) this.alerts.resolve(old.key)
    }
  }

  private putStreamAlert(alert: DerivedAlert): void {
    this.alerts.put(alert, 'stream', 'open')
  }

  private putQuarantineAlert(q: QuarantineRow): void {
    const replayed = q.replay_state === 'stored' || q.replay_state === 'duplicate'
    this.alerts.put(quarantineAlert(q), 'quarantine', replayed ? 'resolved' : 'open', q.seq)
  }
}

/** The rebuild in progress, if any. */
function rebuildKeyOf(state: ProcessingState): RebuildKey | null {
  if (state.rebuild_target_seq === null) return null
  return { target: state.rebuild_target_seq, nowMs: state.rebuild_now_ms ?? 0 }
}

function emptyReport(kind: BatchReport['kind']): BatchReport {
  return {
    kind,
    events: 0,
    customers: 0,
    visitsChanged: 0,
    rollupsChanged: 0,
    failures: 0,
    rebuildDone: false,
  }
}

const missingStoreKey = 'missing_store_id:stream'
const futureKey = (store: string | null): string =>
  `timestamp_in_future:${store ?? '(unknown store)'}`
const noOffsetKey = (store: string | null): string =>
  `timestamp_without_offset:${store ?? '(unknown store)'}`

const iso = (ms: number): string => new Date(ms).toISOString()

function missingStoreAlert(t: StreamTally): DerivedAlert {
  return {
    key: missingStoreKey,
    kind: 'missing_store_id',
    severity: 'warning',
    customer_id: t.customerId,
    visit_key: null,
    event_id: t.eventId,
    store_id: null,
    message: `${t.count} event(s) between ${iso(t.firstMs)} and ${iso(t.lastMs)} have no store_id (first: ${t.eventId}); they are counted at the unknown store. Ask the integrator to send store_id on every event.`,
    first_seen_ms: t.firstMs,
    last_seen_ms: t.lastMs,
    count: t.count,
  }
}

function noOffsetAlert(store: string | null, t: StreamTally): DerivedAlert {
  return {
    key: noOffsetKey(store),
    kind: 'timestamp_without_offset',
    severity: 'warning',
    customer_id: t.customerId,
    visit_key: null,
    event_id: t.eventId,
    store_id: store,
    message: `${t.count} event(s) from ${store ?? 'the unknown store'} between ${iso(t.firstMs)} and ${iso(t.lastMs)} have a timestamp without offset (first: ${t.eventId}); they were read as UTC. If that store's clock is local time, its visits are shifted: ask the integrator to send an offset or Z.`,
    first_seen_ms: t.firstMs,
    last_seen_ms: t.lastMs,
    count: t.count,
  }
}

function futureAlert(store: string | null, t: StreamTally): DerivedAlert {
  return {
    key: futureKey(store),
    kind: 'timestamp_in_future',
    severity: 'warning',
    customer_id: t.customerId,
    visit_key: null,
    event_id: t.eventId,
    store_id: store,
    message: `${t.count} event(s) from ${store ?? 'the unknown store'} are dated more than an hour after Footfall received them (latest: ${iso(t.lastMs)}; first: ${t.eventId}). "Now" follows the latest timestamp, so such an event can close other customers' open visits as abandoned and shift 30-day counts too early. Check that store's clock; the stored events keep the timestamps they were sent with.`,
    first_seen_ms: t.firstMs,
    last_seen_ms: t.lastMs,
    count: t.count,
  }
}

function quarantineAlert(q: QuarantineRow): DerivedAlert {
  return {
    key: `quarantined_payload:${q.seq}`,
    kind: 'quarantined_payload',
    severity: 'error',
    customer_id: q.customer_id,
    visit_key: null,
    event_id: q.event_id,
    store_id: null,
    message: `A payload received at ${iso(q.received_ms)} was quarantined (#${q.seq}): ${q.reason}. Nothing of it was processed. Correct the JSON and replay it (\`footfall replay --quarantine ${q.seq} --file corrected.json\`); the original bytes are kept.`,
    first_seen_ms: q.received_ms,
    last_seen_ms: q.received_ms,
    count: 1,
  }
}
