import type { WritableDB } from '../store/database'
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

/** Everything a batch needs to know about one customer before recomputing them. */
export interface CustomerRows {
  /** In timestamp order, ties by arrival; `raw` is loaded for checkouts only. */
  events: ReadEvent[]
  visits: StoredVisit[]
  rollup: RollupRow | undefined
  failures: StoredFailure[]
  /** The customer's own derived alerts (scope 'customer'). */
  alerts: AlertRow[]
}

const emptyRows = (): CustomerRows => ({
  events: [],
  visits: [],
  rollup: undefined,
  failures: [],
  alerts: [],
})

// The customers go in as one JSON array: each statement runs once per batch, not once per
// customer. A statement call costs about 7 µs here whatever it returns, and a customer used to
// cost seven of them. Only checkouts need the raw payload (their items).
const IDS = 'SELECT value FROM json_each(?)'

/** Reads a batch's customers with one statement per table. */
export class CustomerReader {
  /** Prepared statements (exposed for the test that checks each one reads an index). */
  readonly s

  constructor(db: WritableDB) {
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

  /** The rows of these customers, up to event `cursor`; every customer has an entry. */
  read(customers: readonly string[], cursor: number): Map<string, CustomerRows> {
    const byCustomer = new Map<string, CustomerRows>()
    for (const id of customers) byCustomer.set(id, emptyRows())
    const ids = JSON.stringify(customers)
    const of = (id: string): CustomerRows => {
      const rows = byCustomer.get(id)
      if (!rows) throw new Error(`customer '${id}' was read but not asked for`)
      return rows
    }
    for (const e of this.s.events.iterate(ids, cursor) as Iterable<ReadEvent>) {
      of(e.customer_id).events.push(e)
    }
    for (const v of this.s.visits.iterate(ids) as Iterable<StoredVisit>) {
      of(v.customer_id).visits.push(v)
    }
    for (const r of this.s.rollups.iterate(ids) as Iterable<RollupRow>) of(r.customer_id).rollup = r
    for (const f of this.s.failures.iterate(ids) as Iterable<StoredFailure>) {
      of(f.customer_id).failures.push(f)
    }
    for (const a of this.s.alerts.iterate(ids) as Iterable<AlertRow>) {
      if (a.customer_id !== null) of(a.customer_id).alerts.push(a)
    }
    return byCustomer
  }
}
