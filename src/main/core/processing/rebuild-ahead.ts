import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { workerEntry } from '../threads/worker-client'
import type { ComputedCustomer } from './compute-customer'
import type { ProcessingConfig } from './config'
import { CLAIM, CLAIM_CELLS, claimCell, claimValue } from './rebuild-ahead-protocol'
import type {
  AheadReply,
  AheadRequest,
  AheadWorkerData,
  RebuildKey,
} from './rebuild-ahead-protocol'

export type { RebuildKey }

/** What the batch's own connection does: list the rebuild's next customers, compute some. */
export interface OwnSide {
  /** Up to `n` customers after `after` (null: from the first), in the rebuild's order. */
  list(after: string | null, n: number): string[]
  /** These customers, computed on the batch's own thread. */
  compute(customers: readonly string[]): ComputedCustomer[]
}

/** A batch's customers, computed, in order, from right after the customer asked about. */
export interface AheadChunk {
  customers: ComputedCustomer[]
  /** No customer of the rebuild comes after the last of these. */
  last: boolean
}

/**
 * A rebuild batch's customers, mostly computed on another thread while the batch before was
 * writing. A customer's result depends only on their events up to the rebuild's target and on
 * its "now", and those events never change, so a result computed on another connection, a moment
 * earlier, is the one the batch would compute itself. What the batch compares with and writes
 * (the stored visits, rollups, failures, alerts) it still reads in its own transaction.
 */
export interface CustomersAhead {
  /**
   * Up to `max` customers, the first right after `after` (null: from the first customer);
   * null when this cannot help (the batch then lists and computes its customers itself).
   */
  take(key: RebuildKey, after: string | null, max: number, own: OwnSide): AheadChunk | null
  /**
   * Before a batch, outside its transaction (and its turn at the write lock): gets the customers
   * after `after` computed, waiting for the thread or computing here, so that the batch holds the
   * lock only to write. The batch's take() then finds them ready.
   */
  prepare(key: RebuildKey, after: string | null, max: number, own: OwnSide): void
  /** After a committed batch: the rebuild goes on after `after`; send out what comes next. */
  advance(key: RebuildKey, after: string | null, max: number, own: OwnSide): void
  /** Stops the thread. */
  close(): void
}

/** Longest a batch waits for a chunk the thread is computing before it gives up on the thread. */
const REPLY_TIMEOUT_MS = 10_000
/** A batch's customers go out in this many requests, so that the batch can take some back. */
const PARTS_PER_BATCH = 4

interface Part {
  id: number
  customers: string[]
  computed: ComputedCustomer[] | null
  /** Customers at the front already written (a batch stopped inside this part). */
  done: number
}

const sameKey = (a: RebuildKey | null, b: RebuildKey): boolean =>
  a !== null && a.target === b.target && a.nowMs === b.nowMs

/**
 * Computes rebuild customers on a worker thread with its own read-only connection, so that a
 * rebuild (a cold store's catch-up, `footfall reprocess`) uses both cores: this thread writes
 * one batch while that one reads and computes the next. When a batch comes for customers the
 * thread has not started yet, the batch computes those itself (it takes back the thread's claim
 * on them), so neither side waits long for the other.
 *
 * Batches are synchronous (better-sqlite3): replies are taken off a MessagePort with
 * receiveMessageOnPort, and a batch that needs a part the thread is computing sleeps on a shared
 * counter until it comes. Anything wrong on that side (the thread fails, a reply is late,
 * another process moved the rebuild on) only means batches compute their customers themselves.
 */
export class RebuildAhead implements CustomersAhead {
  /** What happened, for tests and the benchmark: customers computed by each side. */
  readonly stats = { requests: 0, byThread: 0, byBatch: 0, discarded: 0 }
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly shared: Int32Array
  private ready = false
  private failure: string | null = null
  private key: RebuildKey | null = null
  /** The parts' customers come right after this one (null: the first customer). */
  private after: string | null = null
  private parts: Part[] = []
  /** The parts end with the rebuild's last customer. */
  private listedAll = false
  private nextId = 1

  /** Starts the thread; null when this build has no worker entry for it. */
  static start(
    dataDir: string,
    config: ProcessingConfig,
    onFailure: (message: string) => void = () => {},
  ): RebuildAhead | null {
    const entry = workerEntry(import.meta.url, 'rebuild-ahead-worker')
    return entry ? new RebuildAhead(entry, dataDir, config, onFailure) : null
  }

  private constructor(
    entry: { url: URL; data: Record<string, unknown> },
    dataDir: string,
    config: ProcessingConfig,
    private readonly onFailure: (message: string) => void,
  ) {
    const shared = new SharedArrayBuffer(4 * (1 + CLAIM_CELLS))
    this.shared = new Int32Array(shared)
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    const data: AheadWorkerData = { dataDir, config, shared, port: port2 }
    this.worker = new Worker(entry.url, {
      workerData: { ...data, ...entry.data },
      transferList: [port2],
    })
    // An idle helper must not keep a process alive (a CLI run, a test).
    this.worker.unref()
    this.worker.on('error', (error) => this.fail(`its thread failed: ${String(error)}`))
    this.worker.on('exit', (code) => this.fail(`its thread exited (code ${code})`))
  }

  take(key: RebuildKey, after: string | null, max: number, own: OwnSide): AheadChunk | null {
    const batch = this.gather(key, after, max, own)
    if (!batch) return null
    const customers = batch.parts.flatMap((p) => (p.computed ?? []).slice(p.done)).slice(0, max)
    const last =
      this.listedAll && batch.parts.length === this.parts.length && customers.length === batch.count
    return { customers, last }
  }

  prepare(key: RebuildKey, after: string | null, max: number, own: OwnSide): void {
    this.gather(key, after, max, own)
  }

  advance(key: RebuildKey, after: string | null, max: number, own: OwnSide): void {
    if (this.failure !== null || !this.ready) return
    this.receive()
    this.align(key, after)
    this.fill(max, own)
  }

  /**
   * The parts of the batch after `after`, all computed: those the thread has not started are
   * taken back and computed here (from the back), the others waited for. Null when the thread
   * cannot help (not up yet, or stopped).
   */
  private gather(
    key: RebuildKey,
    after: string | null,
    max: number,
    own: OwnSide,
  ): { parts: Part[]; count: number } | null {
    this.receive()
    if (this.failure !== null || !this.ready) return null
    this.align(key, after)
    // Two batches' worth goes out: the thread goes on with the next while this one writes.
    this.fill(max, own)
    let count = 0
    let n = 0
    while (n < this.parts.length && count < max) {
      const part = this.parts[n] as Part
      count += part.customers.length - part.done
      n += 1
    }
    const parts = this.parts.slice(0, n)
    for (const part of [...parts].reverse()) {
      if (part.computed === null && this.takeBack(part)) {
        part.computed = own.compute(part.customers)
        this.stats.byBatch += part.customers.length
      }
    }
    for (const part of parts) {
      const computed = this.sleepUntil(() => part.computed !== null, REPLY_TIMEOUT_MS)
      if (!computed) {
        this.fail(`no answer in ${REPLY_TIMEOUT_MS / 1000} s`)
        return null
      }
    }
    return { parts, count }
  }

  /** Drops what was computed; parts the thread has not started are taken back, so it skips them. */
  private reset(): void {
    for (const part of this.parts) if (part.computed === null) this.takeBack(part)
    this.key = null
    this.after = null
    this.parts = []
    this.listedAll = false
  }

  close(): void {
    this.failure ??= 'closed'
    this.port.close()
    void this.worker.terminate()
  }

  /**
   * Waits (blocking) until the thread's connection is open, at most `timeoutMs`; whether it is.
   * Batches never wait for this: until then they compute their customers themselves.
   */
  waitUntilReady(timeoutMs: number): boolean {
    return this.sleepUntil(() => this.ready, timeoutMs)
  }

  /** Why the helper stopped (null while it works). */
  failed(): string | null {
    return this.failure
  }

  /** Makes the parts start right after `after` in rebuild `key`, dropping what is written. */
  private align(key: RebuildKey, after: string | null): void {
    if (sameKey(this.key, key) && after === this.after) return
    if (sameKey(this.key, key)) {
      const at = this.parts.findIndex((p) => p.customers.indexOf(after as string, p.done) >= 0)
      const part = this.parts[at]
      if (part) {
        part.done = part.customers.indexOf(after as string, part.done) + 1
        this.parts = this.parts.slice(part.done === part.customers.length ? at + 1 : at)
        this.after = after
        return
      }
    }
    // Another rebuild, or one moved on without these parts (another process's batches).
    this.reset()
    this.key = key
    this.after = after
  }

  /** Lists and sends out customers until two batches' worth are ahead. */
  private fill(max: number, own: OwnSide): void {
    if (this.key === null) return
    const size = Math.max(1, Math.ceil(max / PARTS_PER_BATCH))
    let ahead = 0
    for (const p of this.parts) ahead += p.customers.length - p.done
    while (!this.listedAll && ahead < 2 * max) {
      const end = this.parts.at(-1)?.customers.at(-1) ?? this.after
      const customers = own.list(end, size)
      if (customers.length < size) this.listedAll = true
      if (customers.length === 0) break
      const id = this.nextId++
      Atomics.store(this.shared, claimCell(id), claimValue(id, CLAIM.pending))
      this.parts.push({ id, customers, computed: null, done: 0 })
      const request: AheadRequest = { id, key: this.key, customers }
      this.port.postMessage(request)
      this.stats.requests += 1
      ahead += customers.length
    }
  }

  /** Claims a part for the batch; false when the thread started it already. */
  private takeBack(part: Part): boolean {
    const cell = claimCell(part.id)
    const pending = claimValue(part.id, CLAIM.pending)
    return (
      Atomics.compareExchange(this.shared, cell, pending, claimValue(part.id, CLAIM.batch)) ===
      pending
    )
  }

  /** Takes every reply that has come. */
  private receive(): void {
    for (;;) {
      const got = receiveMessageOnPort(this.port)
      if (!got) return
      this.onReply(got.message as AheadReply)
    }
  }

  /**
   * Takes the thread's replies, sleeping on its reply counter between them, until `done()` holds
   * (true), the helper stopped or `timeoutMs` passed (false). The counter is read before the
   * replies are taken, and the thread bumps it after it posts, so no reply is slept through.
   */
  private sleepUntil(done: () => boolean, timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const seen = Atomics.load(this.shared, 0)
      this.receive()
      if (this.failure !== null) return false
      if (done()) return true
      const left = deadline - performance.now()
      if (left <= 0) return false
      Atomics.wait(this.shared, 0, seen, left)
    }
  }

  private onReply(reply: AheadReply): void {
    if (reply.kind === 'ready') {
      this.ready = true
      return
    }
    const part = this.parts.find((p) => p.id === reply.id)
    if (!part) {
      this.stats.discarded += 1
      return
    }
    if (reply.kind === 'computed') {
      part.computed = reply.customers
      this.stats.byThread += reply.customers.length
    } else {
      // Its events are not visible there yet (not-ready), or it failed: drop the thread.
      this.fail(reply.kind === 'error' ? reply.message : 'it saw the store before the copy')
    }
  }

  private fail(message: string): void {
    if (this.failure !== null) return
    this.failure = message
    this.reset()
    this.onFailure(
      `computing rebuild customers on a second thread stopped (${message}); batches compute them themselves, which is correct but slower`,
    )
  }
}
