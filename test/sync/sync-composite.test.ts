import { describe, expect, it } from 'vitest'
import { readSyncStats } from '../../src/main/core/sync/queries'
import { inQueries } from '../../src/main/core/sync/soql'
import { footfallOrgSchema } from '../../src/tools/sf-emulator'
import type { SchemaSpec, SfEmulator } from '../../src/tools/sf-emulator'
import { postEvent } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import {
  closedVisits,
  coreForTest,
  engineFor,
  MONTH_LATER,
  orgForTest,
  orgReader,
  orgWithVisits,
  sendVisit,
  storeAll,
} from './helpers'

// A run's collections requests travel five to a Composite call (one API call): what each
// request's records get back is exactly what they got as calls of their own.

const CUSTOMERS = ['C-1', 'C-2', 'C-3', 'C-4']

const setUp = (schema?: SchemaSpec) => orgWithVisits(CUSTOMERS, schema ? { schema } : {})

const alert = (c: TestCore, key: string) =>
  c.db.prepare('SELECT * FROM alerts WHERE key = ?').get(key) as
    { state: string; message: string; count: number } | undefined

const states = (c: TestCore) =>
  c.db
    .prepare(
      'SELECT kind, state, error_code AS code, count(*) AS n FROM sync_records GROUP BY 1, 2, 3 ORDER BY 1, 2, 3',
    )
    .all()

/** Calls the org counted while `run` ran. */
async function counted<T>(o: SfEmulator, run: () => Promise<T>): Promise<[T, number]> {
  const before = o.admin.apiUsage().used
  const result = await run()
  return [result, o.admin.apiUsage().used - before]
}

describe('sync through Composite calls', () => {
  it('1,001 changed Accounts: 6 requests, sent as one composite of 5 and one direct request', async () => {
    const ids = Array.from({ length: 1001 }, (_, i) => `P-${String(i).padStart(4, '0')}`)
    const org = await orgForTest()
    org.admin.seedAccounts({ customerIds: ids, unmatchedShare: 0 })
    const core = await coreForTest({ processIntervalMs: 0 })
    await storeAll(core, closedVisits(ids))
    await core.processNow()
    const engine = engineFor(core, org)

    // First run: 1,001 Accounts and 1,001 visits, 12 requests: 5 + 5 in composites, 2 more.
    const [first, firstCalls] = await counted(org, () => engine.run('test'))
    expect(first).toMatchObject({ outcome: 'ok', accountsWritten: 1001, visitsWritten: 1001 })
    const matching = inQueries(
      'SELECT Id, In_Store_Customer_Id__c FROM Account WHERE In_Store_Customer_Id__c',
      ids,
    ).length
    expect(firstCalls).toBe(1 + matching + 3) // /limits, matching, three composite calls
    expect(first.apiCalls).toBe(firstCalls)

    // Only the rollups change: 1,001 Account updates and one query for the new customer.
    await postEvent(core.eventsUrl, MONTH_LATER)
    await core.processNow()
    const [second, secondCalls] = await counted(org, () => engine.run('test'))
    expect(second).toMatchObject({ accountsWritten: 1001, visitsWritten: 0, failed: 0 })
    expect(secondCalls).toBe(1 + 2)
    const conn = await orgReader(org)
    const stale = await conn.query(
      "SELECT COUNT() FROM Account WHERE In_Store_Customer_Id__c LIKE 'P-%' AND Footfall_Visits_30d__c != 0",
    )
    expect(stale.totalSize).toBe(0) // every one of the 1,001 was written
  }, 60_000)

  it('a lone request goes directly: the same one call, no composite', async () => {
    const org = await orgForTest()
    org.admin.seedAccounts({ customerIds: CUSTOMERS, unmatchedShare: 0 })
    const core = await coreForTest({ processIntervalMs: 0 })
    await storeAll(core, closedVisits(CUSTOMERS))
    await core.processNow()
    const engine = engineFor(core, org)
    await engine.run('test')
    await postEvent(core.eventsUrl, MONTH_LATER) // the four rollups change, nothing else of theirs
    await core.processNow()
    // A composite call is a POST, the direct update a PATCH: the POST fault stays unused.
    org.admin.addFailure({ error: 'SERVER_UNAVAILABLE', count: 1, method: 'POST' })
    const [report, calls] = await counted(org, () => engine.run('test'))
    expect(report).toMatchObject({ outcome: 'ok', accountsWritten: 4, visitsWritten: 0 })
    expect(calls).toBe(2) // matching the new (unmatched) customer, one update of four Accounts
    expect(org.admin.faults().failures).toEqual([
      { error: 'SERVER_UNAVAILABLE', count: 1, method: 'POST' },
    ])
  })

  it('a request failing as a whole inside a composite: its records take its error, the others are written', async () => {
    // An org whose admin missed one Account field: the Account update fails whole (INVALID_FIELD).
    const schema = footfallOrgSchema()
    const account = schema.objects.Account!
    account.fields = account.fields.filter((f) => f.name !== 'Footfall_Top_Brands__c')
    const { core, org } = await setUp(schema)
    const engine = engineFor(core, org)
    const [report, calls] = await counted(org, () => engine.run('test'))
    expect(calls).toBe(1 + 1 + 1) // /limits, matching, one composite for both kinds
    expect(report).toMatchObject({
      outcome: 'partial',
      accountsWritten: 0,
      visitsWritten: 4,
      failed: 4,
    })
    expect(states(core)).toEqual([
      { kind: 'account', state: 'failed', code: 'INVALID_FIELD', n: 4 },
      { kind: 'visit', state: 'synced', code: null, n: 4 },
    ])
    const a = alert(core, 'sync:failed:account:INVALID_FIELD')
    expect(a).toMatchObject({ state: 'open', count: 4 })
    expect(a?.message).toContain('Footfall_Top_Brands__c')
    expect(a?.message).toContain('add the field')
  })

  it('per-record errors inside a composite: a lock is retried, a validation rule is an alert', async () => {
    const { core, org } = await setUp()
    // The first write request of the call (the Accounts) meets a row lock on every record.
    org.admin.addFailure({ error: 'UNABLE_TO_LOCK_ROW', count: 1, path: '/composite/sobjects' })
    org.admin.addValidationRule({
      object: 'Footfall_Visit__c',
      field: 'Visit_Key__c',
      pattern: '^C-3:',
      message: 'Visits of C-3 are on hold',
      errorField: 'Visit_Key__c',
    })
    const engine = engineFor(core, org)
    const [first, calls] = await counted(org, () => engine.run('test'))
    expect(calls).toBe(3)
    expect(first).toMatchObject({
      outcome: 'partial',
      accountsWritten: 0,
      visitsWritten: 3,
      failed: 1,
    })
    expect(states(core)).toEqual([
      { kind: 'account', state: 'retrying', code: 'UNABLE_TO_LOCK_ROW', n: 4 },
      { kind: 'visit', state: 'failed', code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', n: 1 },
      { kind: 'visit', state: 'synced', code: null, n: 3 },
    ])
    expect(alert(core, 'sync:failed:visit:FIELD_CUSTOM_VALIDATION_EXCEPTION')?.message).toContain(
      'Visits of C-3 are on hold',
    )
    await new Promise((r) => setTimeout(r, 20)) // past the (test-sized) backoff
    const second = await engine.run('test')
    expect(second).toMatchObject({ accountsWritten: 4, visitsWritten: 0 })
    expect(readSyncStats(core.db)).toMatchObject({ accounts_synced: 4, sync_pending: 0 })
  })

  it('a session expiring on a composite call: jsforce logs in again, the call is replayed once', async () => {
    const { core, org } = await setUp()
    const engine = engineFor(core, org)
    await engine.run('test')
    await sendVisit(core, 'C-1', { day: 22 })
    await sendVisit(core, 'C-2', { day: 22 })
    await core.processNow()
    // Matches are cached and the usage known: the composite is the run's first call.
    expect(org.admin.expireSessions()).toBeGreaterThan(0)
    const [report, calls] = await counted(org, () => engine.run('test'))
    expect(report).toMatchObject({ outcome: 'ok', accountsWritten: 2, visitsWritten: 2 })
    expect(calls).toBe(1) // the refused attempt is not counted, the replay is
    expect(report.apiCalls).toBe(1)
    const conn = await orgReader(org)
    const visits = await conn.query<{ Visit_Key__c: string }>(
      'SELECT Visit_Key__c FROM Footfall_Visit__c ORDER BY Visit_Key__c',
    )
    expect(visits.records.map((v) => v.Visit_Key__c)).toEqual([
      'C-1:C-1-d21-1',
      'C-1:C-1-d22-1',
      'C-2:C-2-d21-1',
      'C-2:C-2-d22-1',
      'C-3:C-3-d21-1',
      'C-4:C-4-d21-1',
    ])
  })

  it('an outage on a composite call: every record in it is retried, then written once', async () => {
    const { core, org } = await setUp()
    org.admin.addFailure({ error: 'SERVER_UNAVAILABLE', count: 1, method: 'POST' })
    const engine = engineFor(core, org)
    const first = await engine.run('test')
    expect(first).toMatchObject({ accountsWritten: 0, visitsWritten: 0, failed: 0 })
    expect(states(core)).toEqual([
      { kind: 'account', state: 'retrying', code: 'SERVER_UNAVAILABLE', n: 4 },
      { kind: 'visit', state: 'retrying', code: 'SERVER_UNAVAILABLE', n: 4 },
    ])
    await new Promise((r) => setTimeout(r, 20))
    expect(await engine.run('test')).toMatchObject({ accountsWritten: 4, visitsWritten: 4 })
    expect(readSyncStats(core.db)).toMatchObject({ sync_pending: 0, sync_failed: 0 })
  })
})
