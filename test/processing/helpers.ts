import { expect } from 'vitest'
import { Processor } from '../../src/main/core/processing/processor'
import type { ProcessorOptions } from '../../src/main/core/processing/processor'
import { closeWritable, openWritable } from '../../src/main/core/store/database'
import type { WritableDB, ReadableDB } from '../../src/main/core/store/database'
import { tempDir } from '../helpers/temp-dir'
import type { CoreConfig } from '../../src/main/core/core'
import { postEvent, startTestCore } from '../helpers/core'
import type { TestCore } from '../helpers/core'

/** A real core (HTTP ingest, commit thread, SQLite) whose processing runs only when asked. */
export function startProcessingCore(overrides: Partial<CoreConfig> = {}): Promise<TestCore> {
  return startTestCore({ processIntervalMs: 0, ...overrides })
}

export type EventName =
  'customer.entered.store' | 'customer.shopping' | 'customer.checked.out' | 'customer.exited.store'

export const ENTER: EventName = 'customer.entered.store'
export const SHOP: EventName = 'customer.shopping'
export const PAY: EventName = 'customer.checked.out'
export const EXIT: EventName = 'customer.exited.store'

export const T0 = Date.parse('2026-11-21T10:00:00.000Z')
export const MIN = 60_000
export const HOUR = 60 * MIN
export const DAY = 24 * HOUR

export interface Item {
  product_id?: string
  name?: string
  brand?: string | null
  quantity?: number
  unit_price: number
  currency?: string
  promotions?: { code?: string; discount: number }[]
}

let counter = 0

/** Builds one event as the integrator sends it; `at` is epoch ms (sent as ISO with Z). */
export function ev(
  name: EventName,
  customer: string,
  at: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  counter += 1
  const base: Record<string, unknown> = {
    id: `${customer}-${String(counter).padStart(6, '0')}`,
    name,
    timestamp: new Date(at).toISOString(),
    customer_id: customer,
    store_id: 'S-1',
  }
  if (name === PAY && extra.items === undefined) base.items = []
  return { ...base, ...extra }
}

export function item(i: Item): Record<string, unknown> {
  return {
    product_id: i.product_id ?? 'P-1',
    name: i.name ?? 'Thing',
    brand: i.brand === undefined ? 'Acme' : i.brand,
    quantity: i.quantity ?? 1,
    unit_price: i.unit_price,
    currency: i.currency ?? 'USD',
    promotions: i.promotions ?? [],
  }
}

/** Sends events one by one over HTTP, as the sender does (next only after a success). */
export async function send(core: TestCore, events: readonly (object | string)[]): Promise<void> {
  for (const e of events) {
    const answer = await postEvent(core.eventsUrl, e)
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300)
  }
}

type AnyDB = WritableDB | ReadableDB

export function visitsOf(db: AnyDB, customer: string): Record<string, unknown>[] {
  return db
    .prepare('SELECT * FROM visits WHERE customer_id = ? ORDER BY started_ms, visit_key')
    .all(customer) as Record<string, unknown>[]
}

export function rollupOf(db: AnyDB, customer: string): Record<string, unknown> | undefined {
  return db.prepare('SELECT * FROM customer_rollups WHERE customer_id = ?').get(customer) as
    Record<string, unknown> | undefined
}

export function alertsOf(db: AnyDB, customer: string, kind?: string): Record<string, unknown>[] {
  return (
    db.prepare('SELECT * FROM alerts WHERE customer_id = ? ORDER BY key').all(customer) as Record<
      string,
      unknown
    >[]
  ).filter((a) => kind === undefined || a.kind === kind)
}

export function alertByKey(db: AnyDB, key: string): Record<string, unknown> | undefined {
  return db.prepare('SELECT * FROM alerts WHERE key = ?').get(key) as
    Record<string, unknown> | undefined
}

/**
 * Everything processing derives, without what is bookkeeping rather than result: `version`
 * (change tracking) and wall-clock audit fields. Resolved alerts and failures are history, not
 * results, so they are left out too (a fresh store has no history).
 */
export function derivedDump(db: AnyDB): Record<string, unknown[]> {
  const all = (sql: string): unknown[] => db.prepare(sql).all()
  return {
    visits: all(
      `SELECT visit_key, customer_id, store_id, status, entry_inferred, entered_ms, started_ms,
              exited_ms, last_event_ms, last_event_id, event_count, tis_ms, spend_cents,
              checkouts, brands, items_json
       FROM visits ORDER BY visit_key`,
    ),
    rollups: all(
      `SELECT customer_id, visit_count, visits_30d, first_visit_ms, last_visit_ms, last_store_id,
              avg_tis_minutes, total_spend_cents, purchase_visits, top_brands
       FROM customer_rollups ORDER BY customer_id`,
    ),
    alerts: all(
      `SELECT key, kind, severity, scope, customer_id, visit_key, event_id, store_id,
              quarantine_seq, message, first_seen_ms, last_seen_ms, count, state
       FROM alerts WHERE state != 'resolved' ORDER BY key`,
    ),
    failures: all(
      `SELECT event_seq, event_id, customer_id, code, error, state
       FROM processing_failures WHERE state != 'resolved' ORDER BY event_seq`,
    ),
    state: all('SELECT cursor_seq, now_ms, quarantine_cursor FROM processing_state'),
  }
}

/**
 * The same stored events and quarantine, processed from scratch on a fresh store (by default in
 * one batch), up to the live store's cursor.
 */
export function fromScratch(
  live: AnyDB,
  options: ProcessorOptions = { maxEventsPerBatch: 1_000_000 },
): Record<string, unknown[]> {
  const { cursor_seq: cursor, quarantine_cursor: qCursor } = live
    .prepare('SELECT cursor_seq, quarantine_cursor FROM processing_state')
    .get() as { cursor_seq: number; quarantine_cursor: number }
  const dir = tempDir()
  const fresh = openWritable(dir.path)
  try {
    fresh.exec(`ATTACH DATABASE '${live.name}' AS src`)
    fresh.prepare('INSERT INTO events SELECT * FROM src.events WHERE seq <= ?').run(cursor)
    fresh.prepare('INSERT INTO quarantine SELECT * FROM src.quarantine WHERE seq <= ?').run(qCursor)
    fresh.exec('DETACH DATABASE src')
    drain(new Processor(fresh, options))
    return derivedDump(fresh)
  } finally {
    closeWritable(fresh)
    dir.cleanup()
  }
}

export function drain(processor: Processor): number {
  let batches = 0
  while (processor.runBatch()) batches += 1
  return batches
}
