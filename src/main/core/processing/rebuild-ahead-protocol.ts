import type { MessagePort } from 'node:worker_threads'
import type { ComputedCustomer } from './compute-customer'
import type { ProcessingConfig } from './config'

// What the processing thread and the rebuild's second thread say to each other (rebuild-ahead.ts).

/** A rebuild's fixed inputs: customers computed for another rebuild are never used. */
export interface RebuildKey {
  /** The last event seq the rebuild covers. */
  target: number
  /** The rebuild's "now". */
  nowMs: number
}

/** A request to the thread: compute these customers (unless the batch took them back). */
export interface AheadRequest {
  id: number
  key: RebuildKey
  customers: string[]
}

export type AheadReply =
  | { kind: 'ready' }
  | { kind: 'computed'; id: number; customers: ComputedCustomer[] }
  /** The thread's snapshot does not yet hold the rebuild's copied events. */
  | { kind: 'not-ready'; id: number }
  | { kind: 'error'; id: number; message: string }

export interface AheadWorkerData {
  dataDir: string
  config: ProcessingConfig
  /** [0] counts the thread's replies (Atomics.wait); the rest are the requests' claims. */
  shared: SharedArrayBuffer
  port: MessagePort
}

/**
 * Who computes a request: each request has a claim cell holding its id and one of these. The
 * thread claims it before it starts; the batch takes back one the thread has not started.
 */
export const CLAIM = { pending: 0, thread: 1, batch: 2 } as const
/** Claim cells, reused round-robin: far more than the requests ever in flight. */
export const CLAIM_CELLS = 64
export const claimCell = (id: number): number => 1 + (id % CLAIM_CELLS)
export const claimValue = (id: number, who: number): number => ((id % 0x1000_0000) << 2) | who
