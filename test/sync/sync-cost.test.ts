import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { inQueries } from '../../src/main/core/sync/soql'
import { postEvent, startTestCore } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { closedVisits, engineFor, MONTH_LATER, startOrg, storeAll } from './helpers'

// API cost, measured by the emulated org's own request counter. Collections mode: /limits once,
// the matching queries, then one call per five requests of 200 records (a Composite call), so
// 10,000 customers with a visit each cost 20 write calls; bulk mode: a handful of calls a job.

const N = 10_000
const ids = Array.from({ length: N }, (_, i) => `C-${String(i).padStart(5, '0')}`)

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
    await storeAll(core, closedVisits(ids))
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

    await postEvent(core.eventsUrl, MONTH_LATER)
    const processed = await core.processNow()
    expect(processed.rollupsChanged).toBeGreaterThanOrEqual(N)
    const mid = org.admin.apiUsage().used
    const second = await engine.run('test')
    const secondCalls = org.admin.apiUsage().used - mid
    expect(second).toMatchObject({ accountsWritten: N, visitsWritten: 0, waiting: 1 })

    if (mode === 'collections') {
      // /limits once, matching, then 2 × 50 requests of 200 records in 20 composite calls.
      expect(firstCalls).toBe(1 + matchQueries + 20)
      // Matches are cached: the only query is for the one new (unmatched) customer; the 50
      // Account requests go in 10 composite calls.
      expect(secondCalls).toBe(10 + 1)
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
