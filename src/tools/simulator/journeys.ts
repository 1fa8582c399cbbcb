import type { EventName } from '../../shared/event-names'
import { makeCustomers, makeProducts, makeStores } from './catalog'
import type { Customer, Product, Store } from './catalog'
import { MinHeap } from './heap'
import { derivePrng } from './prng'
import type { Prng } from './prng'

/**
 * Customer journeys on a simulated timeline: who enters which store when, what they do there,
 * and the events that follow. Pure and deterministic: the same seed and options give the same
 * timeline, whatever happens later on the network.
 */

export interface SimItem {
  product_id: string
  name: string
  brand: string
  quantity: number
  unit_price: number
  currency: string
  promotions: { code: string; discount: number }[]
}

/** One event as it happened; the sender turns it into a request body (see payload.ts). */
export interface SimEvent {
  id: string
  name: EventName
  timestampMs: number
  customerId: string
  storeId: string
  items?: SimItem[]
  /** Only on `customer.exited.store`: exit minus entry, in whole milliseconds. */
  elapsedMs?: number
}

export interface TimelineEntry {
  event: SimEvent
  visitId: number
  /** True for the visit's last event (its exit). */
  lastOfVisit: boolean
}

export interface World {
  stores: Store[]
  customers: Customer[]
  products: Product[]
}

export function makeWorld(seed: number, storeCount: number, customerCount: number): World {
  return {
    stores: makeStores(seed, storeCount),
    customers: makeCustomers(seed, customerCount, storeCount),
    products: makeProducts(seed),
  }
}

// ---- shapes of a visit ----------------------------------------------------------------------

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Weights of 0, 1, 2, ... `customer.shopping` events in a visit. */
const SHOPPING_COUNT_WEIGHTS = [0.2, 0.3, 0.25, 0.13, 0.08, 0.04]
/** Chance of a checkout, after no shopping event (a quick errand) or after some. */
const BUY_AFTER_NO_SHOPPING = 0.35
const BUY_AFTER_SHOPPING = 0.78
const LINE_COUNT_WEIGHTS = [0.4, 0.3, 0.15, 0.1, 0.05]
const QUANTITY_WEIGHTS = [0.75, 0.18, 0.07]
const PROMOTION_CHANCE = 0.3
const PROMOTIONS = [
  { code: 'FALL10', rate: 0.1 },
  { code: 'MEMBER15', rate: 0.15 },
  { code: 'CLEAR20', rate: 0.2 },
  { code: 'BUNDLE5', rate: 0.05 },
]
/** Share of visits made at the customer's home store (when it is open). */
const HOME_STORE_SHARE = 0.75

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)

/** Expected events per visit; the sender turns `--rate` (events/s) into visits per hour with it. */
export const MEAN_EVENTS_PER_VISIT = (() => {
  const total = sum(SHOPPING_COUNT_WEIGHTS)
  const meanShopping = sum(SHOPPING_COUNT_WEIGHTS.map((w, k) => (w * k) / total))
  const pNone = (SHOPPING_COUNT_WEIGHTS[0] as number) / total
  const pBuy = pNone * BUY_AFTER_NO_SHOPPING + (1 - pNone) * BUY_AFTER_SHOPPING
  return 2 + meanShopping + pBuy
})()

/** A customer's pause after a visit before the next one: a fixed part plus an exponential one. */
const PAUSE_MIN_MS = 20 * MINUTE
const PAUSE_MEAN_EXTRA_MS = 60 * MINUTE
/** A visit lasts about 14.5 minutes on average (measured over generated days). */
const MEAN_VISIT_MS = 14.5 * MINUTE

/**
 * The most events per real second `customers` can make at `speed`: each customer makes at most one
 * visit per visit-plus-pause. Above it, visit starts find no free customer and are dropped.
 */
export function maxEventsPerSecond(customers: number, speed: number): number {
  const cycleS = (MEAN_VISIT_MS + PAUSE_MIN_MS + PAUSE_MEAN_EXTRA_MS) / 1000
  return (customers * MEAN_EVENTS_PER_VISIT * speed) / cycleS
}

/**
 * Relative traffic by UTC hour while stores are open: a morning ramp, a lunch peak and an
 * after-work peak. Normalised so that the mean over 08:00-21:00 is 1.
 */
const HOURLY_SHAPE = (() => {
  const raw = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.9, 1.1, 1.5, 1.4, 1.0, 0.9, 1.0, 1.3, 1.6,
    1.4, 1.0, 0.7, 0.5, 0.3,
  ]
  const openMean = sum(raw.slice(8, 21)) / 13
  return raw.map((x) => x / openMean)
})()
const MAX_SHAPE = Math.max(...HOURLY_SHAPE)

function minuteOfDay(ms: number): number {
  return Math.floor((((ms % DAY) + DAY) % DAY) / MINUTE)
}

export function isOpen(store: Store, ms: number): boolean {
  const m = minuteOfDay(ms)
  return m >= store.opensMin && m < store.closesMin
}

/** The store's closing time on the day of `ms` (UTC). */
function closingTime(store: Store, ms: number): number {
  return Math.floor(ms / DAY) * DAY + store.closesMin * MINUTE
}

/** The first moment at or after `ms` when some store opens (or is open). */
function nextOpening(stores: readonly Store[], ms: number): number {
  if (stores.some((s) => isOpen(s, ms))) return ms
  const dayStart = Math.floor(ms / DAY) * DAY
  let best = Infinity
  for (const s of stores) {
    const today = dayStart + s.opensMin * MINUTE
    best = Math.min(best, today >= ms ? today : today + DAY)
  }
  return best
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}

/** Minutes drawn log-normally, in whole milliseconds, at least a few seconds. */
function minutes(prng: Prng, median: number, spread: number): number {
  return Math.max(5_000, Math.round(prng.logNormal(median, spread) * MINUTE))
}

function basket(prng: Prng, products: readonly Product[], currency: string): SimItem[] {
  const lines = Math.min(products.length, 1 + prng.weightedIndex(LINE_COUNT_WEIGHTS))
  const chosen = new Set<number>()
  while (chosen.size < lines) chosen.add(prng.int(0, products.length - 1))
  return [...chosen].map((i) => {
    const p = products[i] as Product
    const quantity = 1 + prng.weightedIndex(QUANTITY_WEIGHTS)
    const promotions: SimItem['promotions'] = []
    if (prng.chance(PROMOTION_CHANCE)) {
      const promo = prng.pick(PROMOTIONS)
      // A discount is money off the line (PROCESSING.md), never more than the line is worth.
      promotions.push({ code: promo.code, discount: round2(p.unitPrice * quantity * promo.rate) })
    }
    return {
      product_id: p.productId,
      name: p.name,
      brand: p.brand,
      quantity,
      unit_price: p.unitPrice,
      currency,
      promotions,
    }
  })
}

export interface VisitContext {
  prng: Prng
  ids: Prng
  products: readonly Product[]
  currency: string
  /** Latest moment the customer should be out (closing time plus a little); Infinity if none. */
  latestExitMs: number
}

/**
 * One visit: enter, zero or more shopping, usually a checkout, exit with the time in store.
 * Timestamps strictly increase; `elapsedMs` equals exit minus entry.
 */
export function makeVisit(
  customer: Customer,
  store: Store,
  enterMs: number,
  ctx: VisitContext,
): SimEvent[] {
  const { prng } = ctx
  const shopping = prng.weightedIndex(SHOPPING_COUNT_WEIGHTS)
  const buys = prng.chance(shopping === 0 ? BUY_AFTER_NO_SHOPPING : BUY_AFTER_SHOPPING)
  const gaps: number[] = []
  for (let k = 0; k < shopping; k++) gaps.push(minutes(prng, k === 0 ? 3 : 5, 0.6))
  if (buys) gaps.push(minutes(prng, 4, 0.5))
  gaps.push(minutes(prng, buys ? 2 : 3, 0.6))
  // Nobody is shopping long after closing: squeeze a late visit into the time left.
  const room = ctx.latestExitMs - enterMs
  const needed = sum(gaps)
  if (needed > room && room > 0) {
    const factor = room / needed
    for (let i = 0; i < gaps.length; i++) gaps[i] = Math.max(1_000, Math.floor(gaps[i]! * factor))
  }
  const items = buys ? basket(prng, ctx.products, ctx.currency) : undefined
  const base = { customerId: customer.id, storeId: store.id }
  // Sub-second parts make timestamps look like a real clock's.
  let t = enterMs + prng.int(0, 999)
  const events: SimEvent[] = [
    { id: ctx.ids.uuid(), name: 'customer.entered.store', timestampMs: t, ...base },
  ]
  const enteredAt = t
  let g = 0
  for (let k = 0; k < shopping; k++) {
    t += gaps[g++]!
    events.push({ id: ctx.ids.uuid(), name: 'customer.shopping', timestampMs: t, ...base })
  }
  if (items) {
    t += gaps[g++]!
    events.push({
      id: ctx.ids.uuid(),
      name: 'customer.checked.out',
      timestampMs: t,
      ...base,
      items,
    })
  }
  t += gaps[g++]!
  events.push({
    id: ctx.ids.uuid(),
    name: 'customer.exited.store',
    timestampMs: t,
    ...base,
    elapsedMs: t - enteredAt,
  })
  return events
}

// ---- the timeline ---------------------------------------------------------------------------

export interface TimelineOptions {
  seed: number
  startMs: number
  /** Visits that start per simulated hour across all stores, at an average open hour. */
  visitsPerHour: number
  /** Follow opening hours and the daily traffic shape; off: stores always open, flat traffic. */
  openingHours: boolean
  currency: string
  /** No visit starts at or after this moment; the timeline ends when the last one is over. */
  arrivalsUntilMs?: number
  /**
   * Visits over before this moment are left out (whole). With `startMs` earlier, the timeline
   * opens on stores already busy: the visits under way at this moment, each complete.
   */
  visibleFromMs?: number
}

interface Pending {
  entry: TimelineEntry
  order: number
}

/**
 * The merged, lazily generated stream of every customer's events in timestamp order. Visits start
 * as a Poisson process shaped by the hour of day and by which stores are open; a customer who is
 * in a store, or left one a short while ago, is not picked for a new visit.
 */
export class Timeline {
  private readonly traffic: Prng
  private readonly visitPrng: Prng
  private readonly ids: Prng
  private readonly pending = new MinHeap<Pending>(
    (a, b) =>
      a.entry.event.timestampMs < b.entry.event.timestampMs ||
      (a.entry.event.timestampMs === b.entry.event.timestampMs && a.order < b.order),
  )
  private readonly busyUntil: Float64Array
  private readonly cumulativeAffinity: number[]
  private readonly arrivalsUntil: number
  private nextArrival: number
  private order = 0
  private visitCount = 0
  /** Arrivals dropped because every customer picked was already busy (rate above capacity). */
  private unservedCount = 0

  constructor(
    private readonly world: World,
    private readonly options: TimelineOptions,
  ) {
    if (world.customers.length === 0 || world.stores.length === 0) {
      throw new Error('a timeline needs at least one store and one customer')
    }
    this.traffic = derivePrng(options.seed, 'traffic')
    this.visitPrng = derivePrng(options.seed, 'visits')
    // Ids depend on the start too: the same seed at another start makes other events, and they
    // must not reuse the ids of an earlier run's (the store would drop them as duplicates).
    this.ids = derivePrng(options.seed, `ids/${options.startMs}`)
    this.busyUntil = new Float64Array(world.customers.length).fill(-Infinity)
    let acc = 0
    this.cumulativeAffinity = world.customers.map((c) => (acc += c.affinity))
    this.arrivalsUntil = options.arrivalsUntilMs ?? Infinity
    this.nextArrival = this.drawArrival(options.startMs)
  }

  get visits(): number {
    return this.visitCount
  }

  get unserved(): number {
    return this.unservedCount
  }

  /** The next event in timestamp order, or null when the timeline is over. */
  next(): TimelineEntry | null {
    for (;;) {
      const head = this.pending.peek()
      if (head && head.entry.event.timestampMs <= this.nextArrival) {
        this.pending.pop()
        return head.entry
      }
      if (this.nextArrival >= this.arrivalsUntil) {
        if (!head) return null
        this.pending.pop()
        return head.entry
      }
      this.startVisit(this.nextArrival)
      this.nextArrival = this.drawArrival(this.nextArrival)
    }
  }

  private openStores(ms: number): Store[] {
    return this.options.openingHours
      ? this.world.stores.filter((s) => isOpen(s, ms))
      : this.world.stores
  }

  private intensity(ms: number): number {
    if (!this.options.openingHours) return 1
    const total = sum(this.world.stores.map((s) => s.size))
    const open = sum(this.openStores(ms).map((s) => s.size))
    return ((HOURLY_SHAPE[Math.floor(minuteOfDay(ms) / 60)] as number) * open) / total
  }

  /** The next visit start after `from` (thinning of a Poisson process; closed hours skipped). */
  private drawArrival(from: number): number {
    const perMs = this.options.visitsPerHour / HOUR
    if (!(perMs > 0)) return Infinity
    const peak = this.options.openingHours ? MAX_SHAPE : 1
    let t = from
    for (;;) {
      if (this.options.openingHours) t = nextOpening(this.world.stores, t)
      t += this.traffic.exponential(1 / (perMs * peak))
      if (t >= this.arrivalsUntil) return Infinity
      if (this.traffic.next() * peak < this.intensity(t)) return Math.floor(t)
    }
  }

  private pickCustomer(ms: number): number | null {
    const cum = this.cumulativeAffinity
    const total = cum[cum.length - 1] as number
    for (let attempt = 0; attempt < 12; attempt++) {
      const r = this.traffic.next() * total
      let lo = 0
      let hi = cum.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if ((cum[mid] as number) > r) hi = mid
        else lo = mid + 1
      }
      if ((this.busyUntil[lo] as number) <= ms) return lo
    }
    // Busy regulars: take the next free customer from a random place, so that a high rate uses
    // everyone before visits are dropped.
    const n = cum.length
    const from = Math.floor(this.traffic.next() * n)
    for (let k = 0; k < n; k++) {
      const i = (from + k) % n
      if ((this.busyUntil[i] as number) <= ms) return i
    }
    return null
  }

  private startVisit(ms: number): void {
    const open = this.openStores(ms)
    const index = open.length > 0 ? this.pickCustomer(ms) : null
    if (index === null) {
      this.unservedCount += 1
      return
    }
    const customer = this.world.customers[index] as Customer
    const home = this.world.stores[customer.homeStoreIndex] as Store
    const store =
      open.includes(home) && this.traffic.chance(HOME_STORE_SHARE)
        ? home
        : (open[this.traffic.weightedIndex(open.map((s) => s.size))] as Store)
    const latestExitMs = this.options.openingHours ? closingTime(store, ms) + 10 * MINUTE : Infinity
    const events = makeVisit(customer, store, ms, {
      prng: this.visitPrng,
      ids: this.ids,
      products: this.world.products,
      currency: this.options.currency,
      latestExitMs,
    })
    const exit = events[events.length - 1] as SimEvent
    // Back in a while at the earliest: regulars come several times a day, but not back to back.
    this.busyUntil[index] =
      exit.timestampMs + PAUSE_MIN_MS + this.traffic.exponential(PAUSE_MEAN_EXTRA_MS)
    if (exit.timestampMs < (this.options.visibleFromMs ?? -Infinity)) return
    const visitId = this.visitCount++
    events.forEach((event, i) => {
      this.pending.push({
        entry: { event, visitId, lastOfVisit: i === events.length - 1 },
        order: this.order++,
      })
    })
  }
}

// ---- a day without sending --------------------------------------------------------------------

export interface DayOptions {
  seed: number
  stores: number
  customers: number
  /** The UTC day, `YYYY-MM-DD`. */
  date: string
  /** Mean visits per customer on that day (default 0.8). */
  visitsPerCustomer?: number
  currency?: string
}

/**
 * A whole day of store traffic (every visit that starts that day, under opening hours), in
 * timestamp order, without sending anything: for tests of processing, sync and views.
 */
export function generateDay(options: DayOptions): SimEvent[] {
  const dayStart = Date.parse(`${options.date}T00:00:00Z`)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.date) || Number.isNaN(dayStart)) {
    throw new Error(`'${options.date}' is not a day (YYYY-MM-DD)`)
  }
  const world = makeWorld(options.seed, options.stores, options.customers)
  const openHours =
    sum(world.stores.map((s) => ((s.closesMin - s.opensMin) / 60) * s.size)) /
    sum(world.stores.map((s) => s.size))
  const timeline = new Timeline(world, {
    seed: options.seed,
    startMs: dayStart,
    visitsPerHour: (options.customers * (options.visitsPerCustomer ?? 0.8)) / openHours,
    openingHours: true,
    currency: options.currency ?? 'USD',
    arrivalsUntilMs: dayStart + DAY,
  })
  const events: SimEvent[] = []
  for (let e = timeline.next(); e; e = timeline.next()) events.push(e.event)
  return events
}
