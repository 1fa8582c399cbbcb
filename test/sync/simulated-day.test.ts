import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  accountFields,
  salesforceVisitKey,
  visitFields,
} from '../../src/main/core/sync/field-mapping'
import type { RollupRecordSource, VisitRecordSource } from '../../src/main/core/sync/field-mapping'
import { readSyncStats } from '../../src/main/core/sync/queries'
import { customerIds, eventPayload, generateDay } from '../../src/tools/simulator'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { startTestCore } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { received } from '../helpers/samples'
import { engineFor, orgReader, queryAll, startOrg } from './helpers'

// A simulated day, processed and synced in several runs while it arrives: afterwards every
// matched Account's Footfall fields are exactly its rollup, and every visit record exists once
// with exactly its visit's values. Unmatched customers wait, visibly.

const SEED = 11
const CUSTOMERS = 400

let org: SfEmulator
let core: TestCore
let unmatched: string[]
beforeAll(async () => {
  org = await startOrg()
  unmatched = org.admin.seedAccounts({
    customerIds: customerIds(SEED, CUSTOMERS),
    unmatchedShare: 0.1,
  }).unmatched
  core = await startTestCore({ processIntervalMs: 0 })
}, 60_000)
afterAll(async () => {
  await core.dispose()
  await org.close()
})

const SYNC_FIELDS = [
  'Footfall_Visit_Count__c',
  'Footfall_Visits_30d__c',
  'Footfall_First_Visit__c',
  'Footfall_Last_Visit__c',
  'Footfall_Last_Store__c',
  'Footfall_Avg_TIS_Minutes__c',
  'Footfall_Total_Spend__c',
  'Footfall_Purchase_Visits__c',
  'Footfall_Top_Brands__c',
]
const VISIT_FIELDS = [
  'Visit_Key__c',
  'Account__c',
  'Store_Id__c',
  'Entered_At__c',
  'Exited_At__c',
  'Time_In_Store_Minutes__c',
  'Spend__c',
  'Brands__c',
  'Items__c',
  'Status__c',
]

/** Salesforce gives DateTimes back as `…+0000`; the mapping writes ISO with `Z`. */
const sameInstant = (v: unknown): unknown =>
  typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? new Date(v).toISOString() : v

describe('a simulated day synced while it arrives', () => {
  it('leaves Salesforce equal to the rollups and visits, each visit once', async () => {
    const events = generateDay({ seed: SEED, stores: 5, customers: CUSTOMERS, date: '2026-11-21' })
    expect(events.length).toBeGreaterThan(1000)
    // Past 60 records of a kind a run uses Bulk API 2.0: both write paths meet the same checks.
    const engine = engineFor(core, org, { bulkThreshold: 60, bulkPollIntervalMs: 50 })
    // Four slices: store, process, sync after each, as the scheduler would through the day.
    const slice = Math.ceil(events.length / 4)
    const modes = new Set<string>()
    for (let i = 0; i < events.length; i += slice) {
      const ops = events
        .slice(i, i + slice)
        .map((e) => received(eventPayload(e, { withStore: true, elapsedForm: 'seconds' }), null))
      await Promise.all(ops.map((op) => core.committer.submit(op)))
      await core.processNow()
      const run = await engine.run('test')
      expect(run.failed).toBe(0)
      modes.add(run.mode ?? '')
    }

    const conn = await orgReader(org)
    const accounts = await queryAll(
      conn,
      `SELECT Id, In_Store_Customer_Id__c, ${SYNC_FIELDS.join(', ')} FROM Account`,
    )
    const accountIdOf = new Map(
      accounts.map((a) => [a.In_Store_Customer_Id__c as string, a.Id as string]),
    )
    const rollups = core.db.prepare('SELECT * FROM customer_rollups').all() as RollupRecordSource[]
    const unmatchedSet = new Set(unmatched)
    let checked = 0
    for (const rollup of rollups) {
      const account = accounts.find((a) => a.In_Store_Customer_Id__c === rollup.customer_id)
      if (unmatchedSet.has(rollup.customer_id)) {
        expect(account).toBeUndefined()
        continue
      }
      const expected = accountFields(rollup, 0)
      for (const f of SYNC_FIELDS)
        expect([rollup.customer_id, f, sameInstant(account?.[f])]).toEqual([
          rollup.customer_id,
          f,
          expected[f],
        ])
      checked += 1
    }
    expect(checked).toBeGreaterThan(100)
    expect([...modes].join(',')).toMatch(/bulk/)

    const records = await queryAll(conn, `SELECT ${VISIT_FIELDS.join(', ')} FROM Footfall_Visit__c`)
    const visits = core.db.prepare('SELECT * FROM visits').all() as VisitRecordSource[]
    const matchedVisits = visits.filter((v) => !unmatchedSet.has(v.customer_id))
    expect(records).toHaveLength(matchedVisits.length) // each visit once, none of the unmatched
    const byKey = new Map(records.map((r) => [r.Visit_Key__c as string, r]))
    for (const visit of matchedVisits) {
      const expected = visitFields(visit, accountIdOf.get(visit.customer_id) ?? '')
      const record = byKey.get(salesforceVisitKey(visit.visit_key))
      for (const f of VISIT_FIELDS)
        expect([visit.visit_key, f, sameInstant(record?.[f])]).toEqual([
          visit.visit_key,
          f,
          expected[f],
        ])
    }
    const customersUnmatched = new Set(
      rollups.map((r) => r.customer_id).filter((c) => unmatchedSet.has(c)),
    )
    expect(readSyncStats(core.db)).toMatchObject({
      sync_failed: 0,
      unmatched_customers: customersUnmatched.size,
    })
    const alert = core.db
      .prepare("SELECT message, count FROM alerts WHERE key = 'sync:unmatched'")
      .get() as { message: string; count: number }
    expect(alert.count).toBe(customersUnmatched.size)
  }, 120_000)
})
