import type { MessagePort } from 'node:worker_threads'
import type { FromWorker, ToWorker } from './worker-protocol'

/**
 * The worker side of the protocol: answers each call with `handle`'s result (or its error),
 * closes on `close`, passes notices on. Says `ready` at once: call it once the connection is open.
 */
export function serveCalls<Payload, Result>(
  port: MessagePort,
  handlers: {
    handle: (payload: Payload) => Result | Promise<Result>
    close: () => void
    notice?: (name: string) => void
  },
): void {
  const reply = (message: FromWorker<Result>): void => port.postMessage(message)
  port.on('message', (message: ToWorker<Payload>) => {
    if (message.type === 'close') {
      handlers.close()
      reply({ type: 'closed' })
      port.close()
    } else if (message.type === 'notice') {
      handlers.notice?.(message.name)
    } else {
      Promise.resolve()
        .then(() => handlers.handle(message.payload))
        .then(
          (result) => reply({ type: 'done', id: message.id, result }),
          (error: unknown) => {
            const e = error as Error & { code?: string }
            reply({
              type: 'failed',
              id: message.id,
              message: e.message ?? String(error),
              code: e.code ?? null,
            })
          },
        )
    }
  })
  reply({ type: 'ready' })
}
