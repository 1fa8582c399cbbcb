import type { MessagePort } from 'node:worker_threads'
import type { FromWorker, ToWorker } from './worker-protocol'

/**
 * The worker side of the protocol: answers each call with `handle`'s result (or its error), or
 * with `together` the calls that queued up meanwhile in one go; closes on `close` (after the
 * queued calls), passes notices on. Says `ready` at once: call it once the connection is open.
 */
export function serveCalls<Payload, Result>(
  port: MessagePort,
  handlers: {
    handle: (payload: Payload) => Result | Promise<Result>
    close: () => void
    notice?: (name: string) => void
    /** Upkeep after a go, once its answers are posted (so they never wait for it). */
    after?: () => void
    /**
     * Handles the calls that arrived together (while the thread was busy) in one go: one result
     * per payload, in order, or a throw that fails them all. `take` says how many of the queued
     * calls the next go may take (at least one); the rest wait for the go after.
     */
    together?: {
      handle: (payloads: Payload[]) => Result[]
      take: (queued: readonly Payload[]) => number
    }
  },
): void {
  const reply = (message: FromWorker<Result>): void => port.postMessage(message)
  const fail = (id: number, error: unknown): void => {
    const e = error as Error & { code?: string }
    reply({ type: 'failed', id, message: e.message ?? String(error), code: e.code ?? null })
  }
  const queued: { id: number; payload: Payload }[] = []
  let scheduled = false
  // setImmediate runs after the poll phase, which delivers every message that queued up while
  // the thread was busy: they all go in the next go.
  const flush = (): void => {
    scheduled = false
    const together = handlers.together
    if (!together || queued.length === 0) return
    const n = Math.max(1, together.take(queued.map((c) => c.payload)))
    const calls = queued.splice(0, n)
    try {
      const results = together.handle(calls.map((c) => c.payload))
      calls.forEach((c, i) => reply({ type: 'done', id: c.id, result: results[i] as Result }))
    } catch (error) {
      for (const c of calls) fail(c.id, error)
    }
    handlers.after?.()
    if (queued.length > 0) schedule()
  }
  const schedule = (): void => {
    if (scheduled) return
    scheduled = true
    setImmediate(flush)
  }
  port.on('message', (message: ToWorker<Payload>) => {
    if (message.type === 'close') {
      while (queued.length > 0) flush()
      handlers.close()
      reply({ type: 'closed' })
      port.close()
    } else if (message.type === 'notice') {
      handlers.notice?.(message.name)
    } else if (handlers.together) {
      queued.push({ id: message.id, payload: message.payload })
      schedule()
    } else {
      Promise.resolve()
        .then(() => handlers.handle(message.payload))
        .then(
          (result) => reply({ type: 'done', id: message.id, result }),
          (error: unknown) => fail(message.id, error),
        )
    }
  })
  reply({ type: 'ready' })
}
