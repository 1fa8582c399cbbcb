import type { ProcessingConfig } from './config'
import type { CustomerReader, ReadEvent } from './customer-reader'
import { processCustomer } from './rules'
import type { CustomerResult } from './rules'

/** Clock skew tolerated before an event dated after its own receipt is an alert. */
export const FUTURE_TOLERANCE_MS = 3_600_000

/** An event as the stream-wide tallies count it (a new event, or a customer's stored one). */
export interface TallyEvent {
  seq: number
  id: string
  customer_id: string
  store_id: string | null
  occurred_ms: number
  has_offset: number
  received_ms: number
}

/** Whether an event counts in any stream-wide tally: no store, no offset, or dated ahead. */
export function countsInTallies(e: TallyEvent): boolean {
  return (
    e.store_id === null || e.has_offset === 0 || e.occurred_ms > e.received_ms + FUTURE_TOLERANCE_MS
  )
}

/** One customer recomputed from their events: plain data, so it can cross threads. */
export interface ComputedCustomer {
  customerId: string
  result: CustomerResult
  /** The customer's events that count in a stream-wide tally (most customers have none). */
  tallyEvents: TallyEvent[]
}

/** Applies the rules to one customer's events (in order) as of `nowMs`. */
export function computeCustomer(
  customerId: string,
  events: readonly ReadEvent[],
  nowMs: number,
  config: ProcessingConfig,
): ComputedCustomer {
  const tallyEvents: TallyEvent[] = []
  for (const e of events) {
    if (!countsInTallies(e)) continue
    const { seq, id, customer_id, store_id, occurred_ms, has_offset, received_ms } = e
    tallyEvents.push({ seq, id, customer_id, store_id, occurred_ms, has_offset, received_ms })
  }
  return { customerId, result: processCustomer(customerId, events, nowMs, config), tallyEvents }
}

/**
 * Reads these customers' events up to a rebuild's target and computes each as of its "now". The
 * one way a rebuild's customers are computed, on either thread: the batch takes the second
 * thread's results as its own only because both come from here.
 */
export function computeCustomers(
  reader: CustomerReader,
  customers: readonly string[],
  rebuild: { target: number; nowMs: number },
  config: ProcessingConfig,
): ComputedCustomer[] {
  const events = reader.readEvents(customers, rebuild.target)
  return customers.map((c) => computeCustomer(c, events.get(c) ?? [], rebuild.nowMs, config))
}
