import { workerEntry, WorkerClient } from '../threads/worker-client'
import type { ProcessorOptions } from './processor'
import type { BatchRunner, RunTotals } from './run-batches'

/** Settings crossing into the worker: plain data only (no clock function). */
export interface ProcessingWorkerData {
  dataDir: string
  options: Omit<ProcessorOptions, 'clock'>
  /** How often this thread checkpoints the store's WAL (see processing-worker.ts). */
  checkpointEveryMs: number
  /** Shared with the commit thread: turns at the write lock (WriteTurns). */
  turns: SharedArrayBuffer
}

/**
 * Processing on its own thread and connection. One run at a time (the scheduler sees to it);
 * if the thread dies, the run in flight fails (its unfinished batch was never committed) and
 * the next run starts a new thread.
 */
export class ProcessingThread implements BatchRunner {
  private readonly client: WorkerClient<null, RunTotals>

  constructor(settings: ProcessingWorkerData) {
    const entry = workerEntry(import.meta.url, 'processing-worker')
    if (!entry) throw new Error('processing-worker.js is not in this build')
    this.client = new WorkerClient('processing', entry, settings)
  }

  /** Whether this build has the worker (a bundle without its entry processes on the main thread). */
  static available(): boolean {
    return workerEntry(import.meta.url, 'processing-worker') !== null
  }

  /** Starts the thread and waits until its connection is open. */
  open(): Promise<void> {
    return this.client.open()
  }

  run(): Promise<RunTotals> {
    return this.client.call(null)
  }

  stop(): void {
    this.client.notify('stop')
  }

  /** Closes the thread's connection and ends the thread (after the scheduler stopped). */
  close(): Promise<void> {
    return this.client.close()
  }
}
