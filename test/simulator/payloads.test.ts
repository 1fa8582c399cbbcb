import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkEvent } from '../../src/shared/event-schema'
import { parseTimeElapsed } from '../../src/shared/event-time'
import {
  BAD_KINDS,
  Prng,
  formatElapsed,
  generateDay,
  eventPayload,
} from '../../src/tools/simulator/index'
import { makeBadBody } from '../../src/tools/simulator/faults'

describe('time_elapsed in its three forms', () => {
  it('writes the sample’s 1278.75 s in each form', () => {
    expect(formatElapsed(1_278_750, 'seconds')).toBe(1278.75)
    expect(formatElapsed(1_278_750, 'iso')).toBe('PT21M18.75S')
    expect(formatElapsed(1_278_750, 'clock')).toBe('00:21:18.750')
    expect(formatElapsed(3_600_000, 'iso')).toBe('PT1H')
    expect(formatElapsed(3_723_000, 'clock')).toBe('01:02:03')
    expect(formatElapsed(0, 'iso')).toBe('PT0S')
  })

  it('every form reads back, with the ingest’s own parser, to the same seconds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 * 3_600_000 }),
        fc.constantFrom('seconds', 'iso', 'clock' as const),
        (ms, form) => {
          const parsed = parseTimeElapsed(formatElapsed(ms, form))
          expect(parsed).not.toBeNull()
          expect(parsed!).toBeCloseTo(ms / 1000, 6)
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('malformed bodies', () => {
  const models = generateDay({ seed: 5, stores: 2, customers: 50, date: '2026-11-21' })
    .slice(0, 200)
    .map((e) => eventPayload(e, { withStore: true, elapsedForm: 'iso' }))

  it('every kind is refused by the contract’s schema (so the listener quarantines it)', () => {
    const prng = new Prng('faults-test')
    const seen = new Set<string>()
    for (let i = 0; i < 400; i++) {
      const bad = makeBadBody(models[i % models.length]!, prng)
      seen.add(bad.kind)
      let value: unknown
      try {
        value = JSON.parse(bad.body)
      } catch {
        expect(bad.kind).toBe('not-json')
        continue
      }
      expect(bad.kind).not.toBe('not-json')
      const check = checkEvent(value)
      expect(check.ok).toBe(false)
      // the id inside, when any, is a fresh one: a bad body never shadows a real event
      if (bad.id !== null) expect(models.some((m) => m.id === bad.id)).toBe(false)
    }
    expect([...seen].sort()).toEqual([...BAD_KINDS].sort())
  })

  it('the valid bodies they are modelled on pass the same schema', () => {
    for (const m of models) expect(checkEvent(m).ok).toBe(true)
    const withoutStore = eventPayload(
      generateDay({ seed: 5, stores: 1, customers: 5, date: '2026-11-21' })[0]!,
      {
        withStore: false,
        elapsedForm: 'clock',
      },
    )
    expect('store_id' in withoutStore).toBe(false)
    expect(checkEvent(withoutStore).ok).toBe(true)
  })
})
