import { workerEntry, WorkerClient } from '../threads/worker-client'
import type { IngestOutcome, ReceivedOp, Receipt } from './event-store'
import { encodeOps } from './ingest-wire'
import type { WireOps } from './ingest-wire'

export interface CommitWorkerData {
  dataDir: string
  busyTimeoutMs: number
  /** 0: no checkpoints from this thread (another connection runs them). */
  checkpointEveryMs: number
  /** Most operations one transaction takes (1: a commit per request, the benchmark's naive case). */
  maxBatch: number
  /** Shared with the processing thread: turns at the write lock (WriteTurns); null: none. */
  turns: SharedArrayBuffer | null
  /**
   * Most stored ids held in memory waiting for processing to settle them (event-ids.ts); past
   * it the thread settles them itself. Default MAX_UNSETTLED_IDS (event-ids.ts).
   */
  maxUnsettledIds?: number
}

/** The thread's answer to one hand-over: its outcomes, and which transaction kept them. */
export interface CommitAnswer {
  outcomes: IngestOutcome[]
  /** Per op, what the listener's answer says of it (Receipt.note). */
  notes: (string | null)[]
  /** Transactions committed on the thread so far, this one included. */
  transaction: number
}

/**
 * The ingest writer on its own thread: `commit(ops)` classifies the bodies and resolves with a
 * receipt for each once the batch is durable, or rejects when nothing of it was kept (the
 * listener answers 500).
 */
export class CommitThread {
  private readonly client: WorkerClient<WireOps, CommitAnswer>
  /** Transactions the thread has committed (as of its latest answer). */
  transactions = 0

  constructor(settings: CommitWorkerData) {
    const entry = workerEntry(import.meta.url, 'commit-worker')
    if (!entry)
      throw new Error('commit-worker.js is not in this build: add it as an entry beside main')
    this.client = new WorkerClient('commit', entry, settings)
  }

  open(): Promise<void> {
    return this.client.open()
  }

  async commit(ops: ReceivedOp[]): Promise<Receipt[]> {
    const wire = encodeOps(ops)
    const answer = await this.client.call(wire, [wire.bytes])
    this.transactions = Math.max(this.transactions, answer.transaction)
    return answer.outcomes.map((outcome, i) => ({ outcome, note: answer.notes[i] ?? null }))
  }

  /** Closes the worker's connection (checkpointing the WAL) and ends the thread. */
  close(): Promise<void> {
    return this.client.close()
  }
}
