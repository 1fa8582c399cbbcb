import { describe, expect, it } from 'vitest'
import { hasWrk, runWrk, writeTemplates } from '../../bench/load/wrk'
import { readStoreStats } from '../../src/main/core/store/event-store'
import { startTestCore, TEST_TOKEN } from '../helpers/core'
import { tempDir } from '../helpers/temp-dir'

const wrk = hasWrk()
if (!wrk) console.warn('SKIPPED: the benchmark load test needs wrk (apt-get install -y wrk)')

// The ingest benchmark's figures mean something only if its load is what it says: valid events,
// each with a fresh id, spread over customers. Checked here against a real core.
describe.skipIf(!wrk)('the ingest benchmark load (wrk + post-events.lua)', () => {
  // A pool smaller than the run: the requests built beforehand and those built on the fly after
  // them must all be fresh.
  it('posts valid sample events, each with its own random id, all stored once', async () => {
    const core = await startTestCore({ processIntervalMs: 0 })
    const dir = tempDir()
    try {
      const result = await runWrk(core.eventsUrl, 1, writeTemplates(dir.path), TEST_TOKEN, {
        connections: 8,
        pool: 100,
      })
      expect(result.requests).toBeGreaterThan(200)
      expect(result.builtOnTheFly).toBeGreaterThan(0)
      expect(result.statusErrors + result.socketErrors + result.timeouts).toBe(0)
      await core.committer.idle()
      const stats = readStoreStats(core.db)
      // Answers still on their way when wrk stopped are stored but not counted by wrk.
      expect(stats.events).toBeGreaterThanOrEqual(result.requests)
      expect(stats.events).toBeLessThanOrEqual(result.requests + 8)
      expect(stats.duplicates).toBe(0)
      expect(stats.quarantined).toBe(0)
      const rows = core.db.prepare('SELECT id, name, customer_id FROM events').all() as {
        id: string
        name: string
        customer_id: string
      }[]
      for (const r of rows) {
        expect(r.id).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        )
        expect(r.customer_id).toMatch(/^C-\d{5}$/)
      }
      expect(new Set(rows.map((r) => r.name)).size).toBe(4)
      expect(new Set(rows.map((r) => r.customer_id)).size).toBeGreaterThan(50)
    } finally {
      await core.dispose()
      dir.cleanup()
    }
  })
})
