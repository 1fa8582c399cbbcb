import type { Connection } from 'jsforce'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { loggedIn, rejection, startOrg } from './helpers'

let org: SfEmulator
let conn: Connection

beforeAll(async () => {
  org = await startOrg()
  org.admin.seedAccounts({ customerIds: ['B1', 'B2', 'B3'], unmatchedShare: 0 })
  conn = await loggedIn(org)
})
afterAll(async () => {
  await org.close()
})

/** Result rows as jsforce parses the CSV: every column a string. */
const rows = (results: unknown): Record<string, string>[] => results as Record<string, string>[]

describe('Bulk API 2.0 ingest through jsforce', () => {
  it('loadAndWaitForResults: upsert with successes and failures, results as CSV rows', async () => {
    const input = [
      {
        In_Store_Customer_Id__c: 'B1',
        Name: 'Bee One',
        Footfall_Visit_Count__c: 5,
        Footfall_Top_Brands__c: 'Acme;Globex',
      },
      {
        In_Store_Customer_Id__c: 'B2',
        Name: 'Bee Two',
        Footfall_Visit_Count__c: 'lots',
        Footfall_Top_Brands__c: null,
      },
      {
        In_Store_Customer_Id__c: 'NEW',
        Name: '',
        Footfall_Visit_Count__c: 1,
        Footfall_Top_Brands__c: 'x',
      },
      {
        In_Store_Customer_Id__c: 'NEW2',
        Name: 'Created',
        Footfall_Visit_Count__c: 2,
        Footfall_Top_Brands__c: 'y'.repeat(256),
      },
      {
        In_Store_Customer_Id__c: 'NEW3',
        Name: 'Created 3',
        Footfall_Visit_Count__c: 3,
        Footfall_Top_Brands__c: '',
      },
    ]
    const res = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'In_Store_Customer_Id__c',
      input,
      pollInterval: 100,
    })
    const ok = rows(res.successfulResults)
    const failed = rows(res.failedResults)
    expect(ok.map((r) => [r.In_Store_Customer_Id__c, r.sf__Created])).toEqual([
      ['B1', 'false'],
      ['NEW3', 'true'],
    ])
    expect(ok[0]!.sf__Id).toMatch(/^001\w{15}$/)
    expect(ok[0]!.Footfall_Top_Brands__c).toBe('Acme;Globex')
    expect(failed.map((r) => [r.In_Store_Customer_Id__c, r.sf__Error])).toEqual([
      [
        'B2',
        'INVALID_TYPE_ON_FIELD_IN_RECORD:Footfall Visit Count: value not of required type: lots:Footfall_Visit_Count__c --',
      ],
      ['NEW', 'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --'],
      [
        'NEW2',
        `STRING_TOO_LONG:Footfall Top Brands: data value too large: ${'y'.repeat(256)} (max length=255):Footfall_Top_Brands__c --`,
      ],
    ])
    expect(res.unprocessedRecords).toEqual([])
    const saved = await conn.query<{ Name: string; Footfall_Visit_Count__c: number }>(
      "SELECT Name, Footfall_Visit_Count__c FROM Account WHERE In_Store_Customer_Id__c IN ('B1','B2','NEW','NEW3') ORDER BY Name",
    )
    expect(saved.records.map((r) => [r.Name, r.Footfall_Visit_Count__c])).toEqual([
      ['Bee One', 5],
      ['Created 3', 3],
      [expect.any(String), null],
    ])
  })

  it('a job over several chunks reports its progress and numbers', async () => {
    const job = conn.bulk2.createJob({ object: 'Account', operation: 'insert' })
    await job.open()
    await job.uploadData(
      Array.from({ length: 2500 }, (_, i) => ({
        Name: `Bulk ${i}`,
        In_Store_Customer_Id__c: `BULK${i}`,
      })),
    )
    await job.close()
    await job.poll(100, 20_000)
    const info = await job.check()
    expect(info).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 2500,
      numberRecordsFailed: 0,
      object: 'Account',
      operation: 'insert',
    })
    expect(info.id).toMatch(/^750\w{15}$/)
    expect(
      (await conn.query("SELECT COUNT() FROM Account WHERE Name LIKE 'Bulk %'")).totalSize,
    ).toBe(2500)
    const ok = await job.getSuccessfulResults()
    expect(ok).toHaveLength(2500)
    await job.delete()
    expect((await rejection(job.check())).errorCode).toBe('NOT_FOUND')
  })

  it('visits by parent external id, and #N/A clears a field', async () => {
    const res = await conn.bulk2.loadAndWaitForResults({
      object: 'Footfall_Visit__c',
      operation: 'upsert',
      externalIdFieldName: 'Visit_Key__c',
      input:
        'Visit_Key__c,Account__r.In_Store_Customer_Id__c,Status__c,Spend__c\nB1:e1,B1,closed,19.99\nB9:e1,B9,open,\nB3:e1,B3,flying,\nB2:e1,B2,open,\nb2:E1,B2,open,\n',
      pollInterval: 100,
    })
    expect(rows(res.successfulResults).map((r) => r.Visit_Key__c)).toEqual(['B1:e1'])
    expect(res.failedResults.map((r) => r.sf__Error.split(':')[0])).toEqual([
      'INVALID_FIELD',
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      'DUPLICATE_VALUE',
      'DUPLICATE_VALUE',
    ])
    const visit = await conn.query<{
      Spend__c: number | null
      Account__r: { In_Store_Customer_Id__c: string }
    }>(
      "SELECT Spend__c, Account__r.In_Store_Customer_Id__c FROM Footfall_Visit__c WHERE Visit_Key__c = 'B1:e1'",
    )
    expect(visit.records[0]).toMatchObject({
      Spend__c: 19.99,
      Account__r: { In_Store_Customer_Id__c: 'B1' },
    })
    await conn.bulk2.loadAndWaitForResults({
      object: 'Footfall_Visit__c',
      operation: 'upsert',
      externalIdFieldName: 'Visit_Key__c',
      input: [{ Visit_Key__c: 'B1:e1', Spend__c: null }],
      pollInterval: 100,
    })
    const cleared = await conn.query<{ Spend__c: number | null }>(
      "SELECT Spend__c FROM Footfall_Visit__c WHERE Visit_Key__c = 'B1:e1'",
    )
    expect(cleared.records[0]!.Spend__c).toBeNull()
  })

  it('an unknown column fails the job, and jsforce reports why', async () => {
    const e = await rejection(
      conn.bulk2.loadAndWaitForResults({
        object: 'Account',
        operation: 'upsert',
        externalIdFieldName: 'In_Store_Customer_Id__c',
        input: [{ In_Store_Customer_Id__c: 'B1', Footfall_Nope__c: 1 }],
        pollInterval: 100,
      }),
    )
    expect(e.message).toBe(
      'Ingest job failed to complete due to: InvalidBatch : InvalidBatch : Field name not found : Footfall_Nope__c',
    )
    const badJob = await rejection(
      conn.bulk2.loadAndWaitForResults({
        object: 'Account',
        operation: 'upsert',
        externalIdFieldName: 'Name',
        input: [{ Name: 'x' }],
      }),
    )
    expect(badJob.errorCode).toBe('INVALIDJOB')
  })
})

describe('Bulk API 2.0 query through jsforce', () => {
  it('bulk2.query returns every matching row, parent fields as dotted columns, in pages', async () => {
    const stream = await conn.bulk2.query(
      "SELECT Id, Name, In_Store_Customer_Id__c FROM Account WHERE Name LIKE 'Bulk %' ORDER BY In_Store_Customer_Id__c",
      { pollInterval: 100 },
    )
    const seen: Record<string, string>[] = []
    for await (const record of stream) seen.push(record as Record<string, string>)
    expect(seen).toHaveLength(2500)
    expect(seen[0]).toMatchObject({ Name: 'Bulk 0', In_Store_Customer_Id__c: 'BULK0' })
    expect(seen[0]!.Id).toMatch(/^001\w{15}$/)

    const visits = await conn.bulk2.query(
      "SELECT Visit_Key__c, Account__r.In_Store_Customer_Id__c, Spend__c FROM Footfall_Visit__c WHERE Visit_Key__c = 'B1:e1'",
      { pollInterval: 100 },
    )
    const rows: Record<string, string>[] = []
    for await (const record of visits) rows.push(record as Record<string, string>)
    expect(rows).toEqual([
      { Visit_Key__c: 'B1:e1', 'Account__r.In_Store_Customer_Id__c': 'B1', Spend__c: '' },
    ])

    const bad = await rejection(conn.bulk2.query('SELECT Nope__c FROM Account'))
    expect(bad.errorCode).toBe('INVALID_FIELD')
  })
})
