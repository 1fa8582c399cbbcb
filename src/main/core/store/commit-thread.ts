import { Worker } from 'node:worker_threads'
import type { IngestOp, IngestOutcome } from './event-store'

export interface CommitWorkerData {
  dataDir: string
  busyTimeoutMs: number
  checkpointEveryMs: number
}
export type ToCommitWorker = { type: 'commit'; batch: number; ops: IngestOp[] } | { type: 'close' }
export type FromCommitWorker =
  | { type: 'ready' }
  | { type: 'done'; batch: number; outcomes: IngestOutcome[] }
  | { type: 'failed'; batch: number; message: string; code: string | null }
  | { type: 'closed' }

export class CommitError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message)
    this.name = 'CommitError'
  }
}

/**
 * Where the worker's code is. From source (tsx, vitest) a small JS boot file registers the
 * TypeScript loader in the thread first; in the Electron bundle the worker is its own built entry
 * beside the main one.
 */
function workerEntry(): { url: URL; data: Record<string, unknown> } {
  if (import.meta.url.endsWith('.ts')) {
    return {
      url: new URL('./ts-worker-boot.mjs', import.meta.url),
      data: { entry: new URL('./commit-worker.ts', import.meta.url).href },
    }
  }
  return { url: new URL('./commit-worker.js', import.meta.url), data: {} }
}

/**
 * The main thread's handle on the commit worker: `commit(ops)` resolves with the outcomes once
 * the batch is durable, or rejects when nothing of it was kept. If the thread dies, the batch in
 * flight fails (nothing acknowledged is lost: it was never answered) and a new thread starts.
 */
export class CommitThread {
  private worker: Worker | null = null
  private ready: Promise<void> | null = null
  private waiting = new Map<
    number,
    { resolve: (o: IngestOutcome[]) => void; reject: (e: Error) => void }
  >()
  private nextBatch = 1

  constructor(private readonly settings: CommitWorkerData) {}

  private start(): Promise<void> {
    const { url, data } = workerEntry()
    const worker = new Worker(url, { workerData: { ...this.settings, ...data } })
    this.worker = worker
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject)
      const onMessage = (message: FromCommitWorker): void => {
        if (message.type === 'ready') {
          worker.off('error', reject)
          resolve()
        } else if (message.type === 'done') {
          this.settle(message.batch)?.resolve(message.outcomes)
        } else if (message.type === 'failed') {
          this.settle(message.batch)?.reject(new CommitError(message.message, message.code))
        }
      }
      worker.on('message', onMessage)
    })
    worker.on('error', (error) =>
      this.fail(new CommitError(`commit thread failed: ${error.message}`, null)),
    )
    worker.on('exit', () => {
      if (this.worker === worker) this.fail(new CommitError('commit thread exited', null))
    })
    return this.ready
  }

  private settle(
    batch: number,
  ): { resolve: (o: IngestOutcome[]) => void; reject: (e: Error) => void } | undefined {
    const waiter = this.waiting.get(batch)
    this.waiting.delete(batch)
    return waiter
  }

  private fail(error: Error): void {
    this.worker = null
    this.ready = null
    for (const waiter of this.waiting.values()) waiter.reject(error)
    this.waiting.clear()
  }

  /** Starts the thread and waits until its connection is open. */
  async open(): Promise<void> {
    await (this.ready ?? this.start())
  }

  async commit(ops: IngestOp[]): Promise<IngestOutcome[]> {
    await (this.ready ?? this.start())
    const worker = this.worker
    if (!worker) throw new CommitError('commit thread is not running', null)
    const batch = this.nextBatch++
    return new Promise((resolve, reject) => {
      this.waiting.set(batch, { resolve, reject })
      worker.postMessage({ type: 'commit', batch, ops } satisfies ToCommitWorker)
    })
  }

  /** Closes the worker's connection (checkpointing the WAL) and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker
    if (!worker) return
    this.worker = null
    await new Promise<void>((resolve) => {
      worker.on('message', (m: FromCommitWorker) => {
        if (m.type === 'closed') resolve()
      })
      worker.once('exit', () => resolve())
      worker.postMessage({ type: 'close' } satisfies ToCommitWorker)
    })
    await worker.terminate()
  }
}
