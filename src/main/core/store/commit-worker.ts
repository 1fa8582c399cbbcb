import { parentPort, workerData } from 'node:worker_threads'
import { serveCalls } from '../threads/serve-calls'
import { closeWritable, openWritable } from './database'
import { EventStore } from './event-store'
import type { IngestOp, IngestOutcome } from './event-store'
import type { CommitWorkerData } from './commit-thread'

/**
 * The ingest writer's thread. better-sqlite3 is synchronous, so a commit's fsync would stop the
 * listener's event loop; here it stops only this thread while the listener reads and validates
 * the next requests.
 */
const { dataDir, busyTimeoutMs, checkpointEveryMs } = workerData as CommitWorkerData
if (!parentPort) throw new Error('commit-worker runs as a worker thread')

const db = openWritable(dataDir, { busyTimeoutMs })
const store = new EventStore(db)

// Checkpoints copy the WAL back into the database file and fsync it: tens of milliseconds when
// the WAL is large. Left automatic, SQLite runs them inside a commit, and the requests of that
// batch wait. Instead this thread checkpoints between batches, on a timer, in PASSIVE mode
// (never waiting for a lock); a commit that arrives meanwhile waits at most one checkpoint.
db.pragma('wal_autocheckpoint = 0')
const checkpoints = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), checkpointEveryMs)

serveCalls<IngestOp[], IngestOutcome[]>(parentPort, {
  handle: (ops) => store.commit(ops),
  close: () => {
    clearInterval(checkpoints)
    closeWritable(db)
  },
})
