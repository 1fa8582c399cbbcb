import { parentPort, workerData } from 'node:worker_threads'
import { closeWritable, openWritable } from '../store/database'
import { serveCalls } from '../threads/serve-calls'
import { WriteTurns } from '../threads/write-turns'
import { Processor } from './processor'
import { RebuildAhead } from './rebuild-ahead'
import { runBatches } from './run-batches'
import type { RunTotals } from './run-batches'
import type { ProcessingWorkerData } from './processing-thread'

/**
 * The processing thread. Its batches are synchronous SQLite work (better-sqlite3); here they stop
 * only this thread, never the ingest listener's event loop on the main thread.
 */
const { dataDir, options, checkpointEveryMs, turns } = workerData as ProcessingWorkerData
if (!parentPort) throw new Error('processing-worker runs as a worker thread')

// Long enough to wait out a commit-thread batch or a `footfall reprocess` batch.
const db = openWritable(dataDir, { busyTimeoutMs: 10_000 })
// This thread checkpoints the WAL for the whole store, on a timer, between its batches, so that
// neither its own commits nor the ingest commits ever run one (PASSIVE: it copies what it can
// without waiting for, or blocking, a writer).
db.pragma('wal_autocheckpoint = 0')
const checkpoints = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), checkpointEveryMs)
// Said in the next run's totals, which the scheduler logs.
const warnings: string[] = []
const processor = new Processor(db, {
  ...options,
  // A rebuild (a cold store's catch-up, a reprocess) computes customers on a second thread too.
  ahead: (config) => {
    const ahead = RebuildAhead.start(dataDir, config, (message) => warnings.push(message))
    if (!ahead)
      warnings.push('this build has no rebuild-ahead-worker entry: rebuilds use one thread')
    return ahead
  },
})
const writeTurns = new WriteTurns(turns)
writeTurns.resetProcessing()
let stopping = false

serveCalls<null, RunTotals>(parentPort, {
  handle: () => {
    stopping = false
    // While ingest is busy it goes first, for up to 50 ms a batch, and batches are short.
    return runBatches(
      processor,
      () => stopping,
      (batch) => writeTurns.processing(batch, 50),
    ).then((totals) => ({ ...totals, warnings: [...totals.warnings, ...warnings.splice(0)] }))
  },
  notice: (name) => {
    if (name === 'stop') stopping = true
  },
  close: () => {
    clearInterval(checkpoints)
    processor.close()
    closeWritable(db)
  },
})
