import { parentPort, workerData } from 'node:worker_threads'
import { classifyReceived } from '../ingest/classify-body'
import { serveCalls } from '../threads/serve-calls'
import { WriteTurns } from '../threads/write-turns'
import { closeWritable, openWritable } from './database'
import { MAX_UNSETTLED_IDS } from './event-ids'
import { EventStore } from './event-store'
import type { ReceivedOp } from './event-store'
import { decodeOps } from './ingest-wire'
import type { WireOps } from './ingest-wire'
import type { CommitAnswer, CommitWorkerData } from './commit-thread'

/**
 * The ingest writer's thread. better-sqlite3 is synchronous, so a commit's fsync would stop the
 * listener's event loop; here it stops only this thread while the listener reads the next
 * requests.
 */
const {
  dataDir,
  busyTimeoutMs,
  checkpointEveryMs,
  maxBatch,
  turns,
  maxUnsettledIds = MAX_UNSETTLED_IDS,
} = workerData as CommitWorkerData
if (!parentPort) throw new Error('commit-worker runs as a worker thread')

const db = openWritable(dataDir, { busyTimeoutMs })
const store = new EventStore(db)

// Checkpoints copy the WAL back into the database file and fsync it: tens of milliseconds when
// the WAL is large. Left automatic, SQLite runs them inside a commit, and the requests of that
// batch wait. So this connection never checkpoints inside a commit; the processing thread does it
// on a timer (PASSIVE: it never waits for, nor blocks, this thread's commits), and this thread
// on its timer when there is no processing thread.
db.pragma('wal_autocheckpoint = 0')
const checkpoints =
  checkpointEveryMs > 0
    ? setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), checkpointEveryMs)
    : null
// Those alone never let the WAL start over under steady ingest: it restarts only after a
// checkpoint that found no newer frames, and commits land every millisecond or two while the
// processing thread's checkpoint runs. Measured: 129 MB of WAL after 8 s of load, growing
// without end. So every CHECKPOINT_EVERY commits this thread also checkpoints, after the go's
// answers are posted: it is the only ingest writer, so its checkpoint catches up and the next
// commit writes the WAL from its start (4 MB after the same 8 s; overwriting the file's blocks
// is also a cheaper fsync than growing it).
const CHECKPOINT_EVERY = 100
let checkpointedAt = 0
const checkpointNow = (): void => {
  if (transactions - checkpointedAt < CHECKPOINT_EVERY) return
  checkpointedAt = transactions
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // A checkpoint that cannot run now loses nothing: the frames stay in the WAL until the next.
  }
}

// Group commit happens here, where the disk is: the listener hands over what each turn of its
// event loop read, and every hand-over that arrived while the last commit was on its way to disk
// goes into the next transaction and its single fsync. So this thread starts the next commit
// the moment the last one ends, without waiting for the listener to answer and hand over again.
let transactions = 0
const writeTurns = turns ? new WriteTurns(turns) : null
/**
 * Classifies the bodies, then keeps them in one transaction; the answer carries, for each op,
 * what the listener's reply says. Classifying here leaves the listener's thread only reading and
 * answering: parsing and schema checks were a sixth of its time. Measured: the server's CPU a
 * request fell by a seventh (the work moved, and its hand-over is smaller); events/s stayed the
 * same within the noise, as the commit, which the next batch waits for, is now longer.
 */
const commit = (received: ReceivedOp[]): Omit<CommitAnswer, 'transaction'> => {
  const ops = received.map(classifyReceived)
  const outcomes = writeTurns ? writeTurns.ingest(() => store.commit(ops)) : store.commit(ops)
  transactions += 1
  const notes = ops.map((op) =>
    op.kind === 'event' ? op.row.id : op.kind === 'quarantine' ? op.reason : null,
  )
  return { outcomes, notes }
}

// Processing settles stored ids into event_ids as it goes (event-ids.ts). If it is paused or
// failing, the ids wait in this thread's memory (about 100 bytes each); past the ceiling, this
// thread settles them itself, a slice at a time after a go's answers, so memory stays bounded.
const SETTLE_SLICE = 10_000
const settleIfBacklogged = (): void => {
  if (store.unsettledIds <= maxUnsettledIds) return
  try {
    if (writeTurns) writeTurns.ingest(() => store.settleIds(SETTLE_SLICE))
    else store.settleIds(SETTLE_SLICE)
  } catch {
    // Nothing was kept and nothing is lost: the ids stay in memory and the next go tries again.
  }
}
serveCalls<WireOps, CommitAnswer>(parentPort, {
  handle: (wire) => ({ ...commit(decodeOps(wire)), transaction: transactions }),
  after: () => {
    settleIfBacklogged()
    checkpointNow()
  },
  together: {
    handle: (handovers) => {
      const { outcomes, notes } = commit(handovers.flatMap(decodeOps))
      let at = 0
      return handovers.map((wire) => ({
        outcomes: outcomes.slice(at, at + wire.count),
        notes: notes.slice(at, (at += wire.count)),
        transaction: transactions,
      }))
    },
    take: (queued) => {
      let n = 0
      let ops = 0
      while (n < queued.length && ops + (queued[n]?.count ?? 0) <= maxBatch)
        ops += queued[n++]!.count
      return n
    },
  },
  close: () => {
    if (checkpoints) clearInterval(checkpoints)
    closeWritable(db)
  },
})
