import type { Connection } from 'jsforce'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { loggedIn, rejection, startOrg } from './helpers'

let org: SfEmulator
let conn: Connection
const ids = Array.from({ length: 2500 }, (_, i) => `C${String(i).padStart(5, '0')}`)

beforeAll(async () => {
  org = await startOrg()
  org.admin.seedAccounts({ customerIds: ids, unmatchedShare: 0 })
  conn = await loggedIn(org)
  // A handful of Accounts with known values for the WHERE tests, written through the API.
  const res = await conn.sobject('Account').upsert(
    [
      {
        In_Store_Customer_Id__c: 'C00000',
        Name: 'Alpha',
        Footfall_Visit_Count__c: 3,
        Footfall_Last_Store__c: 'S1',
      },
      {
        In_Store_Customer_Id__c: 'C00001',
        Name: 'Beta',
        Footfall_Visit_Count__c: 10,
        Footfall_Last_Store__c: 'S2',
      },
      {
        In_Store_Customer_Id__c: 'C00002',
        Name: 'Gamma',
        Footfall_Visit_Count__c: 7,
        Footfall_Last_Store__c: null,
      },
      {
        In_Store_Customer_Id__c: 'C00003',
        Name: "O'Brien",
        Footfall_Visit_Count__c: 7,
        Footfall_Last_Visit__c: '2025-01-02T10:00:00Z',
      },
    ],
    'In_Store_Customer_Id__c',
  )
  expect(res.every((r) => r.success)).toBe(true)
  await conn.sobject('Footfall_Visit__c').create([
    { Visit_Key__c: 'C00000:e1', Account__c: res[0]!.id, Status__c: 'closed', Spend__c: 12.5 },
    { Visit_Key__c: 'C00001:e1', Account__c: res[1]!.id, Status__c: 'open' },
    { Visit_Key__c: 'orphan:e1', Status__c: 'abandoned' },
  ])
})
afterAll(async () => {
  await org.close()
})

const names = async (soql: string): Promise<string[]> =>
  (await conn.query<{ Name: string }>(soql)).records.map((r) => r.Name)

describe('query and queryMore through jsforce', () => {
  it('pages of 2,000 with nextRecordsUrl; jsforce autoFetch follows them', async () => {
    const first = await conn.query('SELECT Id, In_Store_Customer_Id__c FROM Account')
    expect(first.totalSize).toBe(2500)
    expect(first.done).toBe(false)
    expect(first.records).toHaveLength(2000)
    // jsforce rebuilds nextRecordsUrl from the locator; the raw answer is a path.
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/\w+-2000$/)
    const raw = await conn.request<{ nextRecordsUrl: string }>(
      `/query?q=${encodeURIComponent('SELECT Id FROM Account')}`,
    )
    expect(raw.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/\w+-2000$/)
    const second = await conn.queryMore(first.nextRecordsUrl!)
    expect(second.done).toBe(true)
    expect(second.records).toHaveLength(500)
    expect(second.nextRecordsUrl).toBeUndefined()
    const all = await conn
      .query('SELECT In_Store_Customer_Id__c FROM Account')
      .run({ autoFetch: true, maxFetch: 10_000 })
    const got = all.records.map((r) => r.In_Store_Customer_Id__c as string).sort()
    expect(got).toEqual(ids)
    const e = await rejection(conn.queryMore('/services/data/v62.0/query/0r8nothere-2000'))
    expect(e.errorCode).toBe('INVALID_QUERY_LOCATOR')
  })

  it('records carry attributes, ids are 18 characters with the Account prefix', async () => {
    const { records } = await conn.query<{ Id: string; attributes: { type: string; url: string } }>(
      "SELECT Id FROM Account WHERE Name = 'Alpha'",
    )
    expect(records).toHaveLength(1)
    expect(records[0]!.Id).toMatch(/^001[A-Za-z0-9]{15}$/)
    expect(records[0]!.attributes).toEqual({
      type: 'Account',
      url: `/services/data/v62.0/sobjects/Account/${records[0]!.Id}`,
    })
  })

  it('WHERE with AND, OR, NOT, parentheses and every operator', async () => {
    const base =
      "SELECT Name FROM Account WHERE In_Store_Customer_Id__c IN ('C00000','C00001','C00002','C00003')"
    expect(await names(`${base} AND Footfall_Visit_Count__c = 7 ORDER BY Name`)).toEqual([
      'Gamma',
      "O'Brien",
    ])
    expect(await names(`${base} AND Footfall_Visit_Count__c != 7 ORDER BY Name`)).toEqual([
      'Alpha',
      'Beta',
    ])
    expect(
      await names(
        `${base} AND Footfall_Visit_Count__c > 3 AND Footfall_Visit_Count__c <= 7 ORDER BY Name`,
      ),
    ).toEqual(['Gamma', "O'Brien"])
    expect(
      await names(
        `${base} AND (Footfall_Visit_Count__c < 4 OR Footfall_Visit_Count__c >= 10) ORDER BY Name DESC`,
      ),
    ).toEqual(['Beta', 'Alpha'])
    expect(await names(`${base} AND NOT (Name LIKE '%a' OR Name = 'beta') ORDER BY Name`)).toEqual([
      "O'Brien",
    ])
    expect(await names(`${base} AND Footfall_Last_Store__c = null ORDER BY Name`)).toEqual([
      'Gamma',
      "O'Brien",
    ])
    expect(await names(`${base} AND Footfall_Last_Store__c != null ORDER BY Name`)).toEqual([
      'Alpha',
      'Beta',
    ])
    expect(await names(`${base} AND Footfall_Last_Store__c NOT IN ('S1') ORDER BY Name`)).toEqual([
      'Beta',
      'Gamma',
      "O'Brien",
    ])
    expect(await names(`${base} AND Name = 'O\\'Brien'`)).toEqual(["O'Brien"])
    expect(await names(`${base} AND Footfall_Last_Visit__c > 2025-01-01T00:00:00Z`)).toEqual([
      "O'Brien",
    ])
    expect(await names(`${base} AND Name LIKE 'g_mm%'`)).toEqual(['Gamma'])
    expect(await names(`${base} ORDER BY Footfall_Last_Store__c NULLS LAST, Name LIMIT 3`)).toEqual(
      ['Alpha', 'Beta', 'Gamma'],
    )
    expect(await names(`${base} ORDER BY Name LIMIT 2 OFFSET 1`)).toEqual(['Beta', 'Gamma'])
  })

  it('COUNT() and parent fields through a lookup', async () => {
    const count = await conn.query("SELECT COUNT() FROM Account WHERE Name LIKE 'A%'")
    expect(count.records).toEqual([])
    expect(count.totalSize).toBeGreaterThanOrEqual(1)
    const visits = await conn.query<{
      Visit_Key__c: string
      Account__r: { Name: string; In_Store_Customer_Id__c: string } | null
    }>(
      "SELECT Visit_Key__c, Account__r.Name, Account__r.In_Store_Customer_Id__c FROM Footfall_Visit__c WHERE Status__c != 'open' ORDER BY Visit_Key__c",
    )
    expect(visits.records.map((v) => [v.Visit_Key__c, v.Account__r?.Name ?? null])).toEqual([
      ['C00000:e1', 'Alpha'],
      ['orphan:e1', null],
    ])
    expect(visits.records[0]!.Account__r).toMatchObject({
      attributes: { type: 'Account' },
      In_Store_Customer_Id__c: 'C00000',
    })
    expect(
      await names(
        'SELECT Name FROM Account WHERE Id IN (SELECT Account__c FROM Footfall_Visit__c)',
      ).catch((e: Error & { errorCode: string }) => e.errorCode),
    ).toBe('MALFORMED_QUERY')
    const byParent = await conn.query<{ Visit_Key__c: string }>(
      "SELECT Visit_Key__c FROM Footfall_Visit__c WHERE Account__r.Name = 'beta'",
    )
    expect(byParent.records.map((r) => r.Visit_Key__c)).toEqual(['C00001:e1'])
  })

  it('bad queries get Salesforce error codes', async () => {
    const code = async (soql: string): Promise<string | undefined> =>
      (await rejection(conn.query(soql))).errorCode
    expect(await code('SELEC Id FROM Account')).toBe('MALFORMED_QUERY')
    expect(await code('SELECT Id FROM Account WHERE Name = 1')).toBe(
      'INVALID_QUERY_FILTER_OPERATOR',
    )
    expect(await code("SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Id != null")).toBe(
      'MALFORMED_QUERY',
    )
    expect(await code('SELECT Nope__c FROM Account')).toBe('INVALID_FIELD')
    expect(await code('SELECT Id FROM Account WHERE Nope__c = 1')).toBe('INVALID_FIELD')
    expect(await code('SELECT Id FROM Nope__c')).toBe('INVALID_TYPE')
    const e = await rejection(conn.query('SELECT Nope__c FROM Account'))
    expect(e.message).toContain("No such column 'Nope__c' on entity 'Account'")
  })
})
