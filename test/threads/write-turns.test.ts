import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { WriteTurns } from '../../src/main/core/threads/write-turns'

// The two real sides of WriteTurns in two real threads, sharing one buffer.
interface Done {
  asked: number
  started: number
  ended: number
  /** What processing's batch was told: ingest was busy. */
  contended: boolean
}

const boot = new URL('../../src/main/core/threads/ts-worker-boot.mjs', import.meta.url)
const entry = new URL('./turns-worker.ts', import.meta.url).href
const workers: Worker[] = []

function side(buffer: SharedArrayBuffer, name: 'ingest' | 'processing') {
  const worker = new Worker(boot, { workerData: { entry, buffer, side: name } })
  workers.push(worker)
  const next = (type: string): Promise<Record<string, number>> =>
    new Promise((resolve) => {
      const on = (m: Record<string, number> & { type: string }): void => {
        if (m.type !== type) return
        worker.off('message', on)
        resolve(m)
      }
      worker.on('message', on)
    })
  return {
    run(
      holdMs: number,
      yieldMs?: number,
      more?: { burstMs?: number; gapMs?: number; quietMs?: number },
    ) {
      const started = next('started')
      const done = next('done') as unknown as Promise<Done>
      worker.postMessage({ holdMs, yieldMs, ...more })
      return { started, done }
    },
  }
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()))
})

describe('WriteTurns', () => {
  it('an ingest commit waits out a processing batch in progress, and starts as soon as it ends', async () => {
    const buffer = WriteTurns.buffer()
    const processing = side(buffer, 'processing')
    const ingest = side(buffer, 'ingest')
    const batch = processing.run(300)
    await batch.started
    const commit = ingest.run(1).done
    const [b, c] = await Promise.all([batch.done, commit])
    // (Each thread reads its own clock: a few milliseconds of slack; a commit that did not wait
    // would start about 300 ms early.)
    expect(c.started).toBeGreaterThanOrEqual(b.ended - 5)
    // Woken by the batch's end, not by polling (SQLite's busy handler sleeps up to 100 ms).
    expect(c.started - b.ended).toBeLessThan(200)
  })

  it('a processing batch lets a waiting ingest commit go first', async () => {
    const buffer = WriteTurns.buffer()
    const processing = side(buffer, 'processing')
    const ingest = side(buffer, 'ingest')
    const commit = ingest.run(200)
    await commit.started
    const [c, b] = await Promise.all([commit.done, processing.run(1, 5_000).done])
    expect(b.started).toBeGreaterThanOrEqual(c.ended - 5)
  })

  it('a processing turn left taken (a thread that died mid-batch) holds ingest up only so long', async () => {
    const buffer = WriteTurns.buffer()
    new Int32Array(buffer)[1] = 1 // taken, and nobody will give it back
    const ingest = side(buffer, 'ingest')
    const c = await ingest.run(1).done
    expect(c.started - c.asked).toBeGreaterThanOrEqual(1_900)
    expect(c.started - c.asked).toBeLessThan(10_000)
    new WriteTurns(buffer).resetProcessing()
    const again = await ingest.run(1).done
    expect(again.started - again.asked).toBeLessThan(500)
  })

  it('but only for so long: steady ingest does not starve processing', async () => {
    const buffer = WriteTurns.buffer()
    const processing = side(buffer, 'processing')
    const ingest = side(buffer, 'ingest')
    const commit = ingest.run(2_000)
    await commit.started
    const b = await processing.run(1, 50).done
    const c = await commit.done
    // The batch went after its 50 ms of yielding, long before the commit ended (SQLite's own
    // lock would then make it wait; the turns only decide who asks first).
    expect(b.started).toBeLessThan(c.ended - 1_000)
  })

  it('with ingest idle, a processing batch goes at once and need not keep short', async () => {
    const processing = side(WriteTurns.buffer(), 'processing')
    const b = await processing.run(1, 1_000).done
    expect(b.started - b.asked).toBeLessThan(200)
    expect(b.contended).toBe(false)
  })

  it('while ingest is busy (commits milliseconds apart), processing stays off for its whole yield and keeps short', async () => {
    const buffer = WriteTurns.buffer()
    const processing = side(buffer, 'processing')
    const ingest = side(buffer, 'ingest')
    const load = ingest.run(2, undefined, { burstMs: 1_500, gapMs: 3 })
    await load.started
    // Quiet means 50 ms without a commit here (10 in production), so that a test thread
    // descheduled on a busy machine does not look like a listener gone quiet.
    const b = await processing.run(1, 300, { quietMs: 50 }).done
    // Going at the first 3 ms pause would start it within milliseconds; it waits its 300 ms.
    expect(b.started - b.asked).toBeGreaterThanOrEqual(290)
    expect(b.contended).toBe(true)
    await load.done
  })
})
