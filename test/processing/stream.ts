import { DAY, ENTER, ev, EXIT, HOUR, item, MIN, PAY, SHOP, T0 } from './helpers'
import type { EventName } from './helpers'

/** A small seeded PRNG (mulberry32): the same seed gives the same stream on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface GeneratedStream {
  /** Bodies in the order they are sent: JSON objects, or raw strings for broken payloads. */
  sends: (Record<string, unknown> | string)[]
  lateCount: number
  resentCount: number
}

const BRANDS = ['Northpeak', 'Woolworks', 'Acme', 'Brio', 'Cascade', 'Dune', 'Ember']

/**
 * A multi-day stream with everything PROCESSING.md has a rule for: missing entries and exits
 * (inferred, incomplete, abandoned), time_elapsed in three forms, missing or disagreeing with
 * the timestamps, other stores, missing store_id, timestamps without offset, other currencies,
 * brandless items; then sent out of order (late events), partly twice (resent sequences), with
 * a few unreadable bodies. Visits span 40 days, so the 30-day window slides during the stream.
 */
export function generateStream(seed: number, customers: number): GeneratedStream {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const chance = (p: number): boolean => rnd() < p
  const events: { at: number; body: Record<string, unknown> }[] = []
  const sequences: Record<string, unknown>[][] = []
  for (let c = 0; c < customers; c += 1) {
    const customer = `C-${String(c).padStart(4, '0')}`
    const home = `S-${1 + (c % 4)}`
    let t = T0 + Math.floor(rnd() * 2 * DAY)
    const visits = 1 + Math.floor(rnd() * 4)
    for (let v = 0; v < visits; v += 1) {
      const seq: Record<string, unknown>[] = []
      const add = (name: EventName, at: number, extra: Record<string, unknown> = {}): void => {
        const extras: Record<string, unknown> = { store_id: home, ...extra }
        if (chance(0.04)) extras.store_id = undefined
        const body = ev(name, customer, at, extras)
        if (chance(0.03)) body.timestamp = new Date(at).toISOString().replace('Z', '')
        events.push({ at, body })
        seq.push(body)
      }
      const enter = t
      if (!chance(0.12)) add(ENTER, enter)
      let at = enter
      const steps = Math.floor(rnd() * 4)
      for (let s = 0; s < steps; s += 1) {
        at += Math.floor(rnd() * 15 * MIN) + 1000
        if (chance(0.5)) {
          add(SHOP, at, chance(0.06) ? { store_id: `S-${9 - (c % 3)}` } : {})
        } else {
          const lines = 1 + Math.floor(rnd() * 3)
          const items = []
          for (let l = 0; l < lines; l += 1) {
            items.push(
              item({
                brand: chance(0.1) ? null : pick(BRANDS),
                unit_price: Math.round(rnd() * 20000) / 100,
                quantity: 1 + Math.floor(rnd() * 3),
                currency: chance(0.05) ? 'EUR' : 'USD',
                promotions: chance(0.3)
                  ? [{ code: 'P', discount: Math.round(rnd() * 500) / 100 }]
                  : [],
              }),
            )
          }
          add(PAY, at, { items })
        }
      }
      if (!chance(0.12)) {
        at += Math.floor(rnd() * 10 * MIN) + 1000
        const seconds = (at - enter) / 1000
        const form = rnd()
        const te =
          form < 0.1
            ? undefined
            : form < 0.2
              ? seconds + 600 // disagrees by 10 minutes
              : form < 0.4
                ? `PT${Math.floor(seconds / 60)}M${(seconds % 60).toFixed(2)}S`
                : form < 0.5
                  ? 'soon'
                  : seconds
        add(EXIT, at, te === undefined ? {} : { time_elapsed: te })
      }
      sequences.push(seq)
      // Next visit: hours to days later; a few a month later, so the 30-day window slides.
      t = at + (chance(0.1) ? 30 * DAY : Math.floor(rnd() * 30 * HOUR) + 2 * HOUR)
    }
  }
  // A few customers still in a store when the stream ends: open visits.
  const end = Math.max(...events.map((e) => e.at))
  for (let k = 0; k < 3; k += 1) {
    const at = end - (k + 1) * 7 * MIN
    events.push({ at, body: ev(ENTER, `C-open-${k}`, at, { store_id: 'S-1' }) })
  }
  events.sort((a, b) => a.at - b.at)
  const sends: (Record<string, unknown> | string)[] = events.map((e) => e.body)
  // Late events: some are held back and sent well after their neighbours (a retry queue).
  let lateCount = 0
  for (let i = sends.length - 1; i >= 0; i -= 1) {
    if (!chance(0.05)) continue
    const [body] = sends.splice(i, 1)
    const to = Math.min(sends.length, i + 5 + Math.floor(rnd() * 200))
    sends.splice(to, 0, body as Record<string, unknown>)
    lateCount += 1
  }
  // Resent sequences (same ids) and unreadable bodies, spread through the stream.
  let resentCount = 0
  for (const seq of sequences) {
    if (!chance(0.05)) continue
    const at = Math.floor(rnd() * sends.length)
    sends.splice(at, 0, ...seq)
    resentCount += 1
  }
  for (let q = 0; q < 4; q += 1) {
    sends.splice(Math.floor(rnd() * sends.length), 0, `{"id": "broken-${q}", "name": `)
  }
  return { sends, lateCount, resentCount }
}
