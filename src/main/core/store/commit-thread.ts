import { workerEntry, WorkerClient } from '../threads/worker-client'
import type { IngestOp, IngestOutcome } from './event-store'

export interface CommitWorkerData {
  dataDir: string
  busyTimeoutMs: number
  checkpointEveryMs: number
}

/**
 * The ingest writer on its own thread: `commit(ops)` resolves with the outcomes once the batch
 * is durable, or rejects when nothing of it was kept (the listener answers 500).
 */
export class CommitThread {
  private readonly client: WorkerClient<IngestOp[], IngestOutcome[]>

  constructor(settings: CommitWorkerData) {
    const entry = workerEntry(import.meta.url, 'commit-worker')
    if (!entry)
      throw new Error('commit-worker.js is not in this build: add it as an entry beside main')
    this.client = new WorkerClient('commit', entry, settings)
  }

  open(): Promise<void> {
    return this.client.open()
  }

  commit(ops: IngestOp[]): Promise<IngestOutcome[]> {
    return this.client.call(ops)
  }

  /** Closes the worker's connection (checkpointing the WAL) and ends the thread. */
  close(): Promise<void> {
    return this.client.close()
  }
}
