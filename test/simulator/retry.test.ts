import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { readManifest, runSimulation } from '../../src/tools/simulator/index'
import type { Manifest, SimulationSummary } from '../../src/tools/simulator/index'
import { fastOptions, recordingListener, tempDir } from './helpers'
import type { Received, RecordingListener } from './helpers'

/**
 * A listener that fails three customers in the three ways a retry can cure, each for a while:
 * the first customer it sees gets 500s, the second has its connections dropped, the third gets
 * no answer at all (a timeout). Everyone else is answered at once.
 */
const FAIL_FOR_MS = 1500

describe('retries against a listener that fails some customers for a while', () => {
  const dir = tempDir('retry')
  let listener: RecordingListener
  let summary: SimulationSummary
  let manifest: Manifest
  const victims: { customerId: string; mode: 500 | 'reset' | 'stall'; firstAtMs: number }[] = []

  beforeAll(async () => {
    const modes = [500, 'reset', 'stall'] as const
    listener = await recordingListener((customerId, _id, nowMs) => {
      if (customerId === null) return 201
      let victim = victims.find((v) => v.customerId === customerId)
      if (!victim && victims.length < modes.length) {
        victim = { customerId, mode: modes[victims.length]!, firstAtMs: nowMs }
        victims.push(victim)
      }
      if (victim && nowMs - victim.firstAtMs < FAIL_FOR_MS) return victim.mode
      return 201
    })
    const manifestPath = join(dir.path, 'manifest.jsonl')
    summary = await runSimulation(
      fastOptions(listener.url, {
        events: 400,
        rate: 250,
        resendRate: 0,
        timeoutMs: 700,
        retryMinMs: 60,
        retryMaxMs: 300,
        manifestPath,
      }),
    )
    manifest = readManifest(manifestPath)
  })

  afterAll(async () => {
    await listener?.close()
    dir.remove()
  })

  it('eventually delivered everything', () => {
    expect(summary.fatal).toBeNull()
    expect(summary.abandoned).toBe(0)
    expect(summary.acknowledged).toBe(400)
    expect(summary.retried).toBeGreaterThanOrEqual(3)
    expect(victims.map((v) => v.mode)).toEqual([500, 'reset', 'stall'])
  })

  it('never had two requests of one customer open at once', () => {
    expect(listener.maxConcurrentPerCustomer()).toBe(1)
  })

  it('retried the failed event in place: nothing of that customer overtook it', () => {
    for (const victim of victims) {
      const requests = listener.received.filter((r) => r.customerId === victim.customerId)
      const failed = requests[0] as Received
      expect(failed.answer).toBe(victim.mode)
      // the same event again and again until it is acknowledged, and only then the next one
      const firstSuccess = requests.findIndex((r) => r.answer === 201)
      expect(firstSuccess).toBeGreaterThan(0)
      expect(requests.slice(0, firstSuccess + 1).every((r) => r.id === failed.id)).toBe(true)
      // the listener's view of this customer, repeats collapsed, is the plan's order
      const arrived = requests.map((r) => r.id).filter((id, i, all) => i === 0 || id !== all[i - 1])
      const planned = manifest.deliveries
        .filter((d) => d.customer_id === victim.customerId)
        .sort((a, b) => a.seq - b.seq)
        .map((d) => d.id)
      expect(arrived).toEqual(planned)
      // and the manifest tells the same story: attempts and the failures seen
      const record = manifest.deliveries.find((d) => d.id === failed.id)!
      // (on a loaded machine the answer to the successful attempt may itself come too late: one
      // more timeout and a retry answered duplicate, which is what the real sender would see)
      expect(record.attempts).toBeGreaterThanOrEqual(firstSuccess + 1)
      expect(record.failures).toHaveLength(record.attempts - 1)
      for (const failure of record.failures.slice(0, firstSuccess)) {
        if (victim.mode === 500) expect(failure).toBe(500)
        else if (victim.mode === 'stall') expect(failure).toBe('timeout')
        // a dropped connection shows as the socket's error code (ECONNRESET, 'socket hang up')
        else expect(typeof failure === 'string' && failure !== 'timeout').toBe(true)
      }
      expect(record.outcome).toBe('acknowledged')
      expect([200, 201]).toContain(record.status)
    }
  })

  it('kept the failing customers’ later events waiting behind the failed one', () => {
    for (const victim of victims) {
      const requests = listener.received.filter((r) => r.customerId === victim.customerId)
      const planned = manifest.deliveries.filter((d) => d.customer_id === victim.customerId)
      // the customer had more to send, and none of it arrived during the failure window
      expect(planned.length).toBeGreaterThan(1)
      const later = requests.filter((r) => r.id !== requests[0]!.id)
      expect(later.every((r) => r.atMs >= victim.firstAtMs + FAIL_FOR_MS)).toBe(true)
    }
  })

  it('did not block other customers while one was failing', () => {
    const victimIds = new Set(victims.map((v) => v.customerId))
    const first = victims[0]!
    const others = listener.received.filter(
      (r) =>
        r.customerId !== null &&
        !victimIds.has(r.customerId) &&
        r.atMs > first.firstAtMs &&
        r.atMs < first.firstAtMs + FAIL_FOR_MS &&
        r.answer === 201,
    )
    expect(others.length).toBeGreaterThan(30)
    expect(new Set(others.map((r) => r.customerId)).size).toBeGreaterThan(10)
  })
})
