import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { FromWorker, ToWorker } from './worker-protocol'

/** A failure of a call, with the thread's error code (an SQLite code, say) when it had one. */
export class WorkerCallError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message)
    this.name = 'WorkerCallError'
  }
}

/**
 * Where a worker's code is. From source (tsx, vitest) a small JS boot file registers the
 * TypeScript loader in the thread first, then loads `<name>.ts` beside the calling module; in
 * the Electron bundle each worker is its own entry (`<name>.js`) beside the main one, which
 * inlines the calling module. Null when the bundle lacks the entry.
 */
export function workerEntry(
  callerUrl: string,
  name: string,
): { url: URL; data: Record<string, unknown> } | null {
  if (callerUrl.endsWith('.ts')) {
    return {
      url: new URL('./ts-worker-boot.mjs', import.meta.url),
      data: { entry: new URL(`./${name}.ts`, callerUrl).href },
    }
  }
  const url = new URL(`./${name}.js`, callerUrl)
  return existsSync(fileURLToPath(url)) ? { url, data: {} } : null
}

type Waiter<Result> = { resolve: (r: Result) => void; reject: (e: Error) => void }

/**
 * The main thread's handle on one worker thread: `call(payload)` resolves with the thread's
 * answer or rejects with its error. If the thread dies, the calls in flight fail (whatever they
 * were doing was never committed: each answer follows its commit) and the next call starts a
 * new thread.
 */
export class WorkerClient<Payload, Result> {
  private worker: Worker | null = null
  private ready: Promise<void> | null = null
  private readonly waiting = new Map<number, Waiter<Result>>()
  private nextId = 1

  constructor(
    private readonly label: string,
    private readonly entry: { url: URL; data: Record<string, unknown> },
    private readonly workerData: object,
  ) {}

  private start(): Promise<void> {
    const worker = new Worker(this.entry.url, {
      workerData: { ...this.workerData, ...this.entry.data },
    })
    this.worker = worker
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject)
      worker.on('message', (message: FromWorker<Result>) => {
        if (message.type === 'ready') {
          worker.off('error', reject)
          resolve()
        } else if (message.type === 'done') {
          this.settle(message.id)?.resolve(message.result)
        } else if (message.type === 'failed') {
          this.settle(message.id)?.reject(new WorkerCallError(message.message, message.code))
        }
      })
    })
    worker.on('error', (error) =>
      this.fail(new WorkerCallError(`${this.label} thread failed: ${error.message}`, null)),
    )
    worker.on('exit', () => {
      if (this.worker === worker)
        this.fail(new WorkerCallError(`${this.label} thread exited`, null))
    })
    return this.ready
  }

  private settle(id: number): Waiter<Result> | undefined {
    const waiter = this.waiting.get(id)
    this.waiting.delete(id)
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

  /** `transfer`: buffers of the payload to move to the thread instead of copying them. */
  async call(payload: Payload, transfer: readonly ArrayBuffer[] = []): Promise<Result> {
    await (this.ready ?? this.start())
    const worker = this.worker
    if (!worker) throw new WorkerCallError(`${this.label} thread is not running`, null)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      worker.postMessage({ type: 'call', id, payload } satisfies ToWorker<Payload>, transfer)
    })
  }

  /** A notice the thread acts on without answering. */
  notify(name: string): void {
    this.worker?.postMessage({ type: 'notice', name } satisfies ToWorker<Payload>)
  }

  /** Closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker
    if (!worker) return
    this.worker = null
    await new Promise<void>((resolve) => {
      worker.on('message', (m: FromWorker<Result>) => {
        if (m.type === 'closed') resolve()
      })
      worker.once('exit', () => resolve())
      worker.postMessage({ type: 'close' } satisfies ToWorker<Payload>)
    })
    await worker.terminate()
  }
}
