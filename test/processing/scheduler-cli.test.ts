import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/main/core/logger'
import { Processor } from '../../src/main/core/processing/processor'
import {
  customerJourney,
  listAlerts,
  liveStores,
  searchCustomers,
} from '../../src/main/core/processing/queries'
import { ProcessingScheduler } from '../../src/main/core/processing/scheduler'
import { inThreadRunner } from '../../src/main/core/processing/run-batches'
import { closeWritable, openReadonly, openWritable } from '../../src/main/core/store/database'
import { TEST_TOKEN } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { runFootfallToEnd, spawnServe } from '../helpers/serve-process'
import { tempDir } from '../helpers/temp-dir'
import {
  derivedDump,
  ENTER,
  ev,
  EXIT,
  fromScratch,
  HOUR,
  MIN,
  send,
  SHOP,
  startProcessingCore,
  T0,
} from './helpers'
import { generateStream } from './stream'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function eventually<T>(read: () => T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = read()
    if (ok(v)) return v
    if (Date.now() > until) throw new Error(`not reached in ${ms} ms: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('scheduler', () => {
  it('processes by itself every interval, while ingest runs', async () => {
    const core: TestCore = await startProcessingCore({ processIntervalMs: 100 })
    cleanups.push(() => core.dispose())
    await send(core, [ev(ENTER, 'C-live', T0)])
    const journey = await eventually(
      () => customerJourney(core.db, 'C-live'),
      (j) => j.visits.length === 1,
    )
    expect(journey.visits[0]?.status).toBe('open')
    // From source, processing has its own thread: the listener's loop never runs a batch.
    expect(core.processingOnThread).toBe(true)
  })

  it('runs one at a time: calls during a run share the next one; stop waits for a run', async () => {
    const dir = tempDir()
    const db = openWritable(dir.path)
    cleanups.push(() => {
      closeWritable(db)
      dir.cleanup()
    })
    const processor = new Processor(db, { maxEventsPerBatch: 1 })
    const scheduler = new ProcessingScheduler(db, inThreadRunner(processor), 0, silentLogger)
    const insert = db.prepare(
      `INSERT INTO events (id, name, customer_id, occurred_at, occurred_ms, has_offset, received_ms, raw)
       VALUES (?, 'customer.entered.store', ?, 't', ?, 1, 0, x'7b7d')`,
    )
    for (let i = 0; i < 20; i += 1) insert.run(`e-${i}`, `C-${i}`, T0 + i)
    const first = scheduler.runNow()
    const second = scheduler.runNow()
    const third = scheduler.runNow()
    expect(second).toBe(third)
    const [a, b] = await Promise.all([first, second])
    // The first run took every event, one batch each, yielding between them; the second found
    // nothing new. Exactly two runs, never two at once.
    expect(a.batches).toBe(20)
    expect(b.batches).toBe(0)
    expect(scheduler.runs).toBe(2)

    for (let i = 20; i < 40; i += 1) insert.run(`e-${i}`, `C-${i}`, T0 + i)
    const running = scheduler.runNow()
    await scheduler.stop()
    // Stop waited for the run, which ended after its current batch: nothing half-done, and
    // what is left waits for the next start.
    const report = await running
    expect(report.batches).toBeGreaterThan(0)
    expect(processor.state().cursor_seq).toBe(20 + report.batches)
    await expect(scheduler.runNow()).rejects.toThrow(/stopped/)
  })

  it('a failing run is an alert, retried every interval, resolved when it works again', async () => {
    const core: TestCore = await startProcessingCore({ processIntervalMs: 100 })
    cleanups.push(() => core.dispose())
    // A real trigger (not TEMP): processing runs on its own thread and connection.
    core.db.exec(`CREATE TRIGGER no_visits BEFORE INSERT ON visits
                  BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END`)
    await send(core, [ev(ENTER, 'C-f', T0)])
    const alert = await eventually(
      () => listAlerts(core.db, { kind: 'processing_run_failed' }),
      (a) => a.length === 1 && a[0]!.count >= 2,
    )
    expect(alert[0]).toMatchObject({ state: 'open', severity: 'error' })
    expect(alert[0]?.message).toMatch(/injected: disk full.*retries every 0.1 s/)
    core.db.exec('DROP TRIGGER no_visits')
    await eventually(
      () => listAlerts(core.db, { kind: 'processing_run_failed' })[0]?.state,
      (s) => s === 'resolved',
    )
    expect(customerJourney(core.db, 'C-f').visits).toHaveLength(1)
  })
})

describe('queries', () => {
  it('live stores, search, alerts with filters', async () => {
    const core = await startProcessingCore()
    cleanups.push(() => core.dispose())
    const now = T0 + 2 * HOUR
    await send(core, [
      ev(ENTER, 'C-100', now - 90 * MIN, { store_id: 'S-1' }), // entry before the last hour
      ev(ENTER, 'C-101', now - 30 * MIN, { store_id: 'S-1' }),
      ev(EXIT, 'C-101', now - 20 * MIN, { store_id: 'S-1', time_elapsed: 600 }),
      ev(ENTER, 'C-200', now - 10 * MIN, { store_id: 'S-2' }),
      ev(SHOP, 'C-200', now - 10 * MIN + 1, { store_id: 'S-2' }),
      ev(SHOP, 'C-300', now, { store_id: 'S-2' }),
    ])
    await core.processNow()
    const live = liveStores(core.db)
    expect(live.asOf).toBe(new Date(now).toISOString())
    expect(
      live.stores.map((s) => [
        s.storeId,
        s.customersInStore,
        s.entriesLastHour,
        s.exitsLastHour,
        s.eventsLastHour,
      ]),
    ).toEqual([
      ['S-1', 1, 1, 1, 2],
      ['S-2', 2, 1, 0, 3],
    ])
    const s2 = live.stores[1]!
    expect(s2.perMinute.reduce((a, b) => a + b, 0)).toBe(3)
    expect(s2.perMinute[59]).toBe(1) // the event at "now" is in the last minute
    expect(s2.eventsPerMinute).toBe(0.05)

    expect(searchCustomers(core.db, 'C-1').map((h) => h.customerId)).toEqual(['C-100', 'C-101'])
    expect(searchCustomers(core.db, 'C-10', 1).map((h) => h.customerId)).toEqual(['C-100'])
    expect(searchCustomers(core.db, 'X')).toEqual([])

    expect(listAlerts(core.db, { kind: 'entry_inferred' }).map((a) => a.customerId)).toEqual([
      'C-300',
    ])
    expect(listAlerts(core.db, { customerId: 'C-101' })).toEqual([])
    expect(listAlerts(core.db, { state: ['dismissed'] })).toEqual([])
    expect(listAlerts(core.db, { severity: 'info', state: 'open' })).toHaveLength(1)
  })
})

describe('footfall reprocess and stats', () => {
  it('reprocess runs beside serve on the same dir, stats reports processing', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.cleanup())
    const serve = await spawnServe(['--data-dir', dir.path, '--process-interval', '0.2'], {
      FOOTFALL_INGEST_TOKEN: TEST_TOKEN,
    })
    cleanups.push(async () => {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL')
      await serve.exited
    })
    const target = { eventsUrl: `${serve.ingestUrl}/events` } as TestCore
    const { sends } = generateStream(7, 40)
    const half = Math.floor(sends.length / 2)
    await send(target, sends.slice(0, half))
    // Reprocess while serve ingests and processes the second half: they take turns on the
    // write lock, and no event is refused (send() checks every answer).
    const [reprocess] = await Promise.all([
      runFootfallToEnd(['reprocess', '--data-dir', dir.path, '--json']),
      send(target, sends.slice(half)),
    ])
    expect(reprocess.code, reprocess.stderr).toBe(0)
    expect(JSON.parse(reprocess.stdout)).toMatchObject({ complete: true })

    const db = openReadonly(dir.path)
    try {
      await eventually(
        () =>
          db
            .prepare(
              'SELECT count(*) AS n FROM events WHERE seq > (SELECT cursor_seq FROM processing_state)',
            )
            .get() as { n: number },
        (r) => r.n === 0,
      )
      expect(derivedDump(db)).toEqual(fromScratch(db))
    } finally {
      db.close()
    }

    const stats = await runFootfallToEnd(['stats', '--data-dir', dir.path, '--json'])
    expect(stats.code, stats.stderr).toBe(0)
    const json = JSON.parse(stats.stdout) as Record<string, unknown>
    expect(json).toMatchObject({
      customers: 43,
      processing_failed: 0,
      processing_pending: 0,
      rebuild_in_progress: false,
    })
    for (const key of ['visits', 'open_visits', 'alerts_open', 'events', 'quarantined']) {
      expect(typeof json[key], key).toBe('number')
    }
    const through = json.processed_through as { seq: number; high_water: string }
    expect(through.seq).toBeGreaterThan(0)
    expect(Date.parse(through.high_water)).toBeGreaterThan(0)
    expect(json.visits as number).toBeGreaterThan(40)
    const text = await runFootfallToEnd(['stats', '--data-dir', dir.path])
    expect(text.stdout).toMatch(/processed_through +\{"seq":\d+/)

    serve.child.kill('SIGTERM')
    expect((await serve.exited).code).toBe(0)
    // Once serve is gone, reprocess alone finds nothing to change.
    const alone = await runFootfallToEnd(['reprocess', '--data-dir', dir.path, '--json'])
    expect(JSON.parse(alone.stdout)).toMatchObject({
      complete: true,
      visits_changed: 0,
      rollups_changed: 0,
    })
  }, 60_000)

  it('reprocess refuses a dir without a store', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.cleanup())
    const r = await runFootfallToEnd(['reprocess', '--data-dir', `${dir.path}/nothing`])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no Footfall store in .*nothing/)
  })

  it('serve refuses a bad --process-interval', async () => {
    const r = await runFootfallToEnd(['serve', '--process-interval', 'soon'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/'soon' is not a number of seconds/)
  })
})
