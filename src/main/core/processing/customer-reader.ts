import type { ReadableDB, WritableDB } from '../store/database'
import type { AlertRow } from './alert-store'
import type { FailureRow, RollupRow, StoredEvent, VisitRow } from './rules'

/** A stored event with the columns the stream tallies also need. */
export interface ReadEvent extends StoredEvent {
  received_ms: number
}

export interface StoredVisit extends VisitRow {
  version: number
}

export interface StoredFailure extends FailureRow {
  state: 'failed' | 'retrying' | 'resolved'
  attempts: number
}

/** What a batch must know of one customer's derived rows to write only what changed. */
export interface DerivedRows {
  visits: StoredVisit[]
  rollup: RollupRow | undefined
  failures: StoredFailure[]
  /** The customer's own derived alerts (scope 'customer'). */
  alerts: AlertRow[]
}

const noDerived = (): DerivedRows => ({ visits: [], rollup: undefined, failures: [], alerts: [] })

// The customers go in as one JSON array: each statement runs once per batch, not once per
// customer. A statement call costs about 7 µs here whatever it returns, and a customer used to
// cost seven of them. Only checkouts need the raw payload (their items).
const IDS = 'SELECT value FROM json_each(?)'

/**
 * Reads a batch's customers with one statement per table: their events (what the rules read),
 * and apart from them their derived rows (what a batch compares its results with). The events
 * up to a cursor never change, so they may be read on another connection ahead of the batch
 * (rebuild-ahead.ts); the derived rows are read in the batch's own transaction.
 */
export class CustomerReader {
  /** Prepared statements (exposed for the test that checks each one reads an index). */
  readonly s

  constructor(db: WritableDB | ReadableDB) {
    this.s = {
      events: db.prepare(`
        SELECT c.seq, c.id, c.name, c.customer_id, c.store_id, c.occurred_ms, c.has_offset,
          c.time_elapsed_s, c.received_ms,
          CASE WHEN c.name = 'customer.checked.out'
            THEN (SELECT e.raw FROM events e WHERE e.seq = c.seq) END AS raw
        FROM customer_events c WHERE c.customer_id IN (${IDS}) AND c.seq <= ?
        ORDER BY c.customer_id, c.occurred_ms, c.seq`),
      visits: db.prepare(`SELECT * FROM visits WHERE customer_id IN (${IDS})`),
      rollups: db.prepare(`SELECT * FROM customer_rollups WHERE customer_id IN (${IDS})`),
      failures: db.prepare(`SELECT * FROM processing_failures WHERE customer_id IN (${IDS})`),
      alerts: db.prepare(
        `SELECT * FROM alerts WHERE customer_id IN (${IDS}) AND scope = 'customer'`,
      ),
    }
  }

  /** These customers' events up to event `cursor`, in order; every customer has an entry. */
  readEvents(customers: readonly string[], cursor: number): Map<string, ReadEvent[]> {
    const byCustomer = new Map<string, ReadEvent[]>()
    for (const id of customers) byCustomer.set(id, [])
    for (const e of this.s.events.iterate(
      JSON.stringify(customers),
      cursor,
    ) as Iterable<ReadEvent>) {
      entryOf(byCustomer, e.customer_id).push(e)
    }
    return byCustomer
  }

  /** These customers' stored visits, rollup, failures and alerts; every customer has an entry. */
  readDerived(customers: readonly string[]): Map<string, DerivedRows> {
    const byCustomer = new Map<string, DerivedRows>()
    for (const id of customers) byCustomer.set(id, noDerived())
    const ids = JSON.stringify(customers)
    for (const v of this.s.visits.iterate(ids) as Iterable<StoredVisit>) {
      entryOf(byCustomer, v.customer_id).visits.push(v)
    }
    for (const r of this.s.rollups.iterate(ids) as Iterable<RollupRow>) {
      entryOf(byCustomer, r.customer_id).rollup = r
    }
    for (const f of this.s.failures.iterate(ids) as Iterable<StoredFailure>) {
      entryOf(byCustomer, f.customer_id).failures.push(f)
    }
    for (const a of this.s.alerts.iterate(ids) as Iterable<AlertRow>) {
      if (a.customer_id !== null) entryOf(byCustomer, a.customer_id).alerts.push(a)
    }
    return byCustomer
  }
}

/** A customer's entry; a row of a customer not asked for fails the batch, never mixes customers. */
function entryOf<T>(byCustomer: Map<string, T>, id: string): T {
  const entry = byCustomer.get(id)
  if (entry === undefined) throw new Error(`customer '${id}' was read but not asked for`)
  return entry
}
