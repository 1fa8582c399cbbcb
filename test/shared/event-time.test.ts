import { describe, expect, it } from 'vitest'
import { parseTimeElapsed, parseTimestamp } from '../../src/shared/event-time'

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-21T14:03:11.250Z', Date.UTC(2026, 10, 21, 14, 3, 11, 250), true],
    ['2026-11-21T15:03:11.250+01:00', Date.UTC(2026, 10, 21, 14, 3, 11, 250), true],
    ['2026-11-21T09:03:11-0500', Date.UTC(2026, 10, 21, 14, 3, 11), true],
    ['2026-11-21T14:03', Date.UTC(2026, 10, 21, 14, 3), false],
    ['2026-11-21T14:03:11.123456789Z', Date.UTC(2026, 10, 21, 14, 3, 11, 123), true],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29), true],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29), true],
    ['2026-04-30T00:00:00Z', Date.UTC(2026, 3, 30), true],
    ['2026-12-31T23:59:59Z', Date.UTC(2026, 11, 31, 23, 59, 59), true],
  ])('reads %s', (text, epochMs, hasOffset) => {
    expect(parseTimestamp(text)).toEqual({ epochMs, hasOffset })
  })

  it.each([
    '21/11/2026 14:03',
    '2026-11-21',
    '2026-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-11-00T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-21T24:00:00Z',
    '2026-11-21T14:03:11+25:00',
    'yesterday',
    '',
  ])('refuses %s', (text) => {
    expect(parseTimestamp(text)).toBeNull()
  })
})

describe('parseTimeElapsed', () => {
  it.each([
    [1278.75, 1278.75],
    [0, 0],
    ['1278.75', 1278.75],
    ['PT21M18.75S', 1278.75],
    ['PT1H', 3600],
    ['P1DT1S', 86_401],
    ['pt2m', 120],
    ['00:21:18.750', 1278.75],
    ['1:00:00', 3600],
    ['25:00:00', 90_000],
  ])('reads %s', (value, seconds) => {
    expect(parseTimeElapsed(value)).toBe(seconds)
  })

  it.each([-1, Number.NaN, 'PT', 'P', '21m', '00:61:00', null, undefined, true, {}])(
    'returns null for %s',
    (value) => {
      expect(parseTimeElapsed(value)).toBeNull()
    },
  )
})
