import { beforeAll, describe, expect, it } from 'vitest'
import { customerIds, runSimulation } from '../../src/tools/simulator/index'
import { fastOptions, recordingListener } from './helpers'
import type { RecordingListener } from './helpers'

/** What a run sent, per customer in order: arrival order across customers is up to the network. */
async function sentBy(
  seed: number,
): Promise<{ perCustomer: Map<string, string[]>; ids: Set<string>; bodies: string[] }> {
  const listener: RecordingListener = await recordingListener()
  try {
    const summary = await runSimulation(
      fastOptions(listener.url, {
        seed,
        events: 250,
        resendRate: 0.1,
        badRate: 0.05,
        missingStoreRate: 0.05,
        elapsedFormat: 'mixed',
      }),
    )
    expect(summary.abandoned).toBe(0)
    const perCustomer = new Map<string, string[]>()
    const ids = new Set<string>()
    for (const r of listener.received) {
      if (r.id !== null) ids.add(r.id)
      const key = r.customerId ?? '(malformed)'
      const list = perCustomer.get(key) ?? []
      list.push(r.body)
      perCustomer.set(key, list)
    }
    return { perCustomer, ids, bodies: listener.received.map((r) => r.body).sort() }
  } finally {
    await listener.close()
  }
}

describe('determinism', () => {
  let a: Awaited<ReturnType<typeof sentBy>>
  let b: Awaited<ReturnType<typeof sentBy>>
  let c: Awaited<ReturnType<typeof sentBy>>

  beforeAll(async () => {
    a = await sentBy(7)
    b = await sentBy(7)
    c = await sentBy(8)
  })

  it('the same seed sends the same requests, byte for byte, in the same order per customer', () => {
    expect(a.ids.size).toBeGreaterThan(250)
    expect(b.ids).toEqual(a.ids)
    expect(b.bodies).toEqual(a.bodies)
    // malformed bodies are not all attributable to a customer, so compare customers' lanes only
    const lanes = (m: Map<string, string[]>): Map<string, string[]> =>
      new Map([...m].filter(([k]) => k !== '(malformed)'))
    expect(lanes(b.perCustomer)).toEqual(lanes(a.perCustomer))
  })

  it('another seed sends other ids', () => {
    const shared = [...c.ids].filter((id) => a.ids.has(id))
    expect(shared).toEqual([])
  })

  it('exposes the customer ids a seed will use, stable as the list grows', () => {
    const few = customerIds(7, 150)
    expect(customerIds(7, 150)).toEqual(few)
    expect(new Set(few).size).toBe(150)
    expect(few.every((id) => /^C-\d{6}$/.test(id))).toBe(true)
    expect(customerIds(7, 400).slice(0, 150)).toEqual(few)
    expect(customerIds(8, 150)).not.toEqual(few)
    // every customer who sent something is one of them
    for (const id of a.perCustomer.keys()) {
      if (id !== '(malformed)') expect(few).toContain(id)
    }
  })
})
