import type { ReceivedOp, RejectionCounter } from './event-store'

/**
 * Received ops as they cross to the commit thread: their fields as one flat array of
 * primitives, and every raw body in one buffer that is transferred, not copied. Structured
 * clone of the ops themselves was the listener's dearest step after the socket writes: it
 * writes every property name of every op, and copies the whole 8 KiB pool slab behind each
 * body (measured: 4-5 us an op, against about 1 us in this form).
 */
export interface WireOps {
  /** How many ops. */
  count: number
  fields: (string | number | null)[]
  bytes: ArrayBuffer
}

const BODY = 0
const COUNT = 1

export function encodeOps(ops: readonly ReceivedOp[]): WireOps {
  let total = 0
  for (const op of ops) if (op.kind === 'body') total += op.raw.length
  // Not from Node's pool: a buffer of its own, so that transferring it moves only these bytes.
  const bytes = Buffer.allocUnsafeSlow(total)
  const fields: (string | number | null)[] = []
  let at = 0
  for (const op of ops) {
    if (op.kind === 'body') {
      fields.push(BODY, op.contentType, op.receivedMs, op.raw.length)
      at += op.raw.copy(bytes, at)
    } else {
      fields.push(COUNT, op.counter)
    }
  }
  return { count: ops.length, fields, bytes: bytes.buffer }
}

export function decodeOps({ fields: f, bytes }: WireOps): ReceivedOp[] {
  const ops: ReceivedOp[] = []
  let at = 0
  for (let i = 0; i < f.length;) {
    switch (f[i]) {
      case BODY: {
        const length = f[i + 3] as number
        ops.push({
          kind: 'body',
          contentType: f[i + 1] as string | null,
          receivedMs: f[i + 2] as number,
          raw: Buffer.from(bytes, at, length),
        })
        at += length
        i += 4
        break
      }
      case COUNT:
        ops.push({ kind: 'count', counter: f[i + 1] as RejectionCounter })
        i += 2
        break
      default:
        throw new Error(`unknown ingest op on the wire: ${String(f[i])}`)
    }
  }
  return ops
}
