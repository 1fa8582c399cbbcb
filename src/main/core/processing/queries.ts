import type { ReadableDB, WritableDB } from '../store/database'
import type { AlertRow } from './alert-store'
import type {
  AlertDto,
  AlertFilter,
  CustomerHitDto,
  JourneyDto,
  JourneyEventDto,
  LiveStoresDto,
  RollupDto,
  StoreLiveDto,
  VisitDto,
  VisitLineDto,
} from './dto'
import { centsToAmount } from './money'
import type { RollupRow, VisitLine, VisitRow } from './rules'

/**
 * Typed reads for the console. Each works on a read-only connection, so the UI (or a second
 * process) never competes with ingest for the write lock.
 */
type AnyDB = ReadableDB | WritableDB

const iso = (ms: number): string => new Date(ms).toISOString()
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))
const splitList = (s: string): string[] => (s === '' ? [] : s.split(';'))

export function toVisitDto(row: VisitRow & { version: number }): VisitDto {
  const lines = JSON.parse(row.items_json) as VisitLine[]
  return {
    visitKey: row.visit_key,
    customerId: row.customer_id,
    storeId: row.store_id,
    status: row.status,
    entryInferred: row.entry_inferred === 1,
    enteredAt: isoOrNull(row.entered_ms),
    startedAt: iso(row.started_ms),
    exitedAt: isoOrNull(row.exited_ms),
    lastEventAt: iso(row.last_event_ms),
    timeInStoreMinutes: row.tis_ms === null ? null : Math.round(row.tis_ms / 600) / 100,
    spend: centsToAmount(row.spend_cents),
    checkouts: row.checkouts,
    brands: splitList(row.brands),
    items: lines.map((l): VisitLineDto => ({
      eventId: l.event_id,
      productId: l.product_id,
      name: l.name,
      brand: l.brand,
      quantity: l.quantity,
      unitPrice: l.unit_price,
      currency: l.currency,
      discount: l.discount,
      amount: centsToAmount(l.amount_cents),
      counted: l.counted,
    })),
    version: row.version,
  }
}

export function toRollupDto(row: RollupRow & { version: number }): RollupDto {
  return {
    customerId: row.customer_id,
    visitCount: row.visit_count,
    visits30d: row.visits_30d,
    firstVisitAt: isoOrNull(row.first_visit_ms),
    lastVisitAt: isoOrNull(row.last_visit_ms),
    lastStoreId: row.last_store_id,
    avgTimeInStoreMinutes: row.avg_tis_minutes,
    totalSpend: centsToAmount(row.total_spend_cents),
    purchaseVisits: row.purchase_visits,
    topBrands: splitList(row.top_brands),
    version: row.version,
  }
}

export function toAlertDto(row: AlertRow): AlertDto {
  return {
    key: row.key,
    kind: row.kind,
    severity: row.severity,
    scope: row.scope,
    state: row.state,
    customerId: row.customer_id,
    visitKey: row.visit_key,
    eventId: row.event_id,
    storeId: row.store_id,
    quarantineSeq: row.quarantine_seq,
    message: row.message,
    firstSeen: iso(row.first_seen_ms),
    lastSeen: iso(row.last_seen_ms),
    count: row.count,
    stateChangedAt: iso(row.state_changed_ms),
  }
}

/**
 * One customer's journey: visits in order with their events, and the rollup. A visit's events
 * are contiguous in the customer's (timestamp, arrival) order, from its first event (in the
 * visit key) to `last_event_id`; failed events are in no visit.
 */
export function customerJourney(db: AnyDB, customerId: string): JourneyDto {
  const { cursor_seq: cursor, indexed_seq: indexed } = db
    .prepare('SELECT cursor_seq, indexed_seq FROM processing_state WHERE id = 1')
    .get() as { cursor_seq: number; indexed_seq: number }
  const rollup = db
    .prepare('SELECT * FROM customer_rollups WHERE customer_id = ?')
    .get(customerId) as (RollupRow & { version: number }) | undefined
  const visits = db
    .prepare('SELECT * FROM visits WHERE customer_id = ?')
    .all(customerId) as (VisitRow & { version: number })[]
  const failed = new Set(
    (
      db
        .prepare(
          "SELECT event_seq FROM processing_failures WHERE customer_id = ? AND state != 'resolved'",
        )
        .all(customerId) as { event_seq: number }[]
    ).map((r) => r.event_seq),
  )
  const events = db
    .prepare(
      // Processed events by the customer's index (migration 0005), plus those stored since
      // processing last indexed (a short scan of the newest rows, by seq).
      `SELECT c.seq, c.id, c.name, e.occurred_at, c.occurred_ms, c.store_id
       FROM customer_events c JOIN events e ON e.seq = c.seq
       WHERE c.customer_id = ?
       UNION ALL
       SELECT seq, id, name, occurred_at, occurred_ms, store_id FROM events
       WHERE seq > ? AND customer_id = ?
       ORDER BY occurred_ms, seq`,
    )
    .all(customerId, indexed, customerId) as {
    seq: number
    id: string
    name: string
    occurred_ms: number
    store_id: string | null
  }[]
  const byFirst = new Map(visits.map((v) => [v.visit_key, v] as const))
  const out: JourneyDto['visits'] = []
  const outside: JourneyEventDto[] = []
  let current: (VisitDto & { events: JourneyEventDto[] }) | null = null
  let currentLast: string | null = null
  for (const e of events) {
    const state = e.seq > cursor ? 'pending' : failed.has(e.seq) ? 'failed' : 'processed'
    const dto: JourneyEventDto = {
      seq: e.seq,
      id: e.id,
      name: e.name,
      timestamp: iso(e.occurred_ms),
      storeId: e.store_id,
      state,
    }
    if (state !== 'processed') {
      outside.push(dto)
      continue
    }
    const starts = byFirst.get(`${customerId}:${e.id}`)
    if (starts) {
      current = { ...toVisitDto(starts), events: [] }
      currentLast = starts.last_event_id
      out.push(current)
    }
    if (current) current.events.push(dto)
    else outside.push(dto)
    if (e.id === currentLast) {
      current = null
      currentLast = null
    }
  }
  return {
    customerId,
    rollup: rollup ? toRollupDto(rollup) : null,
    visits: out,
    outside,
    processedThroughSeq: cursor,
  }
}

/** Alerts, newest activity first, filtered by any of kind, state(s), severity, customer. */
export function listAlerts(db: AnyDB, filter: AlertFilter = {}): AlertDto[] {
  const where: string[] = []
  const args: (string | number)[] = []
  if (filter.kind !== undefined) {
    where.push('kind = ?')
    args.push(filter.kind)
  }
  if (filter.state !== undefined) {
    const states = Array.isArray(filter.state) ? filter.state : [filter.state]
    where.push(`state IN (${states.map(() => '?').join(', ') || 'NULL'})`)
    args.push(...states)
  }
  if (filter.severity !== undefined) {
    where.push('severity = ?')
    args.push(filter.severity)
  }
  if (filter.customerId !== undefined) {
    where.push('customer_id = ?')
    args.push(filter.customerId)
  }
  const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000)
  const offset = Math.max(filter.offset ?? 0, 0)
  const rows = db
    .prepare(
      `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY last_seen_ms DESC, key LIMIT ? OFFSET ?`,
    )
    .all(...args, limit, offset) as AlertRow[]
  return rows.map(toAlertDto)
}

/** Customers whose id starts with `prefix` (case-sensitive, as ids are), in id order. */
export function searchCustomers(db: AnyDB, prefix: string, limit = 20): CustomerHitDto[] {
  const n = Math.min(Math.max(limit, 1), 200)
  // A range scan on the primary key: ids with the prefix sort right after the prefix itself.
  const rows = db
    .prepare(
      `SELECT customer_id, visit_count, last_visit_ms, last_store_id, total_spend_cents
       FROM customer_rollups WHERE customer_id >= ? ORDER BY customer_id LIMIT ?`,
    )
    .all(prefix, n) as {
    customer_id: string
    visit_count: number
    last_visit_ms: number | null
    last_store_id: string | null
    total_spend_cents: number
  }[]
  const hits: CustomerHitDto[] = []
  for (const r of rows) {
    if (!r.customer_id.startsWith(prefix)) break
    hits.push({
      customerId: r.customer_id,
      visitCount: r.visit_count,
      lastVisitAt: isoOrNull(r.last_visit_ms),
      lastStoreId: r.last_store_id,
      totalSpend: centsToAmount(r.total_spend_cents),
    })
  }
  return hits
}

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS

/**
 * Live picture per store. "Now" is the processed stream's high-water mark, not the wall clock:
 * the same "now" the visits were computed with (so "customers in store" and "entries in the last
 * hour" agree), and a replayed or simulated stream shows its own time. `asOf` tells the UI which
 * moment this is; when the stream goes quiet the picture stays at its last moment.
 */
export function liveStores(db: AnyDB): LiveStoresDto {
  const state = db
    .prepare('SELECT cursor_seq, now_ms FROM processing_state WHERE id = 1')
    .get() as { cursor_seq: number; now_ms: number | null }
  if (state.now_ms === null) return { asOf: null, stores: [] }
  const now = state.now_ms
  const from = now - HOUR_MS
  const stores = new Map<string | null, StoreLiveDto>()
  const get = (storeId: string | null): StoreLiveDto => {
    let s = stores.get(storeId)
    if (!s) {
      s = {
        storeId,
        customersInStore: 0,
        entriesLastHour: 0,
        exitsLastHour: 0,
        eventsLastHour: 0,
        eventsPerMinute: 0,
        perMinute: new Array<number>(60).fill(0),
      }
      stores.set(storeId, s)
    }
    return s
  }
  const open = db
    .prepare("SELECT store_id, count(*) AS n FROM visits WHERE status = 'open' GROUP BY store_id")
    .all() as { store_id: string | null; n: number }[]
  for (const r of open) get(r.store_id).customersInStore = r.n
  const recent = db
    .prepare(
      `SELECT store_id, name, CAST((occurred_ms - ?) / ${MINUTE_MS} AS INTEGER) AS minute, count(*) AS n
       FROM events WHERE occurred_ms > ? AND occurred_ms <= ? AND seq <= ?
       GROUP BY store_id, name, minute`,
    )
    .all(from + 1, from, now, state.cursor_seq) as {
    store_id: string | null
    name: string
    minute: number
    n: number
  }[]
  for (const r of recent) {
    const s = get(r.store_id)
    s.eventsLastHour += r.n
    // Bound parameters are doubles, so the division above may not be whole: floor it here.
    const minute = Math.min(59, Math.max(0, Math.floor(r.minute)))
    s.perMinute[minute] = (s.perMinute[minute] ?? 0) + r.n
    if (r.name === 'customer.entered.store') s.entriesLastHour += r.n
    if (r.name === 'customer.exited.store') s.exitsLastHour += r.n
  }
  for (const s of stores.values())
    s.eventsPerMinute = Math.round((s.eventsLastHour / 60) * 100) / 100
  return {
    asOf: iso(now),
    stores: [...stores.values()].sort((a, b) =>
      (a.storeId ?? '') < (b.storeId ?? '') ? -1 : (a.storeId ?? '') > (b.storeId ?? '') ? 1 : 0,
    ),
  }
}
