import fc from 'fast-check'
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import type { ReceivedOp } from '../../src/main/core/store/event-store'
import { decodeOps, encodeOps } from '../../src/main/core/store/ingest-wire'

const op: fc.Arbitrary<ReceivedOp> = fc.oneof(
  fc.record({
    kind: fc.constant('body' as const),
    raw: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    contentType: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
    receivedMs: fc.integer({ min: 0 }),
  }),
  fc.record({
    kind: fc.constant('count' as const),
    counter: fc.constantFrom<'rejected_auth' | 'rejected_size' | 'rejected_timeout'>(
      'rejected_auth',
      'rejected_size',
      'rejected_timeout',
    ),
  }),
)

describe('received ops on the wire to the commit thread', () => {
  it('arrive as they were sent, bodies byte for byte, through a real message port', () => {
    const { port1, port2 } = new MessageChannel()
    try {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
          const wire = encodeOps(ops)
          port1.postMessage(wire, [wire.bytes])
          // Transferred, not copied: the sender's buffer is gone.
          expect(wire.bytes.byteLength).toBe(0)
          const received = receiveMessageOnPort(port2)?.message as typeof wire
          const back = decodeOps(received)
          expect(received.count).toBe(ops.length)
          expect(back).toEqual(ops)
        }),
      )
    } finally {
      port1.close()
    }
  })

  it('refuses what it cannot read rather than storing it wrong', () => {
    expect(() => decodeOps({ count: 1, fields: [9], bytes: new ArrayBuffer(0) })).toThrow(
      /unknown ingest op/,
    )
  })
})
