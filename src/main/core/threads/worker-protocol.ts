/**
 * The one protocol of the core's worker threads (ingest commits, processing). The thread says
 * `ready` once its database connection is open; each `call` is answered once, `done` or
 * `failed`, by id; `close` closes its connection and is answered `closed`. Anything else is a
 * notice the thread may act on without answering (processing's `stop`).
 */
export type ToWorker<Payload> =
  | { type: 'call'; id: number; payload: Payload }
  | { type: 'close' }
  | { type: 'notice'; name: string }

export type FromWorker<Result> =
  | { type: 'ready' }
  | { type: 'done'; id: number; result: Result }
  | { type: 'failed'; id: number; message: string; code: string | null }
  | { type: 'closed' }
