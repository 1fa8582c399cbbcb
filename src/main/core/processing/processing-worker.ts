import { parentPort, workerData } from 'node:worker_threads'
import { closeWritable, openWritable } from '../store/database'
import { serveCalls } from '../threads/serve-calls'
import { Processor } from './processor'
import { runBatches } from './run-batches'
import type { RunTotals } from './run-batches'
import type { ProcessingWorkerData } from './processing-thread'

/**
 * The processing thread. Its batches are synchronous SQLite work (better-sqlite3); here they stop
 * only this thread, never the ingest listener's event loop on the main thread.
 */
const { dataDir, options } = workerData as ProcessingWorkerData
if (!parentPort) throw new Error('processing-worker runs as a worker thread')

// Long enough to wait out a commit-thread batch or a `footfall reprocess` batch.
const db = openWritable(dataDir, { busyTimeoutMs: 10_000 })
// The commit thread checkpoints on its timer, between its batches; left automatic, SQLite would
// also run checkpoints inside this thread's commits and lengthen them.
db.pragma('wal_autocheckpoint = 0')
const processor = new Processor(db, options)
let stopping = false

serveCalls<null, RunTotals>(parentPort, {
  handle: () => {
    stopping = false
    return runBatches(processor, () => stopping)
  },
  notice: (name) => {
    if (name === 'stop') stopping = true
  },
  close: () => closeWritable(db),
})
