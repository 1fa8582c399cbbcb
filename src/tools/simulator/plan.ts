import type { ElapsedForm, ElapsedFormat } from './elapsed'
import { ELAPSED_FORMS, formatElapsed } from './elapsed'
import type { BadKind } from './faults'
import { makeBadBody } from './faults'
import { MinHeap } from './heap'
import type { SimEvent, Timeline } from './journeys'
import { derivePrng } from './prng'
import type { Prng } from './prng'

/**
 * The send plan: the timeline's events as request bodies, plus what a real sender adds: whole
 * visits sent again with the same ids, and (as a fault for demos and tests) malformed bodies.
 * Deterministic like the timeline; faults draw from their own stream, so switching them on does
 * not change the journeys.
 */

export type DeliveryKind = 'event' | 'resend' | 'bad'

export interface Delivery {
  /** Position in the plan's output; a customer's deliveries are sent in this order. */
  seq: number
  kind: DeliveryKind
  customerId: string
  /** The event id; for a bad body, the id inside it when it has one. */
  eventId: string | null
  /** Event name as sent (for a bad body, the name of the event it was modelled on). */
  name: string
  body: string
  /** Simulated time before which it is not sent. */
  dueMs: number
  badKind?: BadKind
}

export interface FaultOptions {
  /** Share of visits sent again, whole, with the same ids, shortly after they end. */
  resendRate: number
  /** Extra malformed requests per valid event. */
  badRate: number
  /** Share of events sent without `store_id`. */
  missingStoreRate: number
  elapsedFormat: ElapsedFormat
}

/** How long after its exit a visit is sent again (simulated): less than a customer's pause between visits, so lanes stay in time order. */
const RESEND_DELAY_MAX_MS = 10 * 60_000

/** The request body of an event, keys in the order the samples show. */
export function eventPayload(
  event: SimEvent,
  options: { withStore: boolean; elapsedForm: ElapsedForm },
): Record<string, unknown> {
  return {
    id: event.id,
    name: event.name,
    timestamp: new Date(event.timestampMs).toISOString(),
    customer_id: event.customerId,
    ...(options.withStore ? { store_id: event.storeId } : {}),
    ...(event.items ? { items: event.items } : {}),
    ...(event.elapsedMs !== undefined
      ? { time_elapsed: formatElapsed(event.elapsedMs, options.elapsedForm) }
      : {}),
  }
}

export class Plan {
  private readonly faults: Prng
  private readonly later = new MinHeap<Delivery & { resendOrder: number }>(
    (a, b) => a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.resendOrder < b.resendOrder),
  )
  private resendOrder = 0
  private readonly ready: Delivery[] = []
  private readonly openVisits = new Map<number, Delivery[]>()
  private seq = 0
  private taken = 0
  private timelineDone = false

  constructor(
    private readonly timeline: Timeline,
    private readonly options: FaultOptions,
    seed: number,
    /** Valid events to take from the timeline; resends and bad bodies come on top. */
    private readonly maxEvents = Infinity,
  ) {
    this.faults = derivePrng(seed, 'faults')
  }

  /** Valid (first-time) events taken from the timeline so far. */
  get eventsTaken(): number {
    return this.taken
  }

  /** Due time of the next delivery (Infinity when the plan is over). */
  peekDue(): number {
    this.fill()
    const a = this.ready[0]?.dueMs ?? Infinity
    const b = this.later.peek()?.dueMs ?? Infinity
    return Math.min(a, b)
  }

  next(): Delivery | null {
    this.fill()
    const a = this.ready[0]
    const b = this.later.peek()
    if (!a && !b) return null
    const d = a && (!b || a.dueMs <= b.dueMs) ? this.ready.shift() : this.later.pop()
    if (d) d.seq = this.seq++
    return d ?? null
  }

  private fill(): void {
    if (this.ready.length > 0 || this.timelineDone) return
    if (this.taken >= this.maxEvents) {
      this.timelineDone = true
      return
    }
    const entry = this.timeline.next()
    if (!entry) {
      this.timelineDone = true
      return
    }
    this.taken += 1
    const { event } = entry
    const form: ElapsedForm =
      this.options.elapsedFormat === 'mixed'
        ? this.faults.pick(ELAPSED_FORMS)
        : this.options.elapsedFormat
    const payload = eventPayload(event, {
      withStore: !this.faults.chance(this.options.missingStoreRate),
      elapsedForm: form,
    })
    if (this.faults.chance(this.options.badRate)) {
      const bad = makeBadBody(payload, this.faults)
      this.ready.push({
        seq: -1,
        kind: 'bad',
        customerId: event.customerId,
        eventId: bad.id,
        name: event.name,
        body: bad.body,
        dueMs: event.timestampMs,
        badKind: bad.kind,
      })
    }
    const delivery: Delivery = {
      seq: -1,
      kind: 'event',
      customerId: event.customerId,
      eventId: event.id,
      name: event.name,
      body: JSON.stringify(payload),
      dueMs: event.timestampMs,
    }
    this.ready.push(delivery)
    const visit = this.openVisits.get(entry.visitId) ?? []
    visit.push(delivery)
    if (!entry.lastOfVisit) {
      this.openVisits.set(entry.visitId, visit)
      return
    }
    this.openVisits.delete(entry.visitId)
    if (this.faults.chance(this.options.resendRate)) {
      const due = event.timestampMs + 1_000 + Math.floor(this.faults.next() * RESEND_DELAY_MAX_MS)
      for (const d of visit) {
        this.later.push({ ...d, kind: 'resend', dueMs: due, resendOrder: this.resendOrder++ })
      }
    }
  }
}
