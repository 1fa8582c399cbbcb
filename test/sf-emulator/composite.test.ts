import type { Connection } from 'jsforce'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { loggedIn, rejection, startOrg, VERSION } from './helpers'

// POST /composite through real jsforce: several requests in one API call, answered together.

let org: SfEmulator
let conn: Connection
let accountIds: string[]

const base = `/services/data/v${VERSION}`
const CUSTOMERS = ['K1', 'K2', 'K3']

interface SubResult {
  body: unknown
  httpHeaders: Record<string, string>
  httpStatusCode: number
  referenceId: string
}

beforeAll(async () => {
  org = await startOrg()
  org.admin.seedAccounts({ customerIds: CUSTOMERS, unmatchedShare: 0 })
  conn = await loggedIn(org)
  accountIds = (
    await conn.query<{ Id: string }>('SELECT Id FROM Account ORDER BY In_Store_Customer_Id__c')
  ).records.map((r) => r.Id)
})
afterEach(() => {
  org.admin.clearFaults()
})
afterAll(async () => {
  await org.close()
})

function composite(body: object, c: Connection = conn): Promise<SubResult[]> {
  return c
    .request<{ compositeResponse: SubResult[] }>({
      method: 'POST',
      url: `${base}/composite`,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    })
    .then((r) => r.compositeResponse)
}

/** How many API requests `run` made, by the org's own counter. */
async function apiCallsDuring(run: () => Promise<unknown>): Promise<number> {
  const before = org.admin.apiUsage().used
  await run()
  return org.admin.apiUsage().used - before
}

const accountUpdate = (referenceId: string, fields: Record<string, unknown>, ids = accountIds) => ({
  method: 'PATCH',
  url: `${base}/composite/sobjects`,
  referenceId,
  body: {
    allOrNone: false,
    records: ids.map((Id) => ({ attributes: { type: 'Account' }, Id, ...fields })),
  },
})

const visitUpsert = (
  referenceId: string,
  keys: string[],
  fields: Record<string, unknown> = {},
) => ({
  method: 'PATCH',
  url: `${base}/composite/sobjects/Footfall_Visit__c/Visit_Key__c`,
  referenceId,
  body: {
    allOrNone: false,
    records: keys.map((k) => ({
      attributes: { type: 'Footfall_Visit__c' },
      Visit_Key__c: k,
      Account__c: accountIds[0],
      Status__c: 'closed',
      ...fields,
    })),
  },
})

const query = (referenceId: string, soql: string) => ({
  method: 'GET',
  url: `${base}/query?q=${encodeURIComponent(soql)}`,
  referenceId,
})

async function visitCount(keyPrefix: string): Promise<number> {
  return (
    await conn.query(
      `SELECT COUNT() FROM Footfall_Visit__c WHERE Visit_Key__c LIKE '${keyPrefix}%'`,
    )
  ).totalSize
}

async function visitCounts(): Promise<(number | null)[]> {
  return (
    await conn.query<{ Footfall_Visit_Count__c: number | null }>(
      'SELECT Footfall_Visit_Count__c FROM Account ORDER BY In_Store_Customer_Id__c',
    )
  ).records.map((r) => r.Footfall_Visit_Count__c)
}

describe('POST /composite', () => {
  it('runs collections, a query and a record read in order, as ONE API call', async () => {
    let results: SubResult[] = []
    const calls = await apiCallsDuring(async () => {
      results = await composite({
        allOrNone: false,
        compositeRequest: [
          accountUpdate('accounts', { Footfall_Visit_Count__c: 5 }),
          visitUpsert('visits', ['A:1', 'A:2']),
          query('counts', 'SELECT Footfall_Visit_Count__c FROM Account'),
          {
            method: 'GET',
            url: `${base}/sobjects/Account/${accountIds[0]}?fields=Footfall_Visit_Count__c`,
            referenceId: 'one',
          },
        ],
      })
    })
    expect(calls).toBe(1)
    // Sforce-Limit-Info comes with the composite answer as with any other.
    expect(conn.limitInfo?.apiUsage?.used).toBe(org.admin.apiUsage().used)
    expect(results.map((r) => [r.referenceId, r.httpStatusCode])).toEqual([
      ['accounts', 200],
      ['visits', 200],
      ['counts', 200],
      ['one', 200],
    ])
    expect(results[0]!.body).toEqual(accountIds.map((id) => ({ id, success: true, errors: [] })))
    expect(
      (results[1]!.body as { success: boolean; created: boolean }[]).map((r) => [
        r.success,
        r.created,
      ]),
    ).toEqual([
      [true, true],
      [true, true],
    ])
    // Later subrequests see the earlier ones' writes.
    expect(
      (results[2]!.body as { records: { Footfall_Visit_Count__c: number }[] }).records.map(
        (r) => r.Footfall_Visit_Count__c,
      ),
    ).toEqual([5, 5, 5])
    expect(results[3]!.body).toMatchObject({ Footfall_Visit_Count__c: 5 })
    expect(await visitCounts()).toEqual([5, 5, 5])
  })

  it('allOrNone false: a subrequest failing as a whole answers its error; the others commit', async () => {
    const results = await composite({
      allOrNone: false,
      compositeRequest: [
        accountUpdate('accounts', { Footfall_Visit_Count__c: 6, No_Such_Field__c: 1 }),
        visitUpsert('visits', ['B:1']),
      ],
    })
    expect(results[0]).toEqual({
      body: [
        {
          errorCode: 'INVALID_FIELD',
          message: "No such column 'No_Such_Field__c' on sobject of type Account",
        },
      ],
      httpHeaders: {},
      httpStatusCode: 400,
      referenceId: 'accounts',
    })
    expect(results[1]).toMatchObject({ httpStatusCode: 200, referenceId: 'visits' })
    expect(await visitCounts()).toEqual([5, 5, 5]) // nothing of the failed subrequest was kept
    expect(await visitCount('B:')).toBe(1)
  })

  it('per-record errors stay inside the subrequest bodies: validation rules, row locks', async () => {
    org.admin.addValidationRule({
      object: 'Account',
      field: 'Footfall_Top_Brands__c',
      pattern: '^Banned',
      message: 'No banned brands',
      errorField: 'Footfall_Top_Brands__c',
    })
    // The lock meets the visit subrequest (its path), not the Account one.
    org.admin.addFailure({
      error: 'UNABLE_TO_LOCK_ROW',
      count: 1,
      path: '/composite/sobjects/Footfall_Visit__c',
    })
    const results = await composite({
      compositeRequest: [
        {
          ...accountUpdate('accounts', {}),
          body: {
            allOrNone: false,
            records: accountIds.map((Id, i) => ({
              attributes: { type: 'Account' },
              Id,
              Footfall_Top_Brands__c: i === 1 ? 'Banned;Other' : 'Fine',
            })),
          },
        },
        visitUpsert('visits', ['C:1', 'C:2']),
      ],
    })
    expect(results.map((r) => r.httpStatusCode)).toEqual([200, 200])
    expect(results[0]!.body).toEqual([
      { id: accountIds[0], success: true, errors: [] },
      {
        id: accountIds[1],
        success: false,
        errors: [
          {
            statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
            message: 'No banned brands',
            fields: ['Footfall_Top_Brands__c'],
          },
        ],
      },
      { id: accountIds[2], success: true, errors: [] },
    ])
    const visits = results[1]!.body as { success: boolean; errors: { statusCode: string }[] }[]
    expect(visits.map((v) => [v.success, v.errors[0]?.statusCode])).toEqual([
      [false, 'UNABLE_TO_LOCK_ROW'],
      [false, 'UNABLE_TO_LOCK_ROW'],
    ])
    expect(await visitCount('C:')).toBe(0)
  })

  it('allOrNone true: one failure rolls everything back; the others answer 400 PROCESSING_HALTED', async () => {
    org.admin.addValidationRule({
      object: 'Footfall_Visit__c',
      field: 'Visit_Key__c',
      pattern: '^D:2$',
      message: 'D:2 is on hold',
    })
    const results = await composite({
      allOrNone: true,
      compositeRequest: [
        accountUpdate('accounts', { Footfall_Visit_Count__c: 7 }),
        // The collection says allOrNone false; the composite's true overrides it.
        visitUpsert('visits', ['D:1', 'D:2', 'D:3']),
        query('after', 'SELECT COUNT() FROM Account'),
      ],
    })
    const halted = {
      body: [
        {
          errorCode: 'PROCESSING_HALTED',
          message:
            'The transaction was rolled back since another operation in the same transaction failed.',
        },
      ],
      httpHeaders: {},
      httpStatusCode: 400,
    }
    expect(results[0]).toEqual({ ...halted, referenceId: 'accounts' })
    expect(results[2]).toEqual({ ...halted, referenceId: 'after' })
    expect(results[1]!.httpStatusCode).toBe(200)
    expect(
      (results[1]!.body as { success: boolean; errors: { statusCode: string }[] }[]).map((r) => [
        r.success,
        r.errors[0]?.statusCode,
      ]),
    ).toEqual([
      [false, 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
      [false, 'FIELD_CUSTOM_VALIDATION_EXCEPTION'],
      [false, 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
    ])
    expect(await visitCounts()).toEqual([5, 5, 5])
    expect(await visitCount('D:')).toBe(0)

    // A subrequest failing as a whole in the middle: before and after it, nothing is kept.
    const middle = await composite({
      allOrNone: true,
      compositeRequest: [
        visitUpsert('first', ['E:1']),
        accountUpdate('broken', { No_Such_Field__c: 1 }),
        visitUpsert('last', ['E:2']),
      ],
    })
    expect(
      middle.map((r) => [
        r.referenceId,
        r.httpStatusCode,
        (r.body as { errorCode: string }[])[0]?.errorCode,
      ]),
    ).toEqual([
      ['first', 400, 'PROCESSING_HALTED'],
      ['broken', 400, 'INVALID_FIELD'],
      ['last', 400, 'PROCESSING_HALTED'],
    ])
    expect(await visitCount('E:')).toBe(0)
  })

  it('references: a later subrequest uses an earlier answer; one depending on a failure is halted', async () => {
    const results = await composite({
      compositeRequest: [
        {
          method: 'POST',
          url: `${base}/sobjects/Account`,
          referenceId: 'newAccount',
          body: { Name: 'Ref Co', In_Store_Customer_Id__c: 'K-REF' },
        },
        {
          method: 'POST',
          url: `${base}/sobjects/Footfall_Visit__c`,
          referenceId: 'newVisit',
          body: { Visit_Key__c: 'F:1', Account__c: '@{newAccount.id}', Status__c: 'open' },
        },
        {
          method: 'GET',
          url: `${base}/sobjects/Account/@{newAccount.id}?fields=Name`,
          referenceId: 'readBack',
        },
        {
          method: 'POST',
          url: `${base}/sobjects/Footfall_Visit__c`,
          referenceId: 'badVisit',
          body: { Visit_Key__c: 'F:2', Status__c: 'nonsense' },
        },
        {
          method: 'GET',
          url: `${base}/sobjects/Footfall_Visit__c/@{badVisit.id}`,
          referenceId: 'dependent',
        },
      ],
    })
    const created = results[0]!
    expect(created.httpStatusCode).toBe(201)
    const id = (created.body as { id: string }).id
    expect(created.httpHeaders).toEqual({ Location: `${base}/sobjects/Account/${id}` })
    expect(results[1]!.httpStatusCode).toBe(201)
    expect(results[2]!.body).toMatchObject({ Name: 'Ref Co' })
    expect(results[3]!.body).toMatchObject([
      { errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' },
    ])
    expect(results[4]).toMatchObject({
      httpStatusCode: 400,
      body: [{ errorCode: 'PROCESSING_HALTED' }],
    })
    const visit = await conn.query<{ Account__c: string }>(
      "SELECT Account__c FROM Footfall_Visit__c WHERE Visit_Key__c = 'F:1'",
    )
    expect(visit.records[0]?.Account__c).toBe(id)
  })

  it('deletes by sObject Collections inside a composite; a second delete finds nothing', async () => {
    const ids = (
      await conn.query<{ Id: string }>(
        "SELECT Id FROM Footfall_Visit__c WHERE Visit_Key__c LIKE 'A:%' ORDER BY Visit_Key__c",
      )
    ).records.map((r) => r.Id)
    const del = (referenceId: string) => ({
      method: 'DELETE',
      url: `${base}/composite/sobjects?allOrNone=false&ids=${ids.join(',')}`,
      referenceId,
    })
    const results = await composite({ compositeRequest: [del('once'), del('twice')] })
    expect(results[0]!.body).toEqual(ids.map((id) => ({ id, success: true, errors: [] })))
    expect(
      (results[1]!.body as { errors: { statusCode: string }[] }[]).map(
        (r) => r.errors[0]?.statusCode,
      ),
    ).toEqual(['ENTITY_IS_DELETED', 'ENTITY_IS_DELETED'])
    expect(await visitCount('A:')).toBe(0)
  })
})

describe('composite limits and malformed requests: 400 at the top level, nothing runs', () => {
  const read = (i: number) => ({
    method: 'GET',
    url: `${base}/sobjects/Account/${accountIds[i % 3]}`,
    referenceId: `read${i}`,
  })

  it('25 subrequests with 5 collections or queries pass; 26, or a 6th collection, do not', async () => {
    const ok = await composite({
      compositeRequest: [
        accountUpdate('a1', { Footfall_Visits_30d__c: 1 }),
        accountUpdate('a2', { Footfall_Visits_30d__c: 2 }),
        accountUpdate('a3', { Footfall_Visits_30d__c: 3 }),
        visitUpsert('v1', ['G:1']),
        query('q1', 'SELECT COUNT() FROM Account'),
        ...Array.from({ length: 20 }, (_, i) => read(i)),
      ],
    })
    expect(ok).toHaveLength(25)
    expect(ok.every((r) => r.httpStatusCode === 200)).toBe(true)

    const tooMany = await rejection(
      composite({
        compositeRequest: [
          visitUpsert('v', ['H:1']),
          ...Array.from({ length: 25 }, (_, i) => read(i)),
        ],
      }),
    )
    expect(tooMany.errorCode).toBe('LIMIT_EXCEEDED')
    expect(tooMany.message).toContain('at most 25 subrequests')

    const sixCollections = await rejection(
      composite({
        compositeRequest: [
          ...Array.from({ length: 5 }, (_, i) => visitUpsert(`v${i}`, [`H:${i}`])),
          query('q', 'SELECT COUNT() FROM Account'),
        ],
      }),
    )
    expect(sixCollections.errorCode).toBe('LIMIT_EXCEEDED')
    expect(sixCollections.message).toContain('at most 5 sObject Collections or query subrequests')
    expect(await visitCount('H:')).toBe(0)
  })

  // Built when the test runs: the Account ids exist only after beforeAll.
  it.each([
    [
      'a duplicate referenceId',
      () => [visitUpsert('same', ['I:1']), read(0), { ...read(1), referenceId: 'same' }],
    ],
    [
      'a referenceId with other characters',
      () => [visitUpsert('ok', ['I:1']), { ...read(0), referenceId: 'not-ok' }],
    ],
    ['no referenceId', () => [visitUpsert('ok', ['I:1']), { method: 'GET', url: read(0).url }]],
    ['a lower-case method', () => [visitUpsert('ok', ['I:1']), { ...read(0), method: 'get' }]],
    [
      'an inherited header',
      () => [
        visitUpsert('ok', ['I:1']),
        { ...read(0), httpHeaders: { 'Content-Type': 'text/csv' } },
      ],
    ],
    [
      'a resource composite does not serve',
      () => [
        visitUpsert('ok', ['I:1']),
        { method: 'GET', url: `${base}/limits`, referenceId: 'limits' },
      ],
    ],
    ['no subrequests', () => []],
  ])('%s: INVALID_API_INPUT', async (_what, subrequests: () => object[]) => {
    const e = await rejection(composite({ compositeRequest: subrequests() }))
    expect(e.errorCode).toBe('INVALID_API_INPUT')
    expect(await visitCount('I:')).toBe(0)
  })

  it('a body that is not JSON: JSON_PARSER_ERROR', async () => {
    const e = await rejection(
      conn.request({
        method: 'POST',
        url: `${base}/composite`,
        body: '{"compositeRequest": [',
        headers: { 'content-type': 'application/json' },
      }),
    )
    expect(e.errorCode).toBe('JSON_PARSER_ERROR')
  })
})

describe('top-level faults: the composite call fails as a whole, as Salesforce fails it', () => {
  const write = () =>
    composite({
      compositeRequest: [
        accountUpdate('accounts', { Footfall_Purchase_Visits__c: 9 }),
        visitUpsert('visits', ['J:1']),
      ],
    })

  it('a 503 meant for the collections fails the whole POST; jsforce does not retry it', async () => {
    org.admin.addFailure({ error: 'SERVER_UNAVAILABLE', count: 1, path: '/composite/sobjects' })
    let e: Awaited<ReturnType<typeof rejection>> | undefined
    expect(await apiCallsDuring(async () => (e = await rejection(write())))).toBe(1)
    expect(e?.errorCode).toBe('SERVER_UNAVAILABLE')
    expect(await visitCount('J:')).toBe(0)
    expect((await write()).map((r) => r.httpStatusCode)).toEqual([200, 200])
    expect(await visitCount('J:')).toBe(1)
  })

  it('the daily limit spent: 403 REQUEST_LIMIT_EXCEEDED, nothing saved', async () => {
    const { max, used } = org.admin.apiUsage()
    org.admin.setApiUsage({ add: max - used })
    try {
      const e = await rejection(composite({ compositeRequest: [visitUpsert('visits', ['L:1'])] }))
      expect([e.errorCode, e.message]).toEqual([
        'REQUEST_LIMIT_EXCEEDED',
        'TotalRequests Limit exceeded.',
      ])
    } finally {
      org.admin.setApiUsage({ reset: true })
    }
    expect(await visitCount('L:')).toBe(0)
  })

  it('an expired session: 401, jsforce logs in again and replays the composite once', async () => {
    const c = await loggedIn(org)
    org.admin.expireSessions()
    const create = {
      method: 'POST',
      url: `${base}/sobjects/Footfall_Visit__c`,
      referenceId: 'create',
      body: { Visit_Key__c: 'M:1', Account__c: accountIds[1], Status__c: 'open' },
    }
    const refreshed: string[] = []
    c.on('refresh', (token: string) => refreshed.push(token))
    const results = await composite({ compositeRequest: [create] }, c)
    expect(refreshed).toHaveLength(1)
    expect(results[0]!.httpStatusCode).toBe(201)
    expect(await visitCount('M:')).toBe(1) // created once: the expired attempt ran nothing
  })
})
