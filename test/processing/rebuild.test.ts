import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { setAlertDismissed } from '../../src/main/core/processing/alert-store'
import { Processor } from '../../src/main/core/processing/processor'
import type { ProcessorOptions } from '../../src/main/core/processing/processor'
import { PROCESSING_DEFAULTS } from '../../src/main/core/processing/config'
import { RebuildAhead } from '../../src/main/core/processing/rebuild-ahead'
import { closeWritable, databasePath, openWritable } from '../../src/main/core/store/database'
import type { WritableDB } from '../../src/main/core/store/database'
import type { TestCore } from '../helpers/core'
import { tempDir } from '../helpers/temp-dir'
import { derivedDump, drain, fromScratch, send, startProcessingCore } from './helpers'
import { generateStream } from './stream'

/** Every processing table in full, versions included: what "nothing was touched" means. */
function fullDump(db: WritableDB): Record<string, unknown[]> {
  const all = (sql: string): unknown[] => db.prepare(sql).all()
  return {
    visits: all('SELECT * FROM visits ORDER BY visit_key'),
    removals: all('SELECT * FROM visit_removals ORDER BY visit_key'),
    rollups: all('SELECT * FROM customer_rollups ORDER BY customer_id'),
    alerts: all('SELECT * FROM alerts ORDER BY key'),
    failures: all('SELECT * FROM processing_failures ORDER BY event_seq'),
    state: all('SELECT cursor_seq, now_ms, quarantine_cursor, change_seq FROM processing_state'),
  }
}

describe('rebuild equality', () => {
  let core: TestCore
  let runs = 0
  let incrementalBatches = 0
  let catchUpBatches = 0
  let stream: ReturnType<typeof generateStream>
  const checks: { run: number; equal: boolean }[] = []
  beforeAll(async () => {
    // Small batches, so that runs split the stream at many places, mid-customer and mid-visit.
    core = await startProcessingCore({
      processing: { maxEventsPerBatch: 37, maxCustomersPerBatch: 20, catchUpAfterCustomers: 30 },
    })
    stream = generateStream(20261121, 120)
    const chunk = 50
    for (let i = 0; i < stream.sends.length; i += chunk) {
      await send(core, stream.sends.slice(i, i + chunk))
      const report = await core.processNow()
      incrementalBatches += report.batches - report.rebuildBatches
      catchUpBatches += report.rebuildBatches
      runs += 1
      // Not only at the end: after every second run, the incremental results must equal the
      // same stored events processed from scratch (before the 30-day window has swept
      // everything, which would hide a customer that should have been recomputed).
      if (runs % 2 === 0) {
        const equal =
          JSON.stringify(
            fromScratch(
              core.db,
              // Alternately one big batch, and the customer-by-customer catch-up of a backlog.
              checks.length % 2 === 0
                ? { maxEventsPerBatch: 1_000_000 }
                : { catchUpAfterEvents: 10, maxCustomersPerBatch: 9 },
            ),
          ) === JSON.stringify(derivedDump(core.db))
        checks.push({ run: runs, equal })
      }
    }
  }, 120_000)
  afterAll(async () => {
    await core.dispose()
  })

  /** A new store holding the same stored events and quarantined bodies, nothing processed. */
  const freshCopy = () => {
    const dir = tempDir()
    const fresh = openWritable(dir.path)
    fresh.exec(`ATTACH DATABASE '${databasePath(core.dataDir)}' AS src`)
    fresh.exec('INSERT INTO events SELECT * FROM src.events')
    fresh.exec('INSERT INTO quarantine SELECT * FROM src.quarantine')
    fresh.exec('DETACH DATABASE src')
    return { fresh, dir }
  }

  it('the stream exercises the rules it should', () => {
    const events = core.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }
    expect(events.n).toBeGreaterThan(500)
    expect(stream.lateCount).toBeGreaterThan(10)
    expect(stream.resentCount).toBeGreaterThan(0)
    expect(runs).toBeGreaterThan(10)
    // Both ways of moving the cursor ran: batches in arrival order, and (when "now" jumped a
    // month and swept many customers at once) the customer-by-customer catch-up.
    expect(incrementalBatches).toBeGreaterThan(20)
    expect(catchUpBatches).toBeGreaterThan(0)
    const kinds = (
      core.db.prepare("SELECT DISTINCT kind FROM alerts WHERE state != 'resolved'").all() as {
        kind: string
      }[]
    ).map((r) => r.kind)
    expect(kinds).toEqual(
      expect.arrayContaining([
        'abandoned_visit',
        'entry_inferred',
        'incomplete_visit',
        'missing_store_id',
        'other_currency',
        'quarantined_payload',
        'store_mismatch',
        'time_elapsed_missing',
        'timestamp_without_offset',
        'tis_mismatch',
      ]),
    )
    const statuses = core.db.prepare('SELECT DISTINCT status FROM visits ORDER BY 1').all()
    expect(statuses).toEqual(
      ['abandoned', 'closed', 'incomplete', 'open'].map((status) => ({ status })),
    )
    const d = core.db.prepare('SELECT sum(duplicate_deliveries) AS n FROM events').get() as {
      n: number
    }
    expect(d.n).toBeGreaterThan(0)
    // Late events did move some visits to another first event, so some keys were retired.
    expect(core.db.prepare('SELECT count(*) AS n FROM visit_removals').get()).not.toEqual({ n: 0 })
  })

  it('after every second run, the results equal processing the stored events from scratch', () => {
    expect(checks.length).toBeGreaterThan(5)
    expect(checks.filter((c) => !c.equal)).toEqual([])
  })

  it('processing from scratch on a fresh store gives the same visits, rollups and alerts', () => {
    const { fresh, dir } = freshCopy()
    try {
      // One big batch and the default rebuild path: a very different split from the live runs.
      const processor = new Processor(fresh, { maxEventsPerBatch: 100_000, maxBatchMs: Infinity })
      expect(drain(processor)).toBe(1)
      expect(derivedDump(fresh)).toEqual(derivedDump(core.db))

      const rebuilt = new Processor(fresh, { maxCustomersPerBatch: 13 })
      rebuilt.startRebuild()
      expect(drain(rebuilt)).toBeGreaterThan(2)
      expect(derivedDump(fresh)).toEqual(derivedDump(core.db))
    } finally {
      closeWritable(fresh)
      dir.cleanup()
    }
  })

  /** A processor whose rebuilds compute customers on a second thread, started beforehand. */
  const withAhead = (
    db: WritableDB,
    dataDir: string,
    options: ProcessorOptions = {},
  ): { processor: Processor; ahead: RebuildAhead; failures: string[] } => {
    const failures: string[] = []
    const ahead = RebuildAhead.start(dataDir, PROCESSING_DEFAULTS, (m) => failures.push(m))
    if (!ahead) throw new Error('no rebuild-ahead worker')
    const processor = new Processor(db, {
      ...options,
      ahead: (config) => {
        expect(config).toEqual(PROCESSING_DEFAULTS)
        return ahead
      },
    })
    return { processor, ahead, failures }
  }

  it('with customers computed on a second thread, a catch-up and a rebuild give the same', () => {
    const { fresh, dir } = freshCopy()
    const { processor, ahead, failures } = withAhead(fresh, dir.path, {
      catchUpAfterEvents: 10,
      maxCustomersPerBatch: 13,
    })
    try {
      expect(ahead.waitUntilReady(30_000)).toBe(true)
      drain(processor)
      expect(derivedDump(fresh)).toEqual(derivedDump(core.db))
      // Both sides computed customers: the thread ahead, the batch what the thread had not begun.
      expect(ahead.stats.byThread).toBeGreaterThan(0)
      expect(ahead.stats.byBatch).toBeGreaterThan(0)

      // Batches out of time after one customer: each stops inside a part the thread computed.
      const short = withAhead(fresh, dir.path, { maxCustomersPerBatch: 13, maxBatchMs: 0 })
      try {
        expect(short.ahead.waitUntilReady(30_000)).toBe(true)
        short.processor.startRebuild()
        const customers = (
          fresh.prepare('SELECT count(*) AS n FROM customer_rollups').get() as { n: number }
        ).n
        expect(drain(short.processor)).toBeGreaterThanOrEqual(customers)
        expect(derivedDump(fresh)).toEqual(derivedDump(core.db))
        expect(short.ahead.stats.byThread).toBeGreaterThan(0)
      } finally {
        short.processor.close()
      }
      expect([...failures, ...short.failures]).toEqual([])
    } finally {
      processor.close()
      closeWritable(fresh)
      dir.cleanup()
    }
  })

  it('a rebuild batch has its customers computed before it takes the write lock', () => {
    const { fresh, dir } = freshCopy()
    const { processor, ahead, failures } = withAhead(fresh, dir.path, { maxCustomersPerBatch: 13 })
    const other = new Database(databasePath(dir.path))
    try {
      expect(ahead.waitUntilReady(30_000)).toBe(true)
      processor.startRebuild()
      const copied = (): boolean => {
        const s = processor.state()
        return s.indexed_seq >= (s.rebuild_target_seq ?? 0)
      }
      while (!copied()) processor.runBatch()
      // Another writer holds the lock (a batch of another process, a backup tool): the next
      // batch's customers get computed all the same, by the thread or here.
      other.exec('BEGIN IMMEDIATE')
      processor.prepare()
      expect(ahead.stats.byThread + ahead.stats.byBatch).toBeGreaterThanOrEqual(13)
      other.exec('ROLLBACK')
      // The batch then only writes: it computes nothing itself.
      const byBatch = ahead.stats.byBatch
      expect(processor.runBatch()).toMatchObject({ kind: 'rebuild', customers: 13 })
      expect(ahead.stats.byBatch).toBe(byBatch)
      drain(processor)
      expect(derivedDump(fresh)).toEqual(derivedDump(core.db))
      expect(failures).toEqual([])
    } finally {
      other.close()
      processor.close()
      closeWritable(fresh)
      dir.cleanup()
    }
  })

  it('a rebuild moved on by another processor between batches still gives the same', () => {
    const { fresh, dir } = freshCopy()
    const { processor, ahead, failures } = withAhead(fresh, dir.path, {
      catchUpAfterEvents: 10,
      maxCustomersPerBatch: 13,
    })
    // Another process (serve beside `footfall reprocess`) takes every third batch, computing
    // its customers itself: what the thread computed for those is dropped, never written twice.
    const other = new Processor(fresh, { maxCustomersPerBatch: 5 })
    try {
      expect(ahead.waitUntilReady(30_000)).toBe(true)
      for (let turn = 0; ; turn += 1) {
        if (!(turn % 3 === 2 ? other : processor).runBatch()) break
      }
      expect(derivedDump(fresh)).toEqual(derivedDump(core.db))
      expect(ahead.stats.byThread).toBeGreaterThan(0)
      expect(failures).toEqual([])
    } finally {
      processor.close()
      closeWritable(fresh)
      dir.cleanup()
    }
  })

  it('a second thread that cannot start is reported, and batches compute everything themselves', async () => {
    const { fresh, dir } = freshCopy()
    const missing = tempDir()
    // Its connection cannot open: no store in that folder.
    const { processor, ahead, failures } = withAhead(fresh, missing.path, {
      catchUpAfterEvents: 10,
    })
    try {
      await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 30_000 })
      expect(failures[0]).toMatch(
        /second thread stopped \(its thread failed: .*no Footfall store.*\); batches compute them themselves/,
      )
      expect(ahead.failed()).toMatch(/no Footfall store/)
      drain(processor)
      expect(derivedDump(fresh)).toEqual(derivedDump(core.db))
      expect(ahead.stats.byThread + ahead.stats.byBatch).toBe(0)
    } finally {
      processor.close()
      closeWritable(fresh)
      dir.cleanup()
      missing.cleanup()
    }
  })

  it('a catch-up cut as short as it gets (50-event copies, batches out of time after one customer) gives the same', () => {
    const { fresh, dir } = freshCopy()
    try {
      const events = (fresh.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n
      const customers = (
        fresh.prepare('SELECT count(DISTINCT customer_id) AS n FROM events').get() as { n: number }
      ).n
      const processor = new Processor(fresh, {
        catchUpAfterEvents: 10,
        maxIndexPerBatch: 50,
        maxBatchMs: 0,
      })
      // Copies of at most 50 events, then one customer a batch, then the stream-wide alerts.
      expect(drain(processor)).toBeGreaterThanOrEqual(Math.ceil(events / 50) + customers)
      expect(derivedDump(fresh)).toEqual(derivedDump(core.db))
    } finally {
      closeWritable(fresh)
      dir.cleanup()
    }
  })

  it('reprocess in place changes nothing (no version bump) and keeps dismissed alerts', async () => {
    const key = (
      core.db.prepare("SELECT key FROM alerts WHERE kind = 'abandoned_visit' LIMIT 1").get() as {
        key: string
      }
    ).key
    expect(setAlertDismissed(core.db, key, true)).toBe(true)
    const before = fullDump(core.db)
    core.processor.startRebuild()
    const report = await core.processNow()
    expect(report.rebuildDone).toBe(true)
    expect(report.visitsChanged + report.rollupsChanged).toBe(0)
    expect(fullDump(core.db)).toEqual(before)
    expect(
      (core.db.prepare('SELECT state FROM alerts WHERE key = ?').get(key) as { state: string })
        .state,
    ).toBe('dismissed')
  })

  it('a batch that fails halfway leaves nothing half-written, and the next run does it again', async () => {
    // A real failure from the database in the middle of a batch: the 3rd customer's visit write.
    const victim = (
      core.db
        .prepare('SELECT customer_id FROM customer_rollups ORDER BY customer_id LIMIT 1 OFFSET 2')
        .get() as { customer_id: string }
    ).customer_id
    const before = fullDump(core.db)
    core.db.exec(`
      CREATE TEMP TRIGGER fail_mid_batch BEFORE UPDATE ON main.customer_rollups
      WHEN NEW.customer_id = '${victim}'
      BEGIN SELECT RAISE(ABORT, 'injected: disk gone'); END`)
    // Force a change for every customer by moving the processing settings: a rebuild under a
    // 30-minute abandonment rewrites many visits, including the victim's first ones.
    const strict = new Processor(core.db, {
      config: { ...core.processor.config, abandonAfterMs: 60_000 },
      maxCustomersPerBatch: 10,
    })
    strict.startRebuild()
    expect(() => strict.runBatch()).toThrow(/injected: disk gone/)
    // Nothing of the failed batch is visible: not the earlier customers, not the progress.
    const afterFailure = fullDump(core.db)
    expect(afterFailure.visits).toEqual(before.visits)
    expect(afterFailure.rollups).toEqual(before.rollups)
    expect(afterFailure.alerts).toEqual(before.alerts)
    const state = strict.state()
    expect(state.rebuild_after_customer).toBeNull()
    core.db.exec('DROP TRIGGER temp.fail_mid_batch')
    // The next run redoes it; then the normal rules, rebuilt again, give the original results.
    expect(strict.runBatch()?.customers).toBe(10)
    drain(strict)
    expect(strip(fullDump(core.db).visits)).not.toEqual(strip(before.visits))
    core.processor.startRebuild()
    await core.processNow()
    const back = fullDump(core.db)
    expect(strip(back.visits)).toEqual(strip(before.visits))
    expect(strip(back.rollups)).toEqual(strip(before.rollups))
  })
})

/** Rows without version: after a detour through other values, versions have moved on. */
function strip(rows: unknown[] | undefined): unknown[] {
  return (rows ?? []).map((r) => {
    const rest = { ...(r as Record<string, unknown>) }
    delete rest.version
    return rest
  })
}
