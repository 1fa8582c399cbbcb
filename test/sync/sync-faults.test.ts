import { describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { readSyncStats } from '../../src/main/core/sync/queries'
import { checkSalesforceSetup } from '../../src/main/core/sync/sf-check'
import { runFootfallToEnd } from '../helpers/serve-process'
import type { TestCore } from '../helpers/core'
import { engineFor, orgForTest, orgReader, orgWithVisits, sendVisit, settingsFor } from './helpers'

// Each fault of SALESFORCE.md ends as the spec says: retried and written, or an alert with the
// right message; nothing written twice, nothing lost. Real jsforce, the emulator over HTTP.

const CUSTOMERS = ['C-1', 'C-2', 'C-3', 'C-4']

const setUp = (schema: 'footfall' | 'base' = 'footfall') => orgWithVisits(CUSTOMERS, { schema })

const alert = (c: TestCore, key: string) =>
  c.db.prepare('SELECT * FROM alerts WHERE key = ?').get(key) as
    { state: string; message: string; count: number } | undefined

async function orgState(o: SfEmulator) {
  const conn = await orgReader(o)
  const accounts = await conn.query<{
    In_Store_Customer_Id__c: string
    Footfall_Visit_Count__c: number | null
  }>(
    'SELECT In_Store_Customer_Id__c, Footfall_Visit_Count__c FROM Account ORDER BY In_Store_Customer_Id__c',
  )
  const visits = await conn.query<{ Visit_Key__c: string }>(
    'SELECT Visit_Key__c FROM Footfall_Visit__c ORDER BY Visit_Key__c',
  )
  return {
    synced: accounts.records
      .filter((a) => a.Footfall_Visit_Count__c === 1)
      .map((a) => a.In_Store_Customer_Id__c),
    visits: visits.records.map((v) => v.Visit_Key__c),
  }
}

const ALL_SYNCED = {
  synced: CUSTOMERS,
  visits: CUSTOMERS.map((c) => `${c}:${c}-d21-1`),
}

describe('sync faults', () => {
  it('UNABLE_TO_LOCK_ROW on some records: those are retried with backoff and written once', async () => {
    const { core, org } = await setUp()
    org.admin.addFailure({
      error: 'UNABLE_TO_LOCK_ROW',
      count: 2,
      path: '/composite/sobjects',
      recordPercent: 50,
    })
    const engine = engineFor(core, org)
    const first = await engine.run('test')
    expect(first.accountsWritten + first.visitsWritten).toBeLessThan(8)
    expect(readSyncStats(core.db).sync_pending).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 20)) // past the (test-sized) backoff
    const second = await engine.run('test')
    expect(first.accountsWritten + second.accountsWritten).toBe(4)
    expect(first.visitsWritten + second.visitsWritten).toBe(4)
    expect(await orgState(org)).toEqual(ALL_SYNCED)
    expect(readSyncStats(core.db)).toMatchObject({ sync_pending: 0, sync_failed: 0 })
  })

  it('a 503 burst: the engine retries the POST/PATCH itself until written', async () => {
    const { core, org } = await setUp()
    org.admin.addFailure({ error: 'SERVER_UNAVAILABLE', count: 3, path: '/composite/sobjects' })
    const engine = engineFor(core, org)
    const runs = [await engine.run('test')]
    expect(runs[0]?.accountsWritten).toBe(0) // the first request met the burst
    while (readSyncStats(core.db).sync_pending > 0 && runs.length < 6) {
      await new Promise((r) => setTimeout(r, 10)) // past the (test-sized) backoff
      runs.push(await engine.run('test'))
    }
    expect(runs.reduce((n, r) => n + r.accountsWritten, 0)).toBe(4)
    expect(await orgState(org)).toEqual(ALL_SYNCED)
    expect(readSyncStats(core.db)).toMatchObject({ sync_pending: 0, sync_failed: 0 })
  })

  it('an expired session: jsforce logs in again and the run goes on', async () => {
    const { core, org } = await setUp()
    const engine = engineFor(core, org)
    await engine.run('test') // logs in
    await sendVisit(core, 'C-1', { day: 22 })
    await core.processNow()
    expect(org.admin.expireSessions()).toBeGreaterThan(0)
    const report = await engine.run('test')
    expect(report).toMatchObject({ outcome: 'ok', accountsWritten: 1, visitsWritten: 1 })
  })

  it('the daily allowance nearly spent: pauses before the reserve, says when it resumes, resumes', async () => {
    const { core, org } = await setUp()
    org.admin.setApiUsage({ max: 1000, add: 850 }) // past 80%: the reserve is for other integrations
    const engine = engineFor(core, org)
    const paused = await engine.run('test')
    expect(paused.outcome).toBe('paused')
    expect(paused.accountsWritten).toBe(0)
    expect(alert(core, 'sync:budget')).toMatchObject({ state: 'open' })
    expect(alert(core, 'sync:budget')?.message).toContain(
      'resumes by itself as the rolling 24-hour window frees calls',
    )
    expect((await orgState(org)).synced).toEqual([])

    org.admin.setApiUsage({ reset: true })
    const resumed = await engine.run('test')
    expect(resumed).toMatchObject({ outcome: 'ok', accountsWritten: 4, visitsWritten: 4 })
    expect(alert(core, 'sync:budget')?.state).toBe('resolved')
  })

  it('the daily limit reached mid-run (other integrations spent it): pauses, loses nothing', async () => {
    const { core, org } = await setUp()
    const engine = engineFor(core, org, { reserveShare: 0 })
    org.admin.addFailure({ error: 'REQUEST_LIMIT_EXCEEDED', count: 1, path: '/composite/sobjects' })
    const report = await engine.run('test')
    expect(report.outcome).toBe('paused')
    expect(report.message).toContain('daily API limit')
    const next = await engine.run('test')
    expect(next.outcome).toBe('ok')
    expect(await orgState(org)).toEqual(ALL_SYNCED)
  })

  it('a validation rule rejects a record: an alert with its message and field; fixed, it is retried', async () => {
    const { core, org } = await setUp()
    org.admin.addValidationRule({
      object: 'Footfall_Visit__c',
      field: 'Visit_Key__c',
      pattern: '^C-2:',
      message: 'Visits of C-2 are on hold',
      errorField: 'Visit_Key__c',
    })
    const engine = engineFor(core, org)
    const report = await engine.run('test')
    expect(report).toMatchObject({
      outcome: 'partial',
      accountsWritten: 4,
      visitsWritten: 3,
      failed: 1,
    })
    const a = alert(core, 'sync:failed:visit:FIELD_CUSTOM_VALIDATION_EXCEPTION')
    expect(a?.state).toBe('open')
    expect(a?.message).toContain('Visits of C-2 are on hold')
    expect(a?.message).toContain('field Visit_Key__c')
    expect(a?.message).toContain('C-2:C-2-d21-1')
    expect(a?.message).toContain('validation rule')

    // Not retried by itself: a person must act. Once they have, a retry writes it.
    expect((await engine.run('test')).visitsWritten).toBe(0)
    org.admin.clearFaults()
    // The retry comes from another process, as a person would run it beside `serve`.
    const retry = await runFootfallToEnd([
      'sync-retry',
      '--data-dir',
      core.dataDir,
      '--error-code',
      'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    ])
    expect(retry.stdout).toContain('1 record(s) due again')
    expect((await engine.run('test')).visitsWritten).toBe(1)
    expect(await orgState(org)).toEqual(ALL_SYNCED)
    expect(alert(core, 'sync:failed:visit:FIELD_CUSTOM_VALIDATION_EXCEPTION')?.state).toBe(
      'resolved',
    )
  })

  it('an org without the Footfall fields: sf-check lists them, and sync alerts instead of crashing', async () => {
    const { core, org } = await setUp('base')
    const check = await checkSalesforceSetup(settingsFor(org))
    expect(check.ok).toBe(false)
    expect(check.login.ok).toBe(true)
    expect(check.missing).toContain(
      'add Account.Footfall_Visit_Count__c: Number(9, 0) (label "Footfall Visit Count")',
    )
    expect(
      check.missing.some((m) => m.startsWith('create the custom object Footfall_Visit__c')),
    ).toBe(true)

    const engine = engineFor(core, org)
    const report = await engine.run('test')
    expect(report.outcome).toBe('partial')
    expect(report.failed).toBe(8)
    const accountAlert = core.db
      .prepare("SELECT * FROM alerts WHERE key LIKE 'sync:failed:account:%'")
      .get() as { message: string }
    expect(accountAlert.message).toContain('add the field')
    expect(readSyncStats(core.db).sync_failed).toBe(8)
  })

  it('sf-check on a ready org says so, and a refused login says what to check', async () => {
    const org = await orgForTest()
    expect(await checkSalesforceSetup(settingsFor(org))).toMatchObject({ ok: true, missing: [] })
    const bad = await checkSalesforceSetup({ ...settingsFor(org), password: 'wrong' })
    expect(bad.login.ok).toBe(false)
    expect(bad.login.message).toContain('invalid_grant')
    expect(bad.login.message).toContain('--sf-password')
  })
})
