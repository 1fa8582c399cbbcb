import fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Processor } from '../../src/main/core/processing/processor'
import { closeWritable, openWritable } from '../../src/main/core/store/database'
import type { WritableDB } from '../../src/main/core/store/database'
import { EventIdSettler } from '../../src/main/core/store/event-ids'
import { EventStore, readStoreStats } from '../../src/main/core/store/event-store'
import { eventOp } from '../helpers/samples'
import { tempDir } from '../helpers/temp-dir'

// Ids are kept unique by EventStore (event_ids plus each writer's recent ids, migration 0006),
// not by a constraint: these tests hold it to "stored once, every other delivery counted",
// across writers on their own connections, settling at any point, restarts and failed commits.

const event = eventOp

function store(): { dir: string; open: () => WritableDB } {
  const dir = tempDir()
  const opened: WritableDB[] = []
  onTestFinished(() => {
    for (const db of opened) if (db.open) db.close()
    dir.cleanup()
  })
  return {
    dir: dir.path,
    open: () => {
      const db = openWritable(dir.path)
      opened.push(db)
      return db
    },
  }
}

const storedIds = (db: WritableDB): string[] =>
  (db.prepare('SELECT id FROM events ORDER BY seq').pluck().all() as string[]).sort()

describe('event ids', () => {
  it('a resend is a duplicate whether the first copy is recent, settled, or in the same batch', () => {
    const s = store()
    const db = s.open()
    const writer = new EventStore(db)
    expect(writer.commit([event('a'), event('b'), event('a')])).toEqual([
      'stored',
      'stored',
      'duplicate',
    ])
    expect(writer.commit([event('a')])).toEqual(['duplicate']) // recent, in memory
    expect(writer.settleIds(10)).toBe(2)
    expect(writer.commit([event('b'), event('c')])).toEqual(['duplicate', 'stored']) // settled
    expect(writer.unsettledIds).toBe(1)
    expect(storedIds(db)).toEqual(['a', 'b', 'c'])
    const dup = db.prepare('SELECT id, duplicate_deliveries AS n FROM events ORDER BY id').all()
    expect(dup).toEqual([
      { id: 'a', n: 2 },
      { id: 'b', n: 1 },
      { id: 'c', n: 0 },
    ])
    expect(readStoreStats(db).duplicates).toBe(3)
  })

  it('a second writer on its own connection sees what the first stored, settled or not', () => {
    const s = store()
    const first = new EventStore(s.open())
    const second = new EventStore(s.open())
    expect(first.commit([event('x')])).toEqual(['stored'])
    expect(second.commit([event('x'), event('y')])).toEqual(['duplicate', 'stored'])
    expect(first.commit([event('y')])).toEqual(['duplicate'])
    // Settled by a third connection (processing's, say): both writers forget and still find.
    const third = s.open()
    third.transaction(() => new EventIdSettler(third).through(Number.MAX_SAFE_INTEGER)).immediate()
    expect(first.commit([event('x'), event('y')])).toEqual(['duplicate', 'duplicate'])
    expect(second.commit([event('y')])).toEqual(['duplicate'])
    expect(first.unsettledIds).toBe(0)
    expect(storedIds(third)).toEqual(['x', 'y'])
  })

  it('processing settles the ids of the events it indexes, and the writer lets go of them', () => {
    const s = store()
    const writer = new EventStore(s.open())
    writer.commit(['r', 's', 't'].map((id) => event(id)))
    expect(writer.unsettledIds).toBe(3)
    const processing = s.open()
    const processor = new Processor(processing, { settleIdsAfter: 1 })
    while (processor.runBatch()) {
      // until it has nothing left to do
    }
    expect(processing.prepare('SELECT settled_seq FROM event_id_index').pluck().get()).toBe(3)
    expect(processing.prepare('SELECT id FROM event_ids ORDER BY id').pluck().all()).toEqual([
      'r',
      's',
      't',
    ])
    expect(writer.commit([event('s'), event('u')])).toEqual(['duplicate', 'stored'])
    expect(writer.unsettledIds).toBe(1)
    processor.close()
  })

  it('a settling pass spread over batches finds every id meanwhile, and moves the watermark last', () => {
    const s = store()
    const writer = new EventStore(s.open())
    const ids = Array.from({ length: 20_000 }, (_, i) => `id-${String(i).padStart(5, '0')}`)
    writer.commit(ids.map((id) => event(id)))
    const processing = s.open()
    // Processed first, without settling; then a processor that settles, with nothing else to do.
    const first = new Processor(processing, { settleIdsAfter: Infinity })
    while (first.runBatch()) {
      // until processed
    }
    first.close()
    const processor = new Processor(processing, { settleIdsAfter: 10_000 })
    const settled = () => processing.prepare('SELECT settled_seq FROM event_id_index').pluck().get()
    const inIndex = () => processing.prepare('SELECT count(*) FROM event_ids').pluck().get()
    // A 1 ms budget: a batch inserts a few slices (128 ids each) of the sorted pass, then stops.
    let batches = 0
    let midPass = 0
    while (processor.runBatch(1)) {
      batches += 1
      const n = inIndex() as number
      if (n > 0 && n < 20_000) {
        midPass += 1
        expect(settled()).toBe(0)
      }
      // Mid-pass, every id is still found: some in event_ids already, the rest in memory.
      expect(writer.commit([event(ids[(batches * 7919) % 20_000]!)])).toEqual(['duplicate'])
    }
    expect(midPass).toBeGreaterThan(0)
    expect(settled()).toBe(20_000)
    expect(inIndex()).toBe(20_000)
    expect(writer.commit([event('id-19999'), event('new')])).toEqual(['duplicate', 'stored'])
    expect(writer.unsettledIds).toBe(1)
    processor.close()
  })

  it('a batch that fails keeps nothing, and its ids are stored by the retry', () => {
    const s = store()
    const db = s.open()
    const writer = new EventStore(db)
    expect(() => writer.commit([event('p'), event('q', 'not a number')])).toThrow(/INTEGER/)
    expect(storedIds(db)).toEqual([])
    expect(writer.commit([event('p'), event('q')])).toEqual(['stored', 'stored'])
  })

  it('a restarted writer finds the ids stored before it, settled or not', () => {
    const s = store()
    const before = s.open()
    const writer = new EventStore(before)
    writer.commit([event('m'), event('n')])
    writer.settleIds(1)
    writer.commit([event('o')])
    closeWritable(before)
    const after = new EventStore(s.open())
    expect(after.commit([event('m'), event('n'), event('o'), event('p')])).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'stored',
    ])
  })

  it('stores each id once and counts every other delivery, whatever the interleaving', () => {
    type Step =
      | { do: 'deliver'; writer: number; ids: number[] }
      | { do: 'settle'; writer: number; count: number }
      | { do: 'fail'; writer: number; ids: number[] }
      | { do: 'restart'; writer: number }
    const writer = fc.integer({ min: 0, max: 1 })
    const ids = fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 6 })
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ do: fc.constant('deliver' as const), writer, ids }),
      fc.record({ do: fc.constant('deliver' as const), writer, ids }),
      fc.record({
        do: fc.constant('settle' as const),
        writer,
        count: fc.integer({ min: 1, max: 8 }),
      }),
      fc.record({ do: fc.constant('fail' as const), writer, ids }),
      fc.record({ do: fc.constant('restart' as const), writer }),
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const s = store()
        const dbs = [s.open(), s.open()]
        const writers = dbs.map((db) => new EventStore(db))
        const stored = new Set<string>()
        let deliveries = 0
        for (const st of steps) {
          const w = writers[st.writer]!
          if (st.do === 'deliver') {
            const batch = st.ids.map((i) => `id-${i}`)
            const outcomes = w.commit(batch.map((id) => event(id)))
            batch.forEach((id, i) => {
              expect(outcomes[i]).toBe(stored.has(id) ? 'duplicate' : 'stored')
              stored.add(id)
            })
            deliveries += batch.length
          } else if (st.do === 'settle') {
            w.settleIds(st.count)
          } else if (st.do === 'fail') {
            const batch = [...st.ids.map((i) => event(`id-${i}`)), event('never', 'bad')]
            expect(() => w.commit(batch)).toThrow()
          } else {
            dbs[st.writer]!.close()
            dbs[st.writer] = s.open()
            writers[st.writer] = new EventStore(dbs[st.writer]!)
          }
        }
        expect(storedIds(dbs[0]!)).toEqual([...stored].sort())
        expect(readStoreStats(dbs[0]!).duplicates).toBe(deliveries - stored.size)
        for (const db of dbs) db.close()
      }),
      { numRuns: 60 },
    )
  })
})
