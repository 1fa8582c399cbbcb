import { parentPort, workerData } from 'node:worker_threads'
import { closeWritable, openWritable } from './database'
import { EventStore } from './event-store'
import type { CommitWorkerData, ToCommitWorker, FromCommitWorker } from './commit-thread'

/**
 * The ingest writer's thread. better-sqlite3 is synchronous, so a commit's fsync would stop the
 * listener's event loop; here it stops only this thread while the listener reads and validates
 * the next requests.
 */
const { dataDir, busyTimeoutMs, checkpointEveryMs } = workerData as CommitWorkerData
const port = parentPort
if (!port) throw new Error('commit-worker runs as a worker thread')

const db = openWritable(dataDir, { busyTimeoutMs })
const store = new EventStore(db)

// Checkpoints copy the WAL back into the database file and fsync it: tens of milliseconds when
// the WAL is large. Left automatic, SQLite runs them inside a commit, and the requests of that
// batch wait. Instead this thread checkpoints between batches, on a timer, in PASSIVE mode
// (never waiting for a lock); a commit that arrives meanwhile waits at most one checkpoint.
db.pragma('wal_autocheckpoint = 0')
const checkpoints = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), checkpointEveryMs)
const reply = (message: FromCommitWorker): void => port.postMessage(message)

port.on('message', (message: ToCommitWorker) => {
  if (message.type === 'close') {
    clearInterval(checkpoints)
    closeWritable(db)
    reply({ type: 'closed' })
    port.close()
    return
  }
  try {
    reply({ type: 'done', batch: message.batch, outcomes: store.commit(message.ops) })
  } catch (error) {
    const e = error as Error & { code?: string }
    reply({ type: 'failed', batch: message.batch, message: e.message, code: e.code ?? null })
  }
})
reply({ type: 'ready' })
