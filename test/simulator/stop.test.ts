import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Simulation, readManifest } from '../../src/tools/simulator/index'
import { fastOptions, recordingListener, tempDir } from './helpers'

describe('stopping a run without an end (Ctrl-C)', () => {
  it('the first stop finishes what is queued: nothing is left unacknowledged', async () => {
    const listener = await recordingListener()
    try {
      const simulation = new Simulation(fastOptions(listener.url, { events: undefined }))
      const running = simulation.run()
      await new Promise((resolve) => setTimeout(resolve, 600))
      simulation.stop()
      const summary = await running
      expect(summary.acknowledged).toBeGreaterThan(20)
      expect(summary.abandoned).toBe(0)
      expect(summary.acknowledged).toBe(listener.received.length)
    } finally {
      await listener.close()
    }
  })

  it('against a listener that only fails, a second stop gives up and records what was abandoned', async () => {
    const listener = await recordingListener(() => 500)
    const dir = tempDir('stop')
    try {
      const manifestPath = join(dir.path, 'm.jsonl')
      const simulation = new Simulation(
        fastOptions(listener.url, { events: undefined, drainTimeoutS: 60, manifestPath }),
      )
      const running = simulation.run()
      await new Promise((resolve) => setTimeout(resolve, 500))
      simulation.stop()
      await new Promise((resolve) => setTimeout(resolve, 200))
      simulation.stop()
      const summary = await running
      expect(summary.acknowledged).toBe(0)
      expect(summary.retried).toBeGreaterThan(0)
      const manifest = readManifest(manifestPath)
      expect(manifest.deliveries.length).toBe(summary.abandoned)
      expect(manifest.deliveries.every((d) => d.outcome === 'abandoned')).toBe(true)
      // the customers' first events show their failed attempts; those behind them were never sent
      const tried = manifest.deliveries.filter((d) => d.attempts > 0)
      expect(tried.length).toBeGreaterThan(0)
      expect(tried.every((d) => d.failures.every((f) => f === 500))).toBe(true)
      const perCustomer = new Map<string, number>()
      for (const d of tried)
        perCustomer.set(d.customer_id, (perCustomer.get(d.customer_id) ?? 0) + 1)
      expect([...perCustomer.values()].every((n) => n === 1)).toBe(true)
    } finally {
      await listener.close()
      dir.remove()
    }
  })
})
