import { Connection } from 'jsforce'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { connection, loggedIn, rejection, startOrg, statusCode, VERSION } from './helpers'

let org: SfEmulator
let conn: Connection

beforeAll(async () => {
  org = await startOrg()
  org.admin.seedAccounts({ customerIds: ['F1', 'F2', 'F3'], unmatchedShare: 0 })
  conn = await loggedIn(org)
})
afterEach(() => {
  org.admin.clearFaults()
})
afterAll(async () => {
  await org.close()
})

const upsertTwo = (): Promise<{ success: boolean; errors: unknown[] }[]> =>
  conn.sobject('Account').upsert(
    [
      { In_Store_Customer_Id__c: 'F1', Footfall_Visit_Count__c: 1 },
      { In_Store_Customer_Id__c: 'F2', Footfall_Visit_Count__c: 2 },
    ],
    'In_Store_Customer_Id__c',
  )

describe('session expiry and jsforce refresh', () => {
  it('a password-login connection logs in again and replays the request', async () => {
    const c = await loggedIn(org)
    const before = c.accessToken
    expect(org.admin.expireSessions()).toBeGreaterThan(0)
    const refreshed: string[] = []
    c.on('refresh', (token: string) => refreshed.push(token))
    expect((await c.query('SELECT COUNT() FROM Account')).totalSize).toBe(3)
    expect(refreshed).toHaveLength(1)
    expect(c.accessToken).not.toBe(before)
  })

  it('a refresh-token connection uses the refresh_token grant', async () => {
    const c = new Connection({
      version: VERSION,
      instanceUrl: org.instanceUrl,
      refreshToken: org.admin.issueRefreshToken(),
      oauth2: {
        loginUrl: org.loginUrl,
        clientId: org.apps[0]!.clientId,
        clientSecret: org.apps[0]!.clientSecret,
      },
    })
    await c.query('SELECT Id FROM Account LIMIT 1')
    const first = c.accessToken
    org.admin.expireSessions()
    const results = await c
      .sobject('Account')
      .upsert(
        [{ In_Store_Customer_Id__c: 'F3', Footfall_Visit_Count__c: 9 }],
        'In_Store_Customer_Id__c',
      )
    expect(results[0]!.success).toBe(true)
    expect(c.accessToken).not.toBe(first)
  })

  it('a client-credentials connection has nothing to refresh with: jsforce says so', async () => {
    const c = connection(org)
    await c.authorize({ grant_type: 'client_credentials' })
    org.admin.expireSessions()
    const e = await rejection(c.query('SELECT Id FROM Account'))
    expect(e.message).toBe(
      'Unable to refresh session due to: No refresh token found in the connection',
    )
  })
})

describe('injected failures surface as jsforce surfaces the real ones', () => {
  it('UNABLE_TO_LOCK_ROW fails each record of a write, not the request', async () => {
    org.admin.addFailure({ error: 'UNABLE_TO_LOCK_ROW', count: 1 })
    const locked = await upsertTwo()
    expect(locked.map((r) => [r.success, statusCode(r.errors[0])])).toEqual([
      [false, 'UNABLE_TO_LOCK_ROW'],
      [false, 'UNABLE_TO_LOCK_ROW'],
    ])
    expect((await upsertTwo()).every((r) => r.success)).toBe(true)
  })

  it('UNABLE_TO_LOCK_ROW in a Bulk job fails its records', async () => {
    org.admin.addFailure({
      error: 'UNABLE_TO_LOCK_ROW',
      count: 1,
      path: '/jobs/ingest',
      method: 'PATCH',
    })
    const res = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'In_Store_Customer_Id__c',
      input: [{ In_Store_Customer_Id__c: 'F1', Footfall_Visit_Count__c: 3 }],
      pollInterval: 100,
    })
    expect(res.failedResults[0]!.sf__Error).toMatch(
      /^UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: 001\w{15}: --$/,
    )
  })

  it('SERVER_UNAVAILABLE (503): jsforce retries a GET by itself, never a PATCH', async () => {
    org.admin.addFailure({ error: 'SERVER_UNAVAILABLE', count: 1 })
    const used = org.admin.apiUsage().used
    expect((await conn.query('SELECT COUNT() FROM Account')).totalSize).toBe(3)
    expect(org.admin.apiUsage().used - used).toBe(2)

    org.admin.addFailure({ error: 'SERVER_UNAVAILABLE', count: 1 })
    const e = await rejection(upsertTwo())
    expect(e.errorCode).toBe('SERVER_UNAVAILABLE')
    expect((await upsertTwo()).every((r) => r.success)).toBe(true)
  })

  it('UNKNOWN_EXCEPTION (500) on a write', async () => {
    org.admin.addFailure({ error: 'UNKNOWN_EXCEPTION', count: 1, method: 'PATCH' })
    const e = await rejection(upsertTwo())
    expect(e.errorCode).toBe('UNKNOWN_EXCEPTION')
    expect(e.message).toMatch(/^An unexpected error occurred\. Please include this ErrorId/)
  })

  it('REQUEST_LIMIT_EXCEEDED (403) is not retried', async () => {
    org.admin.addFailure({ error: 'REQUEST_LIMIT_EXCEEDED', count: 1 })
    const e = await rejection(conn.query('SELECT Id FROM Account'))
    expect([e.errorCode, e.message]).toEqual([
      'REQUEST_LIMIT_EXCEEDED',
      'TotalRequests Limit exceeded.',
    ])
    org.admin.addFailure({
      error: 'REQUEST_LIMIT_EXCEEDED',
      count: 1,
      message: 'ConcurrentPerOrgLongTxn Limit exceeded.',
    })
    const concurrent = await rejection(conn.query('SELECT Id FROM Account'))
    expect([concurrent.errorCode, concurrent.message]).toEqual([
      'REQUEST_LIMIT_EXCEEDED',
      'ConcurrentPerOrgLongTxn Limit exceeded.',
    ])
  })

  it('a percentage of requests fails', async () => {
    org.admin.addFailure({ error: 'UNKNOWN_EXCEPTION', percent: 100, method: 'PATCH' })
    for (let i = 0; i < 3; i += 1)
      expect((await rejection(upsertTwo())).errorCode).toBe('UNKNOWN_EXCEPTION')
    org.admin.clearFaults()
    org.admin.addFailure({ error: 'UNKNOWN_EXCEPTION', percent: 0, method: 'PATCH' })
    expect((await upsertTwo()).every((r) => r.success)).toBe(true)
  })

  it('the token endpoint fails only for failures that name it', async () => {
    org.admin.addFailure({ error: 'SERVER_UNAVAILABLE', count: 1, path: '/services/oauth2/token' })
    const down = await rejection(loggedIn(org))
    expect(down.name).toBe('ERROR_HTTP_503')
    org.admin.addFailure({
      error: 'REQUEST_LIMIT_EXCEEDED',
      count: 1,
      path: '/services/oauth2/token',
    })
    const rate = await rejection(loggedIn(org))
    expect([rate.name, rate.message]).toEqual(['invalid_grant', 'login rate exceeded'])
    org.admin.addFailure({ error: 'UNKNOWN_EXCEPTION', count: 1 })
    const c = await loggedIn(org)
    expect((await rejection(c.sobject('Account').create({ Name: 'x' }))).errorCode).toBe(
      'UNKNOWN_EXCEPTION',
    )
  })

  it('latency delays every answer', async () => {
    org.admin.setLatency(300)
    const started = Date.now()
    await conn.query('SELECT Id FROM Account LIMIT 1')
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
  })

  it('refused connections: jsforce retries a GET through them, a POST fails with ECONNREFUSED', async () => {
    await org.admin.refuseConnections(1000)
    const e = await rejection(conn.sobject('Account').create({ Name: 'while down' }))
    expect((e as Error & { code?: string }).code).toBe('ECONNREFUSED')
    // jsforce's own retries of a GET (0.5 s, then 1 s) outlast the 1 s outage.
    expect((await conn.query('SELECT COUNT() FROM Account')).totalSize).toBe(3)
  })

  it('a validation rule rejects some records with FIELD_CUSTOM_VALIDATION_EXCEPTION', async () => {
    org.admin.addValidationRule({
      object: 'Account',
      field: 'Footfall_Last_Store__c',
      pattern: '^CLOSED-',
      message: 'Last store must be an open store',
      errorField: 'Footfall_Last_Store__c',
    })
    const res = await conn.sobject('Account').upsert(
      [
        { In_Store_Customer_Id__c: 'F1', Footfall_Last_Store__c: 'CLOSED-7' },
        { In_Store_Customer_Id__c: 'F2', Footfall_Last_Store__c: 'S7' },
      ],
      'In_Store_Customer_Id__c',
    )
    expect(res[0]!.errors).toEqual([
      {
        statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        message: 'Last store must be an open store',
        fields: ['Footfall_Last_Store__c'],
      },
    ])
    expect(res[1]!.success).toBe(true)
  })

  it('faults can be set through the admin HTTP endpoint', async () => {
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${org.loginUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect(
      (
        await post('/__admin/faults/failures', {
          error: 'SERVER_UNAVAILABLE',
          count: 1,
          method: 'PATCH',
        })
      ).status,
    ).toBe(200)
    expect((await rejection(upsertTwo())).errorCode).toBe('SERVER_UNAVAILABLE')
    expect(
      (await post('/__admin/faults/failures', { error: 'NOT_A_FAULT', count: 1 })).status,
    ).toBe(400)
    const expired = (await (await post('/__admin/faults/expire-sessions', {})).json()) as {
      expired: number
    }
    expect(expired.expired).toBeGreaterThan(0)
    expect((await conn.query('SELECT COUNT() FROM Account')).totalSize).toBe(3)
    const state = (await (await fetch(`${org.loginUrl}/__admin/state`)).json()) as {
      records: Record<string, number>
    }
    expect(state.records.Account).toBe(3)
  })
})

describe('daily API request limit', () => {
  it('Sforce-Limit-Info and /limits count requests; when spent, 403 REQUEST_LIMIT_EXCEEDED', async () => {
    const small = await startOrg({ dailyApiLimit: 5 })
    try {
      const c = await loggedIn(small)
      await c.query('SELECT Id FROM Account')
      expect(c.limitInfo.apiUsage).toEqual({ used: 1, limit: 5 })
      const limits = await c.limits()
      expect(limits.DailyApiRequests).toEqual({ Max: 5, Remaining: 3 })
      await c.query('SELECT Id FROM Account')
      await c.query('SELECT Id FROM Account')
      expect(c.limitInfo.apiUsage).toEqual({ used: 4, limit: 5 })
      await c.sobject('Account').create({ Name: 'last one' })
      const e = await rejection(c.query('SELECT Id FROM Account'))
      expect([e.errorCode, e.message]).toEqual([
        'REQUEST_LIMIT_EXCEEDED',
        'TotalRequests Limit exceeded.',
      ])
      // Logging in is not an API request; raising the allocation lets requests through again.
      await loggedIn(small)
      small.admin.setApiUsage({ max: 10 })
      expect((await c.query('SELECT COUNT() FROM Account')).totalSize).toBe(1)
    } finally {
      await small.close()
    }
  })
})

describe('faults and session lifetime set when the org starts', () => {
  it('sessions die after sessionTtlMs and jsforce logs in again; start-time failures and rules apply', async () => {
    const org2 = await startOrg({
      sessionTtlMs: 300,
      failures: [{ error: 'UNKNOWN_EXCEPTION', count: 1, method: 'POST' }],
      validationRules: [
        { object: 'Account', field: 'Name', pattern: '^Blocked', message: 'No blocked names' },
      ],
    })
    try {
      const c = await loggedIn(org2)
      const first = c.accessToken
      expect((await rejection(c.sobject('Account').create({ Name: 'x' }))).errorCode).toBe(
        'UNKNOWN_EXCEPTION',
      )
      const blocked = await c.sobject('Account').create([{ Name: 'Blocked one' }, { Name: 'Fine' }])
      expect(blocked.map((r) => (r.success ? 'ok' : statusCode(r.errors[0])))).toEqual([
        'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        'ok',
      ])
      await new Promise((r) => setTimeout(r, 400))
      expect((await c.query('SELECT COUNT() FROM Account')).totalSize).toBe(1)
      expect(c.accessToken).not.toBe(first)
    } finally {
      await org2.close()
    }
  })
})
