import { isEventName } from '../../../shared/event-names'
import type { EventName } from '../../../shared/event-names'
import { checkEvent } from '../../../shared/event-schema'
import type { CheckoutItem } from '../../../shared/event-schema'
import type { ProcessingConfig } from './config'
import { TIS_TOLERANCE_MS, TOP_BRANDS } from './config'
import { lineMicros, microsToCents } from './money'

/**
 * The rules of PROCESSING.md as one pure function: a customer's stored events (in timestamp
 * order, ties by arrival) and "now" give that customer's visits, rollup, data-quality alerts and
 * processing failures. Nothing here reads the clock or the database, which is what makes an
 * incremental run and a rebuild agree (docs/processing.md).
 */

/** One stored event as processing reads it; `raw` is only loaded for checkouts (their items). */
export interface StoredEvent {
  seq: number
  id: string
  name: string
  customer_id: string
  store_id: string | null
  occurred_ms: number
  has_offset: number
  time_elapsed_s: number | null
  raw: Buffer | null
}

export type VisitStatus = 'open' | 'closed' | 'incomplete' | 'abandoned'
export type Severity = 'info' | 'warning' | 'error'

/** A visits row without its `version` (which the writer assigns). */
export interface VisitRow {
  visit_key: string
  customer_id: string
  store_id: string | null
  status: VisitStatus
  entry_inferred: number
  entered_ms: number | null
  started_ms: number
  exited_ms: number | null
  last_event_ms: number
  last_event_id: string
  event_count: number
  tis_ms: number | null
  spend_cents: number
  checkouts: number
  brands: string
  items_json: string
}

export interface RollupRow {
  customer_id: string
  visit_count: number
  visits_30d: number
  first_visit_ms: number | null
  last_visit_ms: number | null
  last_store_id: string | null
  avg_tis_minutes: number | null
  total_spend_cents: number
  purchase_visits: number
  top_brands: string
}

/** The derived part of an alert; its state is the writer's business. */
export interface DerivedAlert {
  key: string
  kind: string
  severity: Severity
  customer_id: string | null
  visit_key: string | null
  event_id: string | null
  store_id: string | null
  message: string
  first_seen_ms: number
  last_seen_ms: number
  count: number
}

export interface FailureRow {
  event_seq: number
  event_id: string
  customer_id: string
  code: FailureCode
  error: string
}

export type FailureCode =
  'invalid_payload' | 'payload_mismatch' | 'unknown_event' | 'internal_error'

export interface CustomerResult {
  customerId: string
  visits: VisitRow[]
  /** Null when the customer has no processable event at all. */
  rollup: RollupRow | null
  alerts: DerivedAlert[]
  failures: FailureRow[]
}

/** One line of a visit's items, as kept in `items_json` (Salesforce's `Items__c`). */
export interface VisitLine {
  event_id: string
  product_id: string
  name: string | null
  brand: string | null
  quantity: number
  unit_price: number
  currency: string
  discount: number
  amount_cents: number
  /** False for a line in another currency: left out of spend and brands. */
  counted: boolean
}

class EventFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message)
  }
}

interface Prepared {
  ev: StoredEvent
  name: EventName
  items: CheckoutItem[]
}

const iso = (ms: number): string => new Date(ms).toISOString()
const storeName = (store: string | null): string => store ?? 'the unknown store'
const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 2)} s`

/** Reads what the columns do not hold (a checkout's items) and checks the row is still sound. */
function prepare(ev: StoredEvent): Prepared {
  if (!isEventName(ev.name)) {
    throw new EventFailure('unknown_event', `stored event name '${ev.name}' is not one of the four`)
  }
  if (ev.name !== 'customer.checked.out') return { ev, name: ev.name, items: [] }
  if (ev.raw === null) throw new EventFailure('invalid_payload', 'the stored payload is missing')
  let value: unknown
  try {
    value = JSON.parse(ev.raw.toString('utf8'))
  } catch (error) {
    throw new EventFailure(
      'invalid_payload',
      `the stored payload is not JSON (${(error as Error).message})`,
    )
  }
  const check = checkEvent(value)
  if (!check.ok) {
    throw new EventFailure(
      'invalid_payload',
      `the stored payload no longer validates: ${check.reason}`,
    )
  }
  const e = check.event
  if (e.id !== ev.id || e.customer_id !== ev.customer_id || e.name !== ev.name) {
    throw new EventFailure(
      'payload_mismatch',
      `the stored payload (id '${e.id}', customer '${e.customer_id}', ${e.name}) does not match its row (id '${ev.id}', customer '${ev.customer_id}', ${ev.name})`,
    )
  }
  return { ev, name: ev.name, items: e.items ?? [] }
}

interface Tally {
  count: number
  eventId: string
  firstMs: number
  lastMs: number
  values: Set<string>
}

function tally(t: Tally | null, ev: StoredEvent, value: string, n = 1): Tally {
  if (!t)
    return {
      count: n,
      eventId: ev.id,
      firstMs: ev.occurred_ms,
      lastMs: ev.occurred_ms,
      values: new Set([value]),
    }
  t.count += n
  t.lastMs = ev.occurred_ms
  t.values.add(value)
  return t
}

class Visit {
  readonly key: string
  readonly storeId: string | null
  status: VisitStatus = 'open'
  enteredMs: number | null
  lastMs: number
  lastId: string
  count = 1
  exitedMs: number | null = null
  tisMs: number | null = null
  spendMicros = 0
  checkouts = 0
  readonly brandMicros = new Map<string, number>()
  readonly lines: VisitLine[] = []
  otherCurrency: Tally | null = null
  storeMismatch: Tally | null = null
  readonly alerts: DerivedAlert[] = []

  constructor(
    readonly customerId: string,
    readonly first: StoredEvent,
    readonly entryInferred: boolean,
    enteredMs: number | null,
  ) {
    this.key = `${customerId}:${first.id}`
    this.storeId = first.store_id
    this.enteredMs = enteredMs
    this.lastMs = first.occurred_ms
    this.lastId = first.id
  }

  get startedMs(): number {
    return this.enteredMs ?? this.first.occurred_ms
  }

  attach(ev: StoredEvent): void {
    this.count += 1
    this.lastMs = ev.occurred_ms
    this.lastId = ev.id
    // An event without store_id is the unknown store (its own alert), not evidence of a move.
    if (ev.store_id !== null && ev.store_id !== this.storeId) {
      this.storeMismatch = tally(this.storeMismatch, ev, ev.store_id)
    }
  }

  alert(
    kind: string,
    severity: Severity,
    eventId: string,
    firstMs: number,
    lastMs: number,
    message: string,
    count = 1,
  ): void {
    this.alerts.push({
      key: `${kind}:${this.key}`,
      kind,
      severity,
      customer_id: this.customerId,
      visit_key: this.key,
      event_id: eventId,
      store_id: this.storeId,
      message,
      first_seen_ms: firstMs,
      last_seen_ms: lastMs,
      count,
    })
  }

  toRow(): VisitRow {
    return {
      visit_key: this.key,
      customer_id: this.customerId,
      store_id: this.storeId,
      status: this.status,
      entry_inferred: this.entryInferred ? 1 : 0,
      entered_ms: this.enteredMs,
      started_ms: this.startedMs,
      exited_ms: this.exitedMs,
      last_event_ms: this.lastMs,
      last_event_id: this.lastId,
      event_count: this.count,
      tis_ms: this.status === 'closed' ? this.tisMs : null,
      spend_cents: microsToCents(this.spendMicros),
      checkouts: this.checkouts,
      brands: rankBrands(this.brandMicros).join(';'),
      items_json: JSON.stringify(this.lines),
    }
  }
}

/** Brands by their spend in cents, highest first, ties by name (code-unit order: no locale). */
export function rankBrands(micros: ReadonlyMap<string, number>): string[] {
  return [...micros.entries()]
    .map(([brand, m]) => ({ brand, cents: microsToCents(m) }))
    .sort((a, b) => b.cents - a.cents || (a.brand < b.brand ? -1 : a.brand > b.brand ? 1 : 0))
    .map((b) => b.brand)
}

/** Folds one customer's events, in order, into visits (rules 1-6). */
class Folder {
  readonly visits: Visit[] = []
  private open: Visit | null = null

  constructor(
    private readonly customerId: string,
    private readonly config: ProcessingConfig,
  ) {}

  add(p: Prepared): void {
    const ev = p.ev
    // Rule 5 seen from the event's side: by the time this event exists, "now" is at least its
    // timestamp, so an open visit silent for longer than the timeout was already abandoned.
    if (this.open && ev.occurred_ms - this.open.lastMs > this.config.abandonAfterMs) {
      this.abandon(this.open)
    }
    switch (p.name) {
      case 'customer.entered.store': {
        if (this.open) this.closeIncomplete(this.open, ev)
        this.begin(ev, false, ev.occurred_ms)
        return
      }
      case 'customer.shopping':
      case 'customer.checked.out': {
        const visit = this.open ?? this.begin(ev, true, ev.occurred_ms)
        if (visit.first !== ev) visit.attach(ev)
        if (p.name === 'customer.checked.out') this.checkout(visit, ev, p.items)
        return
      }
      case 'customer.exited.store': {
        const teMs = ev.time_elapsed_s === null ? null : Math.round(ev.time_elapsed_s * 1000)
        let visit = this.open
        if (visit) visit.attach(ev)
        else visit = this.begin(ev, true, teMs === null ? null : ev.occurred_ms - teMs)
        this.exit(visit, ev, teMs)
        return
      }
    }
  }

  finish(nowMs: number): void {
    if (this.open && nowMs - this.open.lastMs > this.config.abandonAfterMs) this.abandon(this.open)
  }

  private begin(ev: StoredEvent, inferred: boolean, enteredMs: number | null): Visit {
    const visit = new Visit(this.customerId, ev, inferred, enteredMs)
    this.visits.push(visit)
    this.open = visit
    if (inferred) {
      visit.alert(
        'entry_inferred',
        'info',
        ev.id,
        ev.occurred_ms,
        ev.occurred_ms,
        `Visit ${visit.key} at ${storeName(visit.storeId)} has no customer.entered.store: it was opened at its ${ev.name} of ${iso(ev.occurred_ms)}${enteredMs === null ? ' and its entry time is unknown' : ''}. If entries are missing often, check that store's entry sensor and the integrator's sending of entries.`,
      )
    }
    return visit
  }

  private checkout(visit: Visit, ev: StoredEvent, items: readonly CheckoutItem[]): void {
    visit.checkouts += 1
    const currency = this.config.currency.toUpperCase()
    for (const item of items) {
      const discounts = (item.promotions ?? []).map((p) => p.discount)
      const micros = lineMicros(item.quantity, item.unit_price, discounts)
      const counted = item.currency.toUpperCase() === currency
      const brand = item.brand ? item.brand : null
      visit.lines.push({
        event_id: ev.id,
        product_id: item.product_id,
        name: item.name ?? null,
        brand,
        quantity: item.quantity,
        unit_price: item.unit_price,
        currency: item.currency,
        discount: discounts.reduce((a, b) => a + b, 0),
        amount_cents: microsToCents(micros),
        counted,
      })
      if (!counted) {
        visit.otherCurrency = tally(visit.otherCurrency, ev, item.currency.toUpperCase())
        continue
      }
      visit.spendMicros += micros
      if (brand !== null) visit.brandMicros.set(brand, (visit.brandMicros.get(brand) ?? 0) + micros)
    }
  }

  private exit(visit: Visit, ev: StoredEvent, teMs: number | null): void {
    visit.exitedMs = ev.occurred_ms
    const byStamps = visit.enteredMs === null ? null : ev.occurred_ms - visit.enteredMs
    visit.tisMs = teMs ?? byStamps
    visit.status = 'closed'
    this.open = null
    if (teMs === null) {
      visit.alert(
        'time_elapsed_missing',
        'info',
        ev.id,
        ev.occurred_ms,
        ev.occurred_ms,
        byStamps === null
          ? `Exit ${ev.id} of visit ${visit.key} has no readable time_elapsed and the visit has no entry: time in store is unknown. Check what the integrator sends in time_elapsed (seconds, PT…S or HH:MM:SS).`
          : `Exit ${ev.id} of visit ${visit.key} has no readable time_elapsed: time in store was taken from the timestamps (${seconds(byStamps)}). Check what the integrator sends in time_elapsed (seconds, PT…S or HH:MM:SS).`,
      )
    } else if (byStamps !== null && Math.abs(teMs - byStamps) > TIS_TOLERANCE_MS) {
      visit.alert(
        'tis_mismatch',
        'warning',
        ev.id,
        ev.occurred_ms,
        ev.occurred_ms,
        `Exit ${ev.id} of visit ${visit.key} says time_elapsed ${seconds(teMs)}, the timestamps say ${seconds(byStamps)} (more than 60 s apart); time_elapsed was used, as the contract says. Check the clocks of ${storeName(visit.storeId)} and the unit the integrator sends time_elapsed in.`,
      )
    }
  }

  private closeIncomplete(visit: Visit, next: StoredEvent): void {
    visit.status = 'incomplete'
    this.open = null
    visit.alert(
      'incomplete_visit',
      'warning',
      next.id,
      visit.lastMs,
      next.occurred_ms,
      `Visit ${visit.key} at ${storeName(visit.storeId)} had no exit: a new entry (${next.id}, ${iso(next.occurred_ms)}) came first, so it was closed as incomplete with time in store unknown. If this is frequent, check the exit sensor of that store.`,
    )
  }

  private abandon(visit: Visit): void {
    visit.status = 'abandoned'
    this.open = null
    const hours = this.config.abandonAfterMs / 3_600_000
    visit.alert(
      'abandoned_visit',
      'warning',
      visit.lastId,
      visit.lastMs,
      visit.lastMs,
      `Visit ${visit.key} at ${storeName(visit.storeId)} had no event for more than ${hours} h after ${iso(visit.lastMs)} and was closed as abandoned, time in store unknown. If exits go missing, check that store's exit sensor; a late exit that arrives is taken into account automatically.`,
    )
  }

  /** Alerts that summarise a whole visit, raised once it is folded. */
  summarise(visit: Visit): void {
    const m = visit.storeMismatch
    if (m) {
      visit.alert(
        'store_mismatch',
        'warning',
        m.eventId,
        m.firstMs,
        m.lastMs,
        `${m.count} event(s) of visit ${visit.key} came from ${[...m.values].sort().join(', ')}, not from the visit's store ${storeName(visit.storeId)}; the visit stays at its entry's store. Check the store_id the integrator sends for these devices.`,
        m.count,
      )
    }
    const c = visit.otherCurrency
    if (c) {
      visit.alert(
        'other_currency',
        'warning',
        c.eventId,
        c.firstMs,
        c.lastMs,
        `${c.count} checkout line(s) of visit ${visit.key} are in ${[...c.values].sort().join(', ')}, not ${this.config.currency.toUpperCase()}: they are left out of spend and brands. Check the currency the store's till sends, or the deployment currency.`,
        c.count,
      )
    }
  }
}

function rollupOf(
  customerId: string,
  visits: readonly Visit[],
  rows: readonly VisitRow[],
  nowMs: number,
  config: ProcessingConfig,
): RollupRow | null {
  if (rows.length === 0) return null
  let first: VisitRow | null = null
  let last: VisitRow | null = null
  let recent = 0
  let tisSum = 0
  let tisN = 0
  let spend = 0
  let purchases = 0
  const brands = new Map<string, number>()
  for (const row of rows) {
    if (!first || row.started_ms < first.started_ms) first = row
    // Ties go to the later visit in event order: "latest" is the one that happened last.
    if (!last || row.started_ms >= last.started_ms) last = row
    if (nowMs - row.started_ms <= config.recentWindowMs) recent += 1
    if (row.tis_ms !== null) {
      tisSum += row.tis_ms
      tisN += 1
    }
    spend += row.spend_cents
    if (row.checkouts > 0) purchases += 1
  }
  for (const v of visits) {
    for (const [brand, m] of v.brandMicros) brands.set(brand, (brands.get(brand) ?? 0) + m)
  }
  return {
    customer_id: customerId,
    visit_count: rows.length,
    visits_30d: recent,
    first_visit_ms: first ? first.started_ms : null,
    last_visit_ms: last ? last.started_ms : null,
    last_store_id: last ? last.store_id : null,
    // Mean in minutes to 2 decimals from integer milliseconds: one rounding, no drift.
    avg_tis_minutes: tisN === 0 ? null : Math.round(tisSum / (tisN * 600)) / 100,
    total_spend_cents: spend,
    purchase_visits: purchases,
    top_brands: rankBrands(brands).slice(0, TOP_BRANDS).join(';'),
  }
}

/**
 * Applies the rules to one customer. `events` must be that customer's stored events in
 * (occurred_ms, seq) order; `nowMs` the high-water mark of the processed stream.
 */
export function processCustomer(
  customerId: string,
  events: readonly StoredEvent[],
  nowMs: number,
  config: ProcessingConfig,
): CustomerResult {
  const failures: FailureRow[] = []
  const prepared: Prepared[] = []
  for (const ev of events) {
    try {
      prepared.push(prepare(ev))
    } catch (error) {
      failures.push(failureOf(ev, error))
    }
  }
  // An unexpected error while folding is pinned on the event being folded: that event is set
  // aside as a failure and the customer is folded again without it, so one poison event cannot
  // hold back the rest. Each pass removes one event, so this ends.
  const excluded = new Set<number>()
  for (;;) {
    const folder = new Folder(customerId, config)
    let current: Prepared | null = null
    try {
      for (const p of prepared) {
        if (excluded.has(p.ev.seq)) continue
        current = p
        folder.add(p)
      }
    } catch (error) {
      if (!current) throw error
      excluded.add(current.ev.seq)
      failures.push(failureOf(current.ev, error))
      continue
    }
    folder.finish(nowMs)
    const rows = folder.visits.map((v) => v.toRow())
    const alerts: DerivedAlert[] = []
    for (const v of folder.visits) {
      folder.summarise(v)
      alerts.push(...v.alerts)
    }
    for (const f of failures) alerts.push(failureAlert(f, events))
    return {
      customerId,
      visits: rows,
      rollup: rollupOf(customerId, folder.visits, rows, nowMs, config),
      alerts,
      failures,
    }
  }
}

function failureOf(ev: StoredEvent, error: unknown): FailureRow {
  const code: FailureCode = error instanceof EventFailure ? error.code : 'internal_error'
  const message = error instanceof Error ? error.message : String(error)
  return { event_seq: ev.seq, event_id: ev.id, customer_id: ev.customer_id, code, error: message }
}

function failureAlert(f: FailureRow, events: readonly StoredEvent[]): DerivedAlert {
  const ev = events.find((e) => e.seq === f.event_seq)
  const at = ev ? ev.occurred_ms : 0
  return {
    key: `processing_failure:${f.event_id}`,
    kind: 'processing_failure',
    severity: 'error',
    customer_id: f.customer_id,
    visit_key: null,
    event_id: f.event_id,
    store_id: ev ? ev.store_id : null,
    message: `Event ${f.event_id} (seq ${f.event_seq}) of customer ${f.customer_id} could not be processed (${f.code}): ${f.error}. The customer's other events were processed without it. Fix the stored payload (or upgrade Footfall if this is a bug), then retry it: \`footfall retry --event-seq ${f.event_seq}\`.`,
    first_seen_ms: at,
    last_seen_ms: at,
    count: 1,
  }
}
