import { describe, expect, it } from 'vitest'
import {
  apiBudget,
  customerSyncState,
  readSyncStats,
  recentSyncRuns,
} from '../../src/main/core/sync/queries'
import { markEverythingForResync } from '../../src/main/core/sync/sync-service'
import { coreForTest, engineFor, orgForTest, orgReader, sendVisit } from './helpers'

type Account = Record<string, unknown> & { In_Store_Customer_Id__c: string }

describe('sync engine against the emulated org (real jsforce over HTTP)', () => {
  it('writes each customer rollup to its Account and each visit once; unmatched customers wait', async () => {
    const org = await orgForTest()
    org.admin.seedAccounts({ customerIds: ['C-1', 'C-2'], unmatchedShare: 0 })
    const core = await coreForTest({ processIntervalMs: 0 })
    await sendVisit(core, 'C-1', { day: 20 })
    await sendVisit(core, 'C-1', { day: 21, spend: 10 })
    await sendVisit(core, 'C-2')
    await sendVisit(core, 'C-3') // no Account
    await core.processNow()

    const engine = engineFor(core, org)
    const report = await engine.run('test')
    expect(report).toMatchObject({
      outcome: 'ok',
      accountsWritten: 2,
      visitsWritten: 3,
      failed: 0,
      waiting: 1,
    })

    const conn = await orgReader(org)
    const accounts = (
      await conn.query<Account>(
        'SELECT In_Store_Customer_Id__c, Footfall_Visit_Count__c, Footfall_Total_Spend__c, Footfall_Top_Brands__c, Footfall_Avg_TIS_Minutes__c, Footfall_Last_Store__c FROM Account ORDER BY In_Store_Customer_Id__c',
      )
    ).records
    expect(
      accounts.map((a) => [
        a.In_Store_Customer_Id__c,
        a.Footfall_Visit_Count__c,
        a.Footfall_Total_Spend__c,
      ]),
    ).toEqual([
      ['C-1', 2, 139.99],
      ['C-2', 1, 129.99],
    ])
    expect(accounts[0]).toMatchObject({
      Footfall_Top_Brands__c: 'Northpeak',
      Footfall_Avg_TIS_Minutes__c: 21.31,
      Footfall_Last_Store__c: 'S-017',
    })
    const visits = (
      await conn.query<Record<string, unknown>>(
        'SELECT Visit_Key__c, Account__r.In_Store_Customer_Id__c, Spend__c, Status__c FROM Footfall_Visit__c ORDER BY Visit_Key__c',
      )
    ).records
    expect(visits.map((v) => v.Visit_Key__c)).toEqual([
      'C-1:C-1-d20-1',
      'C-1:C-1-d21-1',
      'C-2:C-2-d21-1',
    ])
    expect(readSyncStats(core.db)).toMatchObject({
      accounts_synced: 2,
      unmatched_customers: 1,
      sync_failed: 0,
    })

    // What the console reads: the runs, the budget, each customer's records.
    const runs = recentSyncRuns(core.db)
    expect(runs[0]).toMatchObject({
      outcome: 'ok',
      accountsWritten: 2,
      visitsWritten: 3,
      recordsWaiting: 1,
    })
    expect(runs[0]?.apiCalls).toBe(report.apiCalls)
    expect(apiBudget(core.db)).toMatchObject({
      callsLastHour: report.apiCalls,
      forecastPerDay: report.apiCalls * 24,
    })
    const c1 = customerSyncState(core.db, 'C-1')
    expect(c1.accountId).toMatch(/^001/)
    expect(c1.records.map((r) => [r.kind, r.state])).toEqual([
      ['account', 'synced'],
      ['visit', 'synced'],
      ['visit', 'synced'],
    ])
    expect(customerSyncState(core.db, 'C-3')).toMatchObject({
      accountId: null,
      records: [{ state: 'unmatched' }, { state: 'unmatched' }],
    })

    // Nothing changed: the next run writes nothing (and spends no write call).
    const idle = await engine.run('test')
    expect(idle).toMatchObject({ outcome: 'ok', accountsWritten: 0, visitsWritten: 0 })

    // The missing Account appears: the waiting customer is written without any new event.
    org.admin.seedAccounts({ customerIds: ['C-3'], unmatchedShare: 0 })
    const later = await engine.run('test')
    expect(later).toMatchObject({ accountsWritten: 1, visitsWritten: 1, waiting: 0 })
    expect(readSyncStats(core.db)).toMatchObject({ accounts_synced: 3, unmatched_customers: 0 })

    // Resync everything (a backfill): every record is rewritten, and still exists once.
    markEverythingForResync(core.db)
    const backfill = await engine.run('backfill')
    expect(backfill).toMatchObject({ accountsWritten: 3, visitsWritten: 4, failed: 0 })
    const after = await conn.query<{ Visit_Key__c: string }>(
      'SELECT Visit_Key__c FROM Footfall_Visit__c',
    )
    expect(after.records.map((v) => v.Visit_Key__c).sort()).toEqual([
      'C-1:C-1-d20-1',
      'C-1:C-1-d21-1',
      'C-2:C-2-d21-1',
      'C-3:C-3-d21-1',
    ])
  })
})
