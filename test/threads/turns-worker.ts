import { parentPort, workerData } from 'node:worker_threads'
import { WriteTurns } from '../../src/main/core/threads/write-turns'

// One side of the write turns, in its own thread (both sides block with Atomics.wait). It runs
// what it is told and reports when its critical section started and ended (performance.now()
// of this thread plus timeOrigin, so both threads share one clock).
const { buffer, side } = workerData as { buffer: SharedArrayBuffer; side: 'ingest' | 'processing' }
const turns = new WriteTurns(buffer)
const now = (): number => performance.timeOrigin + performance.now()
const busy = (ms: number): void => {
  const end = now() + ms
  while (now() < end) {
    // holding the lock: a synchronous SQLite batch or commit
  }
}

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

parentPort!.on(
  'message',
  (m: { holdMs: number; yieldMs?: number; quietMs?: number; burstMs?: number; gapMs?: number }) => {
    const asked = now()
    let started = 0
    let ended = 0
    let contended = false
    const section = (busyNow = false): void => {
      started = now()
      contended = busyNow
      parentPort!.postMessage({ type: 'started', at: started })
      busy(m.holdMs)
      ended = now()
    }
    if (side === 'ingest' && m.burstMs) {
      // A listener under load: commit after commit, a few milliseconds apart.
      const until = now() + m.burstMs
      turns.ingest(() => section())
      while (now() < until) {
        pause(m.gapMs ?? 0)
        turns.ingest(() => busy(m.holdMs))
      }
      ended = now()
    } else if (side === 'ingest') turns.ingest(() => section())
    else turns.processing(section, m.yieldMs ?? 0, m.quietMs)
    parentPort!.postMessage({ type: 'done', asked, started, ended, contended })
  },
)
