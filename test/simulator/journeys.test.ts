import { describe, expect, it } from 'vitest'
import { checkEvent } from '../../src/shared/event-schema'
import {
  MEAN_EVENTS_PER_VISIT,
  Timeline,
  eventPayload,
  generateDay,
  isOpen,
  makeWorld,
  maxEventsPerSecond,
} from '../../src/tools/simulator/index'
import type { SimEvent } from '../../src/tools/simulator/index'

const DAY = '2026-11-21'
const day = generateDay({ seed: 11, stores: 6, customers: 400, date: DAY, visitsPerCustomer: 1.2 })
const world = makeWorld(11, 6, 400)

/** Cuts a customer's events into visits: each starts at an entry. */
function visitsOf(events: readonly SimEvent[]): SimEvent[][] {
  const byCustomer = new Map<string, SimEvent[]>()
  for (const e of events) {
    const list = byCustomer.get(e.customerId) ?? []
    list.push(e)
    byCustomer.set(e.customerId, list)
  }
  const visits: SimEvent[][] = []
  for (const list of byCustomer.values()) {
    for (const e of list) {
      if (e.name === 'customer.entered.store') visits.push([e])
      else visits[visits.length - 1]!.push(e)
    }
  }
  return visits
}

describe('journeys', () => {
  const visits = visitsOf(day)

  it('a day is in timestamp order and every event is valid by the contract’s schema', () => {
    expect(day.length).toBeGreaterThan(1000)
    for (let i = 1; i < day.length; i++) {
      expect(day[i]!.timestampMs).toBeGreaterThanOrEqual(day[i - 1]!.timestampMs)
    }
    for (const e of day) {
      const check = checkEvent(eventPayload(e, { withStore: true, elapsedForm: 'seconds' }))
      expect(check.ok ? 'ok' : check.reason).toBe('ok')
    }
    expect(new Set(day.map((e) => e.id)).size).toBe(day.length)
  })

  it('every visit is enter, shopping*, at most one checkout, exit, at one store', () => {
    expect(visits.length).toBeGreaterThan(300)
    for (const v of visits) {
      const names = v.map((e) => e.name).join(' ')
      expect(names).toMatch(
        /^customer\.entered\.store( customer\.shopping)*( customer\.checked\.out)? customer\.exited\.store$/,
      )
      expect(new Set(v.map((e) => e.storeId)).size).toBe(1)
      for (let i = 1; i < v.length; i++)
        expect(v[i]!.timestampMs).toBeGreaterThan(v[i - 1]!.timestampMs)
      const exit = v[v.length - 1]!
      expect(exit.elapsedMs).toBe(exit.timestampMs - v[0]!.timestampMs)
      // minutes, not seconds or days
      expect(exit.elapsedMs!).toBeGreaterThan(5_000)
      expect(exit.elapsedMs!).toBeLessThan(4 * 3_600_000)
    }
  })

  it('most visits buy, some leave without buying, some just walk through', () => {
    const buying = visits.filter((v) => v.some((e) => e.name === 'customer.checked.out'))
    const share = buying.length / visits.length
    expect(share).toBeGreaterThan(0.5)
    expect(share).toBeLessThan(0.9)
    expect(visits.some((v) => v.length === 2)).toBe(true)
    expect(visits.some((v) => v.filter((e) => e.name === 'customer.shopping').length >= 3)).toBe(
      true,
    )
  })

  it('checkouts carry products with brands, quantities, prices and sometimes promotions', () => {
    const items = day.filter((e) => e.name === 'customer.checked.out').flatMap((e) => e.items!)
    expect(items.length).toBeGreaterThan(200)
    for (const item of items) {
      expect(item.product_id).toMatch(/^P-\d{5}$/)
      expect(item.name.length).toBeGreaterThan(0)
      expect(item.brand.length).toBeGreaterThan(0)
      expect(Number.isInteger(item.quantity) && item.quantity >= 1).toBe(true)
      expect(item.unit_price).toBeGreaterThan(0)
      expect(item.currency).toBe('USD')
      for (const p of item.promotions) {
        expect(p.discount).toBeGreaterThan(0)
        expect(p.discount).toBeLessThan(item.unit_price * item.quantity)
      }
    }
    const promoted = items.filter((i) => i.promotions.length > 0).length / items.length
    expect(promoted).toBeGreaterThan(0.1)
    expect(promoted).toBeLessThan(0.6)
    expect(new Set(items.map((i) => i.brand)).size).toBeGreaterThan(8)
    expect(items.some((i) => i.quantity > 1)).toBe(true)
  })

  it('a customer is never in two visits at once, and some come back the same day', () => {
    const byCustomer = new Map<string, SimEvent[][]>()
    for (const v of visits) {
      const list = byCustomer.get(v[0]!.customerId) ?? []
      list.push(v)
      byCustomer.set(v[0]!.customerId, list)
    }
    for (const list of byCustomer.values()) {
      for (let i = 1; i < list.length; i++) {
        const previousExit = list[i - 1]![list[i - 1]!.length - 1]!.timestampMs
        expect(list[i]![0]!.timestampMs).toBeGreaterThan(previousExit)
      }
    }
    expect([...byCustomer.values()].some((list) => list.length >= 2)).toBe(true)
    const customers = new Set(world.customers.map((c) => c.id))
    for (const id of byCustomer.keys()) expect(customers.has(id)).toBe(true)
  })

  it('traffic follows opening hours: entries only while the store is open, peaks at lunch and after work', () => {
    const stores = new Map(world.stores.map((s) => [s.id, s]))
    const perHour = new Array<number>(24).fill(0)
    for (const v of visits) {
      const enter = v[0]!
      const store = stores.get(enter.storeId)!
      expect(isOpen(store, enter.timestampMs)).toBe(true)
      // out at most a few minutes after closing time
      const exit = v[v.length - 1]!
      const closes = Date.parse(`${DAY}T00:00:00Z`) + store.closesMin * 60_000
      expect(exit.timestampMs).toBeLessThanOrEqual(closes + 11 * 60_000)
      perHour[new Date(enter.timestampMs).getUTCHours()]! += 1
    }
    expect(perHour.slice(0, 8).every((n) => n === 0)).toBe(true)
    expect(perHour.slice(22).every((n) => n === 0)).toBe(true)
    const morning = perHour[10]!
    expect(perHour[12]! + perHour[13]!).toBeGreaterThan(2 * morning)
    expect(perHour[17]! + perHour[18]!).toBeGreaterThan(2 * morning)
  })

  it('at real-time speed the stores are always open (a demo works at 3 a.m.)', () => {
    const timeline = new Timeline(world, {
      seed: 1,
      startMs: Date.parse(`${DAY}T03:00:00Z`),
      visitsPerHour: 200,
      openingHours: false,
      currency: 'USD',
    })
    const first = timeline.next()!
    expect(new Date(first.event.timestampMs).getUTCHours()).toBe(3)
  })

  it('regulars come back across days', () => {
    const start = Date.parse(`${DAY}T00:00:00Z`)
    const timeline = new Timeline(world, {
      seed: 3,
      startMs: start,
      visitsPerHour: 40,
      openingHours: true,
      currency: 'USD',
      arrivalsUntilMs: start + 3 * 86_400_000,
    })
    const days = new Map<string, Set<number>>()
    for (let e = timeline.next(); e; e = timeline.next()) {
      const set = days.get(e.event.customerId) ?? new Set<number>()
      set.add(Math.floor((e.event.timestampMs - start) / 86_400_000))
      days.set(e.event.customerId, set)
    }
    expect([...days.values()].filter((s) => s.size >= 2).length).toBeGreaterThan(10)
  })

  it('the mean events per visit used to turn --rate into traffic matches the journeys', () => {
    expect(day.length / visits.length).toBeGreaterThan(MEAN_EVENTS_PER_VISIT * 0.9)
    expect(day.length / visits.length).toBeLessThan(MEAN_EVENTS_PER_VISIT * 1.1)
  })

  it('the same seed gives the same day; another seed another', () => {
    const again = generateDay({
      seed: 11,
      stores: 6,
      customers: 400,
      date: DAY,
      visitsPerCustomer: 1.2,
    })
    expect(again).toEqual(day)
    const other = generateDay({
      seed: 12,
      stores: 6,
      customers: 400,
      date: DAY,
      visitsPerCustomer: 1.2,
    })
    expect(other[0]!.id).not.toBe(day[0]!.id)
  })

  it('a warm start opens on busy stores: visits under way are whole, none already over', () => {
    const start = Date.parse(`${DAY}T14:00:00Z`)
    const timeline = new Timeline(world, {
      seed: 5,
      startMs: start - 2 * 3_600_000,
      visibleFromMs: start,
      visitsPerHour: 300,
      openingHours: true,
      currency: 'USD',
      arrivalsUntilMs: start + 3_600_000,
    })
    const events: SimEvent[] = []
    for (let e = timeline.next(); e; e = timeline.next()) events.push(e.event)
    const warm = visitsOf(events)
    expect(warm.every((v) => v[0]!.name === 'customer.entered.store')).toBe(true)
    expect(warm.every((v) => v[v.length - 1]!.timestampMs >= start)).toBe(true)
    const underWay = warm.filter((v) => v[0]!.timestampMs < start)
    expect(underWay.length).toBeGreaterThan(20)
  })

  it('above what the customers can do, visits are dropped, not doubled up, and everyone is used', () => {
    const small = makeWorld(2, 2, 20)
    const start = Date.parse(`${DAY}T00:00:00Z`)
    const timeline = new Timeline(small, {
      seed: 2,
      startMs: start,
      visitsPerHour: 500,
      openingHours: false,
      currency: 'USD',
      arrivalsUntilMs: start + 6 * 3_600_000,
    })
    const events: SimEvent[] = []
    for (let e = timeline.next(); e; e = timeline.next()) events.push(e.event)
    expect(timeline.unserved).toBeGreaterThan(2000)
    expect(new Set(events.map((e) => e.customerId)).size).toBe(20)
    // the estimate the CLI warns with is of the right size (within a factor of two)
    const perSecond = events.length / (6 * 3600)
    const estimate = maxEventsPerSecond(20, 1)
    expect(perSecond).toBeGreaterThan(estimate / 2)
    expect(perSecond).toBeLessThan(estimate * 2)
  })

  it('the same seed at another start makes new ids (a later run never collides with an earlier one)', () => {
    const ids = (startMs: number): string[] => {
      const timeline = new Timeline(world, {
        seed: 11,
        startMs,
        visitsPerHour: 100,
        openingHours: false,
        currency: 'USD',
      })
      return Array.from({ length: 50 }, () => timeline.next()!.event.id)
    }
    const start = Date.parse(`${DAY}T10:00:00Z`)
    expect(ids(start)).toEqual(ids(start))
    const later = new Set(ids(start + 86_400_000))
    expect(ids(start).filter((id) => later.has(id))).toEqual([])
  })
})
