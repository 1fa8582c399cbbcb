import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { loggedIn, startOrg, VERSION } from './helpers'

let org: SfEmulator
let token: string

beforeAll(async () => {
  org = await startOrg()
  org.admin.seedAccounts({ customerIds: ['X1'], unmatchedShare: 0 })
  token = (await loggedIn(org)).accessToken!
})
afterAll(async () => {
  await org.close()
})

async function call(
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${org.instanceUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    ...(body !== undefined ? { body } : {}),
  })
  const text = await res.text()
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null }
}

/** Salesforce's error shape: a non-empty array of `{message, errorCode}`. */
function expectSalesforceError(
  r: { status: number; json: unknown },
  status: number,
  code?: string,
): void {
  expect(r.status).toBe(status)
  expect(Array.isArray(r.json)).toBe(true)
  const first = (r.json as { message: unknown; errorCode: unknown }[])[0]!
  expect(typeof first.message).toBe('string')
  expect(typeof first.errorCode).toBe('string')
  if (code) expect(first.errorCode).toBe(code)
}

const base = `/services/data/v${VERSION}`

describe('bad input gets Salesforce error answers, never a crash', () => {
  it('malformed bodies, paths and methods', async () => {
    expectSalesforceError(
      await call('POST', `${base}/sobjects/Account`, '{"Name": '),
      400,
      'JSON_PARSER_ERROR',
    )
    expectSalesforceError(
      await call('POST', `${base}/sobjects/Account`, '[1,2]'),
      400,
      'JSON_PARSER_ERROR',
    )
    expectSalesforceError(
      await call('POST', `${base}/sobjects/Account`, ''),
      400,
      'JSON_PARSER_ERROR',
    )
    expectSalesforceError(
      await call('POST', `${base}/composite/sobjects`, '{"records": 5}'),
      400,
      'INVALID_FIELD',
    )
    expectSalesforceError(
      await call('POST', `${base}/composite/sobjects`, '{"records": [7]}'),
      400,
      'JSON_PARSER_ERROR',
    )
    expectSalesforceError(
      await call('PATCH', `${base}/composite/sobjects/Account/Nope__c`, '{"records": []}'),
      404,
      'NOT_FOUND',
    )
    expectSalesforceError(await call('GET', `${base}/sobjects/Nope__c/describe`), 404, 'NOT_FOUND')
    expectSalesforceError(await call('GET', `${base}/sobjects/Account/%E0%A4%A`), 404, 'NOT_FOUND')
    expectSalesforceError(await call('GET', `${base}/query`), 400, 'MALFORMED_QUERY')
    expectSalesforceError(
      await call(
        'GET',
        `${base}/query?q=${encodeURIComponent("SELECT Id FROM Account WHERE Id = 'zz'")}`,
      ),
      400,
      'INVALID_QUERY_FILTER_OPERATOR',
    )
    expectSalesforceError(await call('GET', `/services/data/v99.0/limits`), 404, 'NOT_FOUND')
    expectSalesforceError(await call('PUT', `${base}/sobjects/Account`), 404, 'NOT_FOUND')
    expectSalesforceError(
      await call('POST', `${base}/jobs/ingest`, '{"object":"Account","operation":"merge"}'),
      400,
      'INVALIDJOB',
    )
    expectSalesforceError(
      await call('GET', `${base}/jobs/ingest/750nothere/successfulResults`),
      404,
      'NOT_FOUND',
    )
    const token = await fetch(`${org.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      body: 'grant_type=password&username=%ZZ',
    })
    expect(token.status).toBe(400)
    expect(await token.json()).toMatchObject({ error: expect.any(String) as string })
  })

  it('any JSON value as a collection record or field value is answered 200 with results, or 400 with an error array', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.dictionary(
            fc.constantFrom(
              'Name',
              'In_Store_Customer_Id__c',
              'Footfall_Visit_Count__c',
              'Footfall_Last_Visit__c',
              'Phone',
              'attributes',
              'Nope__c',
            ),
            fc.jsonValue(),
          ),
          { maxLength: 5 },
        ),
        fc.boolean(),
        async (records, allOrNone) => {
          const r = await call(
            'PATCH',
            `${base}/composite/sobjects/Account/In_Store_Customer_Id__c`,
            JSON.stringify({
              allOrNone,
              records: records.map((rec) => ({ ...rec, attributes: { type: 'Account' } })),
            }),
          )
          if (r.status === 200) {
            expect(r.json).toHaveLength(records.length)
          } else {
            expectSalesforceError(r, 400)
          }
        },
      ),
      { numRuns: 150, seed: 5 },
    )
  })
})
