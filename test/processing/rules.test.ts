import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { customerJourney } from '../../src/main/core/processing/queries'
import type { TestCore } from '../helpers/core'
import { sampleBytes, SAMPLE_FILES } from '../helpers/samples'
import {
  alertByKey,
  alertsOf,
  DAY,
  ENTER,
  ev,
  EXIT,
  HOUR,
  item,
  MIN,
  PAY,
  rollupOf,
  send,
  SHOP,
  startProcessingCore,
  T0,
  visitsOf,
} from './helpers'

// Every rule of PROCESSING.md, on events that go through the real ingest path (HTTP, commit
// thread, SQLite) and a real processing run. "Now" is stream-wide, so each test has its own core.
let core: TestCore
beforeEach(async () => {
  core = await startProcessingCore()
})
afterEach(async () => {
  await core.dispose()
})

const run = () => core.processNow()

describe('the contract samples', () => {
  it('01-04 give one visit at S-017: TIS 21.31 min, spend 165.99, brands Northpeak;Woolworks', async () => {
    for (const file of SAMPLE_FILES) await send(core, [sampleBytes(file).toString('utf8')])
    // A resent sequence (same ids) must not count twice.
    for (const file of SAMPLE_FILES) await send(core, [sampleBytes(file).toString('utf8')])
    await run()
    const visits = visitsOf(core.db, 'C-100234')
    expect(visits).toHaveLength(1)
    expect(visits[0]).toMatchObject({
      visit_key: 'C-100234:6f1c2a9e-2d7b-4c55-9a0e-7c1f3b8d4e01',
      store_id: 'S-017',
      status: 'closed',
      entry_inferred: 0,
      event_count: 4,
      tis_ms: 1_278_750,
      spend_cents: 16_599,
      checkouts: 1,
      brands: 'Northpeak;Woolworks',
    })
    expect(rollupOf(core.db, 'C-100234')).toMatchObject({
      visit_count: 1,
      visits_30d: 1,
      first_visit_ms: Date.parse('2026-11-21T14:03:11.250Z'),
      last_visit_ms: Date.parse('2026-11-21T14:03:11.250Z'),
      last_store_id: 'S-017',
      avg_tis_minutes: 21.31,
      total_spend_cents: 16_599,
      purchase_visits: 1,
      top_brands: 'Northpeak;Woolworks',
    })
    expect(alertsOf(core.db, 'C-100234')).toEqual([])
    const journey = customerJourney(core.db, 'C-100234')
    expect(journey.rollup).toMatchObject({ totalSpend: 165.99, avgTimeInStoreMinutes: 21.31 })
    expect(journey.visits[0]?.timeInStoreMinutes).toBe(21.31)
    expect(journey.visits[0]?.spend).toBe(165.99)
    expect(journey.visits[0]?.events.map((e) => e.name)).toEqual([ENTER, SHOP, PAY, EXIT])
    expect(journey.outside).toEqual([])
  })
})

describe('visits', () => {
  it('rule 2: shopping with no visit open opens one at that event, entry inferred (alert)', async () => {
    const shop = ev(SHOP, 'C-2', T0)
    await send(core, [shop, ev(EXIT, 'C-2', T0 + 10 * MIN, { time_elapsed: 600 })])
    await run()
    const [visit] = visitsOf(core.db, 'C-2')
    expect(visit).toMatchObject({
      visit_key: `C-2:${String(shop.id)}`,
      entry_inferred: 1,
      entered_ms: T0,
      status: 'closed',
      tis_ms: 600_000,
    })
    expect(alertsOf(core.db, 'C-2', 'entry_inferred')).toMatchObject([
      { state: 'open', severity: 'info', event_id: shop.id, visit_key: visit?.visit_key },
    ])
  })

  it('rule 3: an exit alone makes a visit, entry at exit minus time_elapsed', async () => {
    const exit = ev(EXIT, 'C-3', T0 + HOUR, { time_elapsed: 'PT30M' })
    await send(core, [exit])
    await run()
    expect(visitsOf(core.db, 'C-3')).toMatchObject([
      {
        visit_key: `C-3:${String(exit.id)}`,
        entry_inferred: 1,
        entered_ms: T0 + 30 * MIN,
        started_ms: T0 + 30 * MIN,
        exited_ms: T0 + HOUR,
        tis_ms: 30 * MIN,
        status: 'closed',
      },
    ])
    expect(rollupOf(core.db, 'C-3')).toMatchObject({
      avg_tis_minutes: 30,
      first_visit_ms: T0 + 30 * MIN,
    })
    expect(alertsOf(core.db, 'C-3').map((a) => a.kind)).toEqual(['entry_inferred'])
  })

  it('rule 3: an exit alone without time_elapsed has an unknown entry and TIS', async () => {
    await send(core, [ev(EXIT, 'C-3b', T0 + HOUR)])
    await run()
    expect(visitsOf(core.db, 'C-3b')).toMatchObject([
      {
        entry_inferred: 1,
        entered_ms: null,
        started_ms: T0 + HOUR,
        tis_ms: null,
        status: 'closed',
      },
    ])
    expect(rollupOf(core.db, 'C-3b')).toMatchObject({ visit_count: 1, avg_tis_minutes: null })
    expect(
      alertsOf(core.db, 'C-3b')
        .map((a) => a.kind)
        .sort(),
    ).toEqual(['entry_inferred', 'time_elapsed_missing'])
  })

  it('rule 3: without time_elapsed, TIS comes from the timestamps (alert)', async () => {
    await send(core, [ev(ENTER, 'C-3c', T0), ev(EXIT, 'C-3c', T0 + 7 * MIN + 500)])
    await run()
    expect(visitsOf(core.db, 'C-3c')[0]).toMatchObject({ tis_ms: 7 * MIN + 500, status: 'closed' })
    expect(alertsOf(core.db, 'C-3c').map((a) => a.kind)).toEqual(['time_elapsed_missing'])
  })

  it('rule 3: time_elapsed wins over timestamps more than 60 s apart (alert), not within 60 s', async () => {
    await send(core, [
      ev(ENTER, 'C-te', T0),
      ev(EXIT, 'C-te', T0 + 10 * MIN, { time_elapsed: 900 }), // 15 min vs 10 min
      ev(ENTER, 'C-te', T0 + HOUR),
      ev(EXIT, 'C-te', T0 + HOUR + 10 * MIN, { time_elapsed: '00:10:59' }), // 59 s apart
    ])
    await run()
    const visits = visitsOf(core.db, 'C-te')
    expect(visits.map((v) => v.tis_ms)).toEqual([900_000, 659_000])
    const alerts = alertsOf(core.db, 'C-te', 'tis_mismatch')
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ visit_key: visits[0]?.visit_key, severity: 'warning' })
    expect(String(alerts[0]?.message)).toMatch(/900 s.*600 s/)
  })

  it('rule 4: a new entry while a visit is open closes it as incomplete (alert)', async () => {
    const second = ev(ENTER, 'C-4', T0 + 20 * MIN)
    await send(core, [ev(ENTER, 'C-4', T0), ev(SHOP, 'C-4', T0 + 5 * MIN), second])
    await send(core, [ev(EXIT, 'C-4', T0 + 30 * MIN, { time_elapsed: 600 })])
    await run()
    const visits = visitsOf(core.db, 'C-4')
    expect(visits.map((v) => [v.status, v.tis_ms, v.event_count])).toEqual([
      ['incomplete', null, 2],
      ['closed', 600_000, 2],
    ])
    expect(alertsOf(core.db, 'C-4', 'incomplete_visit')).toMatchObject([
      { visit_key: visits[0]?.visit_key, event_id: second.id, state: 'open' },
    ])
    expect(rollupOf(core.db, 'C-4')).toMatchObject({ visit_count: 2, avg_tis_minutes: 10 })
  })

  it('rule 5: a visit silent for more than 12 h of stream time is abandoned (alert)', async () => {
    await send(core, [ev(ENTER, 'C-5', T0), ev(SHOP, 'C-5', T0 + HOUR)])
    // Exactly 12 h after the last event is not "more than".
    await send(core, [ev(ENTER, 'C-other', T0 + 13 * HOUR)])
    await run()
    expect(visitsOf(core.db, 'C-5')[0]?.status).toBe('open')
    expect(alertsOf(core.db, 'C-5')).toEqual([])
    // Another customer's event moves "now": C-5 has no new event but must be recomputed.
    await send(core, [ev(SHOP, 'C-other', T0 + 13 * HOUR + 1)])
    await run()
    expect(visitsOf(core.db, 'C-5')[0]).toMatchObject({ status: 'abandoned', tis_ms: null })
    expect(alertsOf(core.db, 'C-5', 'abandoned_visit')).toMatchObject([{ state: 'open' }])
    expect(rollupOf(core.db, 'C-5')).toMatchObject({ visit_count: 1, avg_tis_minutes: null })
    // Its next event, a day later, starts a new visit instead of joining the stale one.
    await send(core, [ev(SHOP, 'C-5', T0 + DAY)])
    await run()
    expect(visitsOf(core.db, 'C-5').map((v) => [v.status, v.entry_inferred])).toEqual([
      ['abandoned', 0],
      ['open', 1],
    ])
  })

  it('rule 5: a late exit within the timeout brings an abandoned visit back to closed', async () => {
    const enter = ev(ENTER, 'C-5b', T0)
    await send(core, [enter, ev(SHOP, 'C-other', T0 + 14 * HOUR)])
    await run()
    expect(visitsOf(core.db, 'C-5b')[0]?.status).toBe('abandoned')
    await send(core, [ev(EXIT, 'C-5b', T0 + 40 * MIN, { time_elapsed: 2400 })])
    await run()
    expect(visitsOf(core.db, 'C-5b')).toMatchObject([
      { visit_key: `C-5b:${String(enter.id)}`, status: 'closed', tis_ms: 2_400_000 },
    ])
    expect(alertByKey(core.db, `abandoned_visit:C-5b:${String(enter.id)}`)?.state).toBe('resolved')
  })

  it('rule 6: an event from another store raises an alert and does not move the visit', async () => {
    await send(core, [
      ev(ENTER, 'C-6', T0, { store_id: 'S-1' }),
      ev(SHOP, 'C-6', T0 + MIN, { store_id: 'S-2' }),
      ev(SHOP, 'C-6', T0 + 2 * MIN, { store_id: 'S-2' }),
      ev(EXIT, 'C-6', T0 + 3 * MIN, { store_id: 'S-1', time_elapsed: 180 }),
    ])
    await run()
    expect(visitsOf(core.db, 'C-6')).toMatchObject([{ store_id: 'S-1', event_count: 4 }])
    expect(alertsOf(core.db, 'C-6', 'store_mismatch')).toMatchObject([
      { count: 2, store_id: 'S-1' },
    ])
    expect(rollupOf(core.db, 'C-6')?.last_store_id).toBe('S-1')
  })

  it('an event without store_id is at the unknown store; one stream alert counts them all', async () => {
    await send(core, [
      ev(ENTER, 'C-ns', T0, { store_id: undefined }),
      ev(EXIT, 'C-ns', T0 + MIN, { store_id: null, time_elapsed: 60 }),
    ])
    await run()
    await send(core, [ev(ENTER, 'C-ns2', T0 + 2 * MIN, { store_id: undefined })])
    await run()
    expect(visitsOf(core.db, 'C-ns')).toMatchObject([{ store_id: null, status: 'closed' }])
    expect(alertByKey(core.db, 'missing_store_id:stream')).toMatchObject({
      count: 3,
      first_seen_ms: T0,
      last_seen_ms: T0 + 2 * MIN,
      state: 'open',
    })
  })

  it('a timestamp without offset is read as UTC and alerted per store', async () => {
    await send(core, [
      ev(ENTER, 'C-tz', T0, { timestamp: '2026-11-21T10:00:00', store_id: 'S-9' }),
      ev(EXIT, 'C-tz', T0 + MIN, { timestamp: '2026-11-21T10:01:00', store_id: 'S-9' }),
    ])
    await run()
    expect(visitsOf(core.db, 'C-tz')).toMatchObject([{ entered_ms: T0, tis_ms: MIN }])
    expect(alertByKey(core.db, 'timestamp_without_offset:S-9')).toMatchObject({ count: 2 })
  })
})

describe('timestamps ahead of their receipt', () => {
  it('are processed as sent, and alerted per store, because they move "now" for everyone', async () => {
    const ahead = Date.now() + 2 * DAY
    await send(core, [
      ev(ENTER, 'C-fut', ahead - MIN, { store_id: 'S-7' }),
      ev(SHOP, 'C-fut', ahead, { store_id: 'S-7' }),
      ev(ENTER, 'C-now', Date.now() - MIN, { store_id: 'S-7' }),
    ])
    await run()
    expect(alertByKey(core.db, 'timestamp_in_future:S-7')).toMatchObject({
      count: 2,
      last_seen_ms: ahead,
      state: 'open',
    })
    expect(visitsOf(core.db, 'C-fut')).toMatchObject([{ status: 'open', event_count: 2 }])
    // The harm the alert is about: a customer in the store right now counts as abandoned.
    expect(visitsOf(core.db, 'C-now')).toMatchObject([{ status: 'abandoned' }])
  })
})

describe('order: late and resent events land in the right place', () => {
  it('a late event in the middle of a visit joins it', async () => {
    const enter = ev(ENTER, 'C-late', T0)
    const shop = ev(SHOP, 'C-late', T0 + 5 * MIN)
    await send(core, [enter, ev(EXIT, 'C-late', T0 + 20 * MIN, { time_elapsed: 1200 })])
    await run()
    await send(core, [shop])
    await run()
    const journey = customerJourney(core.db, 'C-late')
    expect(journey.visits).toHaveLength(1)
    expect(journey.visits[0]?.events.map((e) => e.id)).toEqual([
      enter.id,
      shop.id,
      expect.any(String),
    ])
  })

  it('a late entry before an inferred visit becomes its first event: new key, old one removed', async () => {
    const shop = ev(SHOP, 'C-key', T0 + 5 * MIN)
    const enter = ev(ENTER, 'C-key', T0)
    await send(core, [shop])
    await run()
    const oldKey = `C-key:${String(shop.id)}`
    expect(visitsOf(core.db, 'C-key')[0]?.visit_key).toBe(oldKey)
    await send(core, [enter])
    await run()
    expect(visitsOf(core.db, 'C-key')).toMatchObject([
      { visit_key: `C-key:${String(enter.id)}`, entry_inferred: 0, event_count: 2 },
    ])
    expect(core.db.prepare('SELECT visit_key FROM visit_removals').all()).toEqual([
      { visit_key: oldKey },
    ])
    expect(alertByKey(core.db, `entry_inferred:${oldKey}`)?.state).toBe('resolved')
  })

  it('events with the same timestamp keep their arrival order', async () => {
    const enter = ev(ENTER, 'C-tie', T0)
    const exit = ev(EXIT, 'C-tie', T0, { time_elapsed: 0 })
    await send(core, [enter, exit])
    await run()
    expect(visitsOf(core.db, 'C-tie')).toMatchObject([{ status: 'closed', event_count: 2 }])
  })
})

describe('money and brands', () => {
  it('leaves other-currency lines out of spend and brands (alert); brandless items count in spend', async () => {
    await send(core, [
      ev(ENTER, 'C-m', T0),
      ev(PAY, 'C-m', T0 + MIN, {
        items: [
          item({ brand: 'Acme', unit_price: 10, quantity: 3, promotions: [{ discount: 0.1 }] }),
          item({ brand: 'Euro', unit_price: 50, currency: 'EUR' }),
          item({ brand: null, unit_price: 0.1, quantity: 3 }), // 0.30, no brand
          item({ brand: 'Tiny', unit_price: 0.015 }), // 1.5 cents: rounded once, at the end
          item({ brand: 'Tiny', unit_price: 0.015 }),
        ],
      }),
    ])
    await run()
    // 29.90 + 0.30 + 0.03 = 30.23 (each Tiny line alone would round to 0.02 + 0.02).
    expect(visitsOf(core.db, 'C-m')[0]).toMatchObject({ spend_cents: 3023, brands: 'Acme;Tiny' })
    expect(alertsOf(core.db, 'C-m', 'other_currency')).toMatchObject([{ count: 1 }])
    expect(rollupOf(core.db, 'C-m')).toMatchObject({ total_spend_cents: 3023, purchase_visits: 1 })
  })

  it('top brands: by spend in cents over all visits, ties by name, at most 5', async () => {
    const pay = (at: number, lines: [string, number][]) =>
      ev(PAY, 'C-b', at, {
        items: lines.map(([brand, price]) => item({ brand, unit_price: price })),
      })
    await send(core, [
      ev(ENTER, 'C-b', T0),
      pay(T0 + MIN, [
        ['Zulu', 10],
        ['Alpha', 10],
        ['Gamma', 5],
        ['Delta', 1],
      ]),
      ev(EXIT, 'C-b', T0 + 2 * MIN, { time_elapsed: 120 }),
      ev(ENTER, 'C-b', T0 + DAY),
      pay(T0 + DAY + MIN, [
        ['Gamma', 20], // 25 in all: first
        ['Echo', 2],
        ['Bravo', 1], // ties Delta at 1.00: Bravo first by name, Delta is the sixth
      ]),
    ])
    await run()
    expect(rollupOf(core.db, 'C-b')).toMatchObject({
      top_brands: 'Gamma;Alpha;Zulu;Echo;Bravo',
      total_spend_cents: 4900,
      purchase_visits: 2,
      visit_count: 2,
    })
  })

  it('average TIS is the mean in minutes over visits with a known TIS, to 2 decimals', async () => {
    await send(core, [
      ev(ENTER, 'C-avg', T0),
      ev(EXIT, 'C-avg', T0 + 100_000, { time_elapsed: 100 }),
      ev(ENTER, 'C-avg', T0 + HOUR),
      ev(EXIT, 'C-avg', T0 + HOUR + 201_000, { time_elapsed: 201 }),
      ev(ENTER, 'C-avg', T0 + 2 * HOUR),
      ev(ENTER, 'C-avg', T0 + 3 * HOUR), // the previous one is incomplete: no TIS
    ])
    await run()
    // (100 + 201) / 2 s = 150.5 s = 2.5083 min
    expect(rollupOf(core.db, 'C-avg')).toMatchObject({ visit_count: 4, avg_tis_minutes: 2.51 })
  })
})

describe('rollup over time', () => {
  it('visits in the last 30 days follow "now" as it moves, even without new events of the customer', async () => {
    await send(core, [
      ev(ENTER, 'C-30', T0),
      ev(EXIT, 'C-30', T0 + MIN, { time_elapsed: 60 }),
      ev(ENTER, 'C-30', T0 + 20 * DAY),
      ev(EXIT, 'C-30', T0 + 20 * DAY + MIN, { time_elapsed: 60 }),
    ])
    await run()
    expect(rollupOf(core.db, 'C-30')).toMatchObject({ visit_count: 2, visits_30d: 2 })
    // Exactly 30 days after the first entry: still within the window.
    await send(core, [ev(SHOP, 'C-clock', T0 + 30 * DAY)])
    await run()
    expect(rollupOf(core.db, 'C-30')?.visits_30d).toBe(2)
    await send(core, [ev(SHOP, 'C-clock', T0 + 30 * DAY + 1)])
    await run()
    expect(rollupOf(core.db, 'C-30')).toMatchObject({
      visit_count: 2,
      visits_30d: 1,
      first_visit_ms: T0,
      last_visit_ms: T0 + 20 * DAY,
    })
  })
})
