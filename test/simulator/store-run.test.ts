import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import type { RunningCore } from '../../src/main/core/core'
import { openReadonly } from '../../src/main/core/store/database'
import { readStoreStats } from '../../src/main/core/store/event-store'
import { readManifest, runSimulation } from '../../src/tools/simulator/index'
import type { Manifest, SimulationSummary } from '../../src/tools/simulator/index'
import { startTestCore } from './core-helper'
import { fastOptions, tempDir } from './helpers'

/**
 * A run with every fault switched on, against a real core: the store must hold exactly what the
 * sender's manifest says was acknowledged, no more and no less.
 */
describe('a simulated run against a real Footfall core', () => {
  const dir = tempDir('store-run')
  let core: RunningCore
  let summary: SimulationSummary
  let manifest: Manifest
  let rows: {
    id: string
    customer_id: string
    store_id: string | null
    name: string
    time_elapsed_s: number | null
    duplicate_deliveries: number
    seq: number
  }[]
  let quarantine: { event_id: string | null; reason: string }[]
  let stats: ReturnType<typeof readStoreStats>

  beforeAll(async () => {
    core = await startTestCore(join(dir.path, 'data'))
    const manifestPath = join(dir.path, 'manifest.jsonl')
    summary = await runSimulation(
      fastOptions(core.ingestUrl, {
        events: 600,
        resendRate: 0.15,
        badRate: 0.06,
        missingStoreRate: 0.05,
        elapsedFormat: 'mixed',
        manifestPath,
      }),
    )
    await core.stop()
    manifest = readManifest(manifestPath)
    const db = openReadonly(join(dir.path, 'data'))
    try {
      stats = readStoreStats(db)
      rows = db
        .prepare(
          'SELECT id, customer_id, store_id, name, time_elapsed_s, duplicate_deliveries, seq FROM events ORDER BY seq',
        )
        .all() as typeof rows
      quarantine = db.prepare('SELECT event_id, reason FROM quarantine').all() as typeof quarantine
    } finally {
      db.close()
    }
  })

  afterAll(async () => {
    await core?.stop()
    dir.remove()
  })

  it('delivered everything it planned, each acknowledged', () => {
    expect(summary.fatal).toBeNull()
    expect(summary.abandoned).toBe(0)
    expect(summary.planned.events).toBe(600)
    expect(summary.planned.resends).toBeGreaterThan(0)
    expect(summary.planned.bad).toBeGreaterThan(0)
    const total = summary.planned.events + summary.planned.resends + summary.planned.bad
    expect(manifest.deliveries).toHaveLength(total)
    expect(manifest.deliveries.every((d) => d.outcome === 'acknowledged')).toBe(true)
    expect(manifest.summary).toMatchObject({ acknowledged: total, abandoned: 0 })
  })

  it('the store holds exactly the distinct valid events acknowledged', () => {
    const valid = manifest.deliveries.filter((d) => d.kind !== 'bad')
    const acked = new Set(valid.map((d) => d.id))
    expect(acked.size).toBe(600)
    expect(rows).toHaveLength(acked.size)
    expect(new Set(rows.map((r) => r.id))).toEqual(acked)
    expect(stats.events).toBe(600)
    // first deliveries were stored (201), resends found them already there (200 duplicate)
    for (const d of valid) {
      expect([d.kind, d.status, d.answer]).toEqual(
        d.kind === 'event' ? ['event', 201, 'stored'] : ['resend', 200, 'duplicate'],
      )
    }
  })

  it('counts every resend as a duplicate, on the event it repeats', () => {
    const resends = manifest.deliveries.filter((d) => d.resend)
    expect(stats.duplicates).toBe(resends.length)
    const perId = new Map<string, number>()
    for (const d of resends) perId.set(d.id as string, (perId.get(d.id as string) ?? 0) + 1)
    for (const r of rows) expect(r.duplicate_deliveries).toBe(perId.get(r.id) ?? 0)
    // resends are whole visits: each resent visit repeats an entry and an exit
    expect(resends.filter((d) => d.name === 'customer.entered.store').length).toBe(
      resends.filter((d) => d.name === 'customer.exited.store').length,
    )
  })

  it('quarantine holds exactly the malformed bodies, answered 202', () => {
    const bad = manifest.deliveries.filter((d) => d.kind === 'bad')
    expect(stats.quarantined).toBe(bad.length)
    expect(quarantine).toHaveLength(bad.length)
    for (const d of bad) expect([d.status, d.answer]).toEqual([202, 'quarantined'])
    const badIds = bad
      .map((d) => d.id)
      .filter((id) => id !== null)
      .sort()
    const quarantinedIds = quarantine
      .map((q) => q.event_id)
      .filter((id) => id !== null)
      .sort()
    expect(quarantinedIds).toEqual(badIds)
    // every kind of fault was exercised and none of them reached the events table
    expect(new Set(bad.map((d) => d.bad))).toEqual(
      new Set(['bad:not-json', 'bad:missing-field', 'bad:unknown-name', 'bad:bad-timestamp']),
    )
    const eventIds = new Set(rows.map((r) => r.id))
    expect(badIds.some((id) => eventIds.has(id))).toBe(false)
  })

  it('each customer’s events reached the store in the order they were sent', () => {
    const sentOrder = new Map<string, string[]>()
    for (const d of [...manifest.deliveries].sort((a, b) => a.seq - b.seq)) {
      if (d.kind !== 'event') continue
      const list = sentOrder.get(d.customer_id) ?? []
      list.push(d.id as string)
      sentOrder.set(d.customer_id, list)
    }
    const storedOrder = new Map<string, string[]>()
    for (const r of rows) {
      const list = storedOrder.get(r.customer_id) ?? []
      list.push(r.id)
      storedOrder.set(r.customer_id, list)
    }
    expect(storedOrder).toEqual(sentOrder)
  })

  it('kept events without store_id and read time_elapsed in all three forms', () => {
    expect(rows.filter((r) => r.store_id === null).length).toBeGreaterThan(0)
    const exits = rows.filter((r) => r.name === 'customer.exited.store')
    expect(exits.length).toBeGreaterThan(50)
    // the store parsed every exit's time_elapsed, whichever form it came in
    expect(exits.every((r) => r.time_elapsed_s !== null && r.time_elapsed_s > 0)).toBe(true)
  })

  it('the raw bodies show all three time_elapsed forms', () => {
    const db = new Database(join(dir.path, 'data', 'footfall.db'), { readonly: true })
    try {
      const raws = (
        db.prepare("SELECT raw FROM events WHERE name = 'customer.exited.store'").all() as {
          raw: Buffer
        }[]
      ).map((r) => (JSON.parse(r.raw.toString('utf8')) as { time_elapsed: unknown }).time_elapsed)
      expect(raws.some((v) => typeof v === 'number')).toBe(true)
      expect(raws.some((v) => typeof v === 'string' && v.startsWith('PT'))).toBe(true)
      expect(raws.some((v) => typeof v === 'string' && /^\d+:\d\d:\d\d/.test(v))).toBe(true)
    } finally {
      db.close()
    }
  })
})
