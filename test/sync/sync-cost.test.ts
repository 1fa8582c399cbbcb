import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { inQueries } from '../../src/main/core/sync/soql'
import { classifyBody } from '../../src/main/core/ingest/classify-body'
import { postEvent, startTestCore } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { engineFor, startOrg } from './helpers'

// API cost, measured by the emulated org's own request counter: syncing 10,000 changed customers
// costs at most ⌈10,000 / 200⌉ + the matching queries in collections mode, and a handful of
// calls in bulk mode.

const N = 10_000
const ids = Array.from({ length: N }, (_, i) => `C-${String(i).padStart(5, '0')}`)

/**
 * Stores events through the listener's own validation and group committer (the HTTP hop adds
 * nothing to a test of sync cost, and 20,000 requests would dominate its time).
 */
async function storeAll(core: TestCore, events: object[]): Promise<void> {
  const ops = events.map((e) =>
    classifyBody(Buffer.from(JSON.stringify(e)), 'application/json', Date.now()),
  )
  const outcomes = await Promise.all(ops.map((op) => core.committer.submit(op)))
  if (outcomes.some((o) => o !== 'stored')) throw new Error('an event was not stored')
}

/** One closed visit per customer on day one, so that only rollups change when time moves on. */
function visits(): object[] {
  return ids.flatMap((c) => [
    {
      id: `${c}-in`,
      name: 'customer.entered.store',
      timestamp: '2026-10-01T10:00:00Z',
      customer_id: c,
      store_id: 'S-1',
    },
    {
      id: `${c}-out`,
      name: 'customer.exited.store',
      timestamp: '2026-10-01T10:20:00Z',
      customer_id: c,
      store_id: 'S-1',
      time_elapsed: 1200,
    },
  ])
}

/** An event 31 days later: every customer's visits-in-30-days drops to 0, nothing else changes. */
const LATER = {
  id: 'later',
  name: 'customer.entered.store',
  timestamp: '2026-11-01T10:00:00Z',
  customer_id: 'Z-later',
  store_id: 'S-1',
}

describe.each([
  ['collections', { bulkThreshold: Number.MAX_SAFE_INTEGER }],
  ['bulk', {}],
] as const)('syncing %s', (mode, config) => {
  let org: SfEmulator
  let core: TestCore
  beforeAll(async () => {
    org = await startOrg()
    org.admin.seedAccounts({ customerIds: ids, unmatchedShare: 0 })
    core = await startTestCore({ processIntervalMs: 0 })
    await storeAll(core, visits())
    await core.processNow()
  }, 120_000)
  afterAll(async () => {
    await core.dispose()
    await org.close()
  })

  it(`writes ${N} customers and their visits within the call budget, then only the changed rollups`, async () => {
    const engine = engineFor(core, org, config)
    const matchQueries = inQueries(
      'SELECT Id, In_Store_Customer_Id__c FROM Account WHERE In_Store_Customer_Id__c',
      ids,
    ).length
    const before = org.admin.apiUsage().used
    const first = await engine.run('test')
    const firstCalls = org.admin.apiUsage().used - before
    expect(first).toMatchObject({ accountsWritten: N, visitsWritten: N, failed: 0 })
    expect(first.mode).toBe(mode)
    expect(first.apiCalls).toBe(firstCalls) // the run's own count agrees with the org's

    await postEvent(core.eventsUrl, LATER)
    const processed = await core.processNow()
    expect(processed.rollupsChanged).toBeGreaterThanOrEqual(N)
    const mid = org.admin.apiUsage().used
    const second = await engine.run('test')
    const secondCalls = org.admin.apiUsage().used - mid
    expect(second).toMatchObject({ accountsWritten: N, visitsWritten: 0, waiting: 1 })

    if (mode === 'collections') {
      // /limits once, matching, then 200 records a call for each kind.
      expect(firstCalls).toBeLessThanOrEqual(1 + matchQueries + 2 * Math.ceil(N / 200))
      // Matches are cached: the only query is for the one new (unmatched) customer.
      expect(secondCalls).toBeLessThanOrEqual(Math.ceil(N / 200) + 1)
    } else {
      // One job per kind: create, upload, close, a few polls, three result lists.
      expect(firstCalls).toBeLessThanOrEqual(1 + matchQueries + 2 * 12)
      expect(secondCalls).toBeLessThanOrEqual(12 + 1)
    }
    process.stdout.write(
      `sync cost (${mode}): first run ${firstCalls} calls (${matchQueries} matching queries), rollups-only run ${secondCalls} calls for ${N} customers\n`,
    )
  }, 120_000)
})
