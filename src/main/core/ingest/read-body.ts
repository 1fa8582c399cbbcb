import type { IncomingMessage } from 'node:http'

export type BodyResult =
  | { kind: 'body'; bytes: Buffer }
  | { kind: 'too_large' }
  | { kind: 'timeout' }
  | { kind: 'aborted' }

/**
 * Reads a request body up to `maxBytes`, within `timeoutMs` of the call. Nothing touches the store
 * while a body arrives, so a slow or half-sent body costs one socket and never holds a commit.
 */
export function readBody(
  req: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const finish = (result: BodyResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.off('data', onData)
      if (result.kind !== 'body') req.pause()
      resolve(result)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBytes) finish({ kind: 'too_large' })
      else chunks.push(chunk)
    }
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs)
    req.on('data', onData)
    req.once('end', () => finish({ kind: 'body', bytes: Buffer.concat(chunks, size) }))
    req.once('aborted', () => finish({ kind: 'aborted' }))
    req.once('error', () => finish({ kind: 'aborted' }))
    req.once('close', () => {
      if (!req.complete) finish({ kind: 'aborted' })
    })
  })
}
