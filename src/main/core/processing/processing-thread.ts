import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { ProcessorOptions } from './processor'
import type { BatchRunner, RunTotals } from './run-batches'

/** Settings crossing into the worker: plain data only (no clock function). */
export interface ProcessingWorkerData {
  dataDir: string
  options: Omit<ProcessorOptions, 'clock'>
}
export type ToProcessingWorker = { type: 'run'; run: number } | { type: 'stop' } | { type: 'close' }
export type FromProcessingWorker =
  | { type: 'ready' }
  | { type: 'done'; run: number; totals: RunTotals }
  | { type: 'failed'; run: number; message: string }
  | { type: 'closed' }

/**
 * Where the worker's code is: from source (tsx, vitest) through the store's boot file that
 * registers the TypeScript loader in the thread; in a bundle, a built `processing-worker.js`
 * beside this module, when the bundle has that entry. Null when it cannot be found.
 */
function workerEntry(): { url: URL; data: Record<string, unknown> } | null {
  if (import.meta.url.endsWith('.ts')) {
    return {
      url: new URL('../store/ts-worker-boot.mjs', import.meta.url),
      data: { entry: new URL('./processing-worker.ts', import.meta.url).href },
    }
  }
  const url = new URL('./processing-worker.js', import.meta.url)
  return existsSync(fileURLToPath(url)) ? { url, data: {} } : null
}

/**
 * Processing on its own thread and connection. One run at a time (the scheduler sees to it);
 * if the thread dies, the run in flight fails (its unfinished batch was never committed) and
 * the next run starts a new thread.
 */
export class ProcessingThread implements BatchRunner {
  private worker: Worker | null = null
  private ready: Promise<void> | null = null
  private waiting = new Map<
    number,
    { resolve: (t: RunTotals) => void; reject: (e: Error) => void }
  >()
  private nextRun = 1

  constructor(private readonly settings: ProcessingWorkerData) {}

  static available(): boolean {
    return workerEntry() !== null
  }

  private start(): Promise<void> {
    const entry = workerEntry()
    if (!entry) return Promise.reject(new Error('processing-worker.js is not in this build'))
    const worker = new Worker(entry.url, { workerData: { ...this.settings, ...entry.data } })
    this.worker = worker
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject)
      worker.on('message', (message: FromProcessingWorker) => {
        if (message.type === 'ready') {
          worker.off('error', reject)
          resolve()
        } else if (message.type === 'done') {
          this.settle(message.run)?.resolve(message.totals)
        } else if (message.type === 'failed') {
          this.settle(message.run)?.reject(new Error(message.message))
        }
      })
    })
    worker.on('error', (error) =>
      this.fail(new Error(`processing thread failed: ${error.message}`)),
    )
    worker.on('exit', () => {
      if (this.worker === worker) this.fail(new Error('processing thread exited'))
    })
    return this.ready
  }

  private settle(
    run: number,
  ): { resolve: (t: RunTotals) => void; reject: (e: Error) => void } | undefined {
    const waiter = this.waiting.get(run)
    this.waiting.delete(run)
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

  async run(): Promise<RunTotals> {
    await (this.ready ?? this.start())
    const worker = this.worker
    if (!worker) throw new Error('processing thread is not running')
    const run = this.nextRun++
    return new Promise((resolve, reject) => {
      this.waiting.set(run, { resolve, reject })
      worker.postMessage({ type: 'run', run } satisfies ToProcessingWorker)
    })
  }

  stop(): void {
    this.worker?.postMessage({ type: 'stop' } satisfies ToProcessingWorker)
  }

  /** Closes the thread's connection and ends the thread (after the scheduler stopped). */
  async close(): Promise<void> {
    const worker = this.worker
    if (!worker) return
    this.worker = null
    await new Promise<void>((resolve) => {
      worker.on('message', (m: FromProcessingWorker) => {
        if (m.type === 'closed') resolve()
      })
      worker.once('exit', () => resolve())
      worker.postMessage({ type: 'close' } satisfies ToProcessingWorker)
    })
    await worker.terminate()
  }
}
