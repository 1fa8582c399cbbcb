import { parentPort, workerData } from 'node:worker_threads'
import { closeWritable, openWritable } from '../store/database'
import { Processor } from './processor'
import { runBatches } from './run-batches'
import type {
  FromProcessingWorker,
  ProcessingWorkerData,
  ToProcessingWorker,
} from './processing-thread'

/**
 * The processing thread. Its batches are synchronous SQLite work (better-sqlite3); here they stop
 * only this thread, never the ingest listener's event loop on the main thread.
 */
const { dataDir, options } = workerData as ProcessingWorkerData
const port = parentPort
if (!port) throw new Error('processing-worker runs as a worker thread')

// Long enough to wait out a commit-thread batch or a `footfall reprocess` batch.
const db = openWritable(dataDir, { busyTimeoutMs: 10_000 })
// The commit thread checkpoints on its timer, between its batches; left automatic, SQLite would
// also run checkpoints inside this thread's commits and lengthen them.
db.pragma('wal_autocheckpoint = 0')
const processor = new Processor(db, options)
let stopping = false
const reply = (message: FromProcessingWorker): void => port.postMessage(message)

port.on('message', (message: ToProcessingWorker) => {
  switch (message.type) {
    case 'stop':
      stopping = true
      return
    case 'close':
      closeWritable(db)
      reply({ type: 'closed' })
      port.close()
      return
    case 'run':
      stopping = false
      runBatches(processor, () => stopping).then(
        (totals) => reply({ type: 'done', run: message.run, totals }),
        (error: unknown) =>
          reply({
            type: 'failed',
            run: message.run,
            message: error instanceof Error ? error.message : String(error),
          }),
      )
  }
})
reply({ type: 'ready' })
