import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { classifyBody } from '../../src/main/core/ingest/classify-body'
import { EVENT_NAMES } from '../../src/shared/event-names'

// Bad input gets a clear reason, never a crash: properties over arbitrary bodies.

const validEvent = fc.record({
  id: fc.string({ minLength: 1, maxLength: 60 }),
  name: fc.constantFrom(...EVENT_NAMES.filter((n) => n !== 'customer.checked.out')),
  timestamp: fc
    .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  customer_id: fc.string({ minLength: 1, maxLength: 40 }),
  store_id: fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined }),
  time_elapsed: fc.option(fc.oneof(fc.double(), fc.string(), fc.integer()), { nil: undefined }),
})

describe('classifyBody', () => {
  it('never throws on arbitrary bytes, and says why it quarantines', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const op = classifyBody(Buffer.from(bytes), null, 0)
        if (op.kind === 'quarantine') {
          expect(op.reason.length).toBeGreaterThan(5)
          expect(Buffer.compare(op.raw, Buffer.from(bytes))).toBe(0)
        } else {
          expect(op.kind).toBe('event')
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on arbitrary JSON values, and names a field in every validation reason', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const op = classifyBody(Buffer.from(JSON.stringify(value) ?? 'null'), null, 0)
        expect(op.kind).toBe('quarantine')
        if (
          op.kind === 'quarantine' &&
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value)
        ) {
          expect(op.reason).toMatch(/`[a-z_]+/)
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('stores every valid event with its fields as sent', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const op = classifyBody(Buffer.from(JSON.stringify(event)), null, 0)
        expect(op.kind).toBe('event')
        if (op.kind === 'event') {
          expect(op.row.id).toBe(event.id)
          expect(op.row.occurredMs).toBe(Date.parse(event.timestamp))
          expect(op.row.hasOffset).toBe(true)
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('quarantines a valid event with one required field broken, naming that field', () => {
    const field = fc.constantFrom('id', 'name', 'timestamp', 'customer_id')
    const breakage = fc.constantFrom<unknown>(undefined, 42, '', null, [], {})
    fc.assert(
      fc.property(validEvent, field, breakage, (event, key, bad) => {
        const broken: Record<string, unknown> = { ...event, [key]: bad }
        const op = classifyBody(Buffer.from(JSON.stringify(broken)), null, 0)
        expect(op.kind).toBe('quarantine')
        if (op.kind === 'quarantine') expect(op.reason).toContain(`\`${key}\``)
      }),
      { numRuns: 500 },
    )
  })
})
