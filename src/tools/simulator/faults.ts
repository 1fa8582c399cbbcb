import type { Prng } from './prng'

/**
 * Malformed bodies, for demos and tests of quarantine. Each kind must be refused by the ingest
 * schema (answered 2xx and quarantined), never stored as an event: the test of a run compares
 * the quarantine with exactly these.
 */
export const BAD_KINDS = ['not-json', 'missing-field', 'unknown-name', 'bad-timestamp'] as const
export type BadKind = (typeof BAD_KINDS)[number]

export interface BadBody {
  kind: BadKind
  /** The id inside the body, when it has one (a fresh one: it never collides with a real event). */
  id: string | null
  body: string
}

const UNKNOWN_NAMES = ['customer.browsing', 'customer.entered', 'Customer.Shopping', 'checkout']
const BAD_TIMESTAMPS = ['2026-11-31T10:00:00Z', '21/11/2026 14:03:11', 'yesterday', '']
const REQUIRED = ['id', 'name', 'timestamp', 'customer_id'] as const

/** A malformed body modelled on a real payload (so it looks like what a buggy sender would send). */
export function makeBadBody(model: Record<string, unknown>, prng: Prng): BadBody {
  const kind = prng.pick(BAD_KINDS)
  const id = prng.uuid()
  const copy: Record<string, unknown> = { ...model, id }
  switch (kind) {
    case 'not-json': {
      // Cut off mid-object (a dropped connection on the sender's side) or form-encoded by mistake.
      const text = JSON.stringify(copy)
      const body = prng.chance(0.5)
        ? text.slice(0, Math.max(2, Math.floor(text.length / 2)))
        : `id=${id}&name=${String(copy.name)}&customer_id=${String(copy.customer_id)}`
      return { kind, id: null, body }
    }
    case 'missing-field': {
      const field = prng.pick(REQUIRED)
      delete copy[field]
      return { kind, id: field === 'id' ? null : id, body: JSON.stringify(copy) }
    }
    case 'unknown-name':
      copy.name = prng.pick(UNKNOWN_NAMES)
      return { kind, id, body: JSON.stringify(copy) }
    case 'bad-timestamp':
      copy.timestamp = prng.pick(BAD_TIMESTAMPS)
      return { kind, id, body: JSON.stringify(copy) }
  }
}
