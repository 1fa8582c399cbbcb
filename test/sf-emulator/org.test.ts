import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loggedIn, rejection, startOrg, statusCode } from './helpers'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('an org before the admin has set up Footfall', () => {
  it('has Accounts with the customer id, and refuses Footfall fields and visits as Salesforce would', async () => {
    const org = await startOrg({ schema: 'base' })
    try {
      org.admin.seedAccounts({ customerIds: ['P1', 'P2'], unmatchedShare: 0 })
      const conn = await loggedIn(org)
      const fields = (await conn.describe('Account')).fields.map((f) => f.name)
      expect(fields).toContain('In_Store_Customer_Id__c')
      expect(fields.filter((f) => f.startsWith('Footfall_'))).toEqual([])

      const upsert = await rejection(
        conn
          .sobject('Account')
          .upsert(
            [{ In_Store_Customer_Id__c: 'P1', Footfall_Visit_Count__c: 1 }],
            'In_Store_Customer_Id__c',
          ),
      )
      expect([upsert.errorCode, upsert.message]).toEqual([
        'INVALID_FIELD',
        "No such column 'Footfall_Visit_Count__c' on sobject of type Account",
      ])
      expect(
        (await rejection(conn.query('SELECT Footfall_Visit_Count__c FROM Account'))).errorCode,
      ).toBe('INVALID_FIELD')
      expect((await rejection(conn.query('SELECT Id FROM Footfall_Visit__c'))).errorCode).toBe(
        'INVALID_TYPE',
      )
      const visits = await rejection(
        conn.sobject('Footfall_Visit__c').upsert([{ Visit_Key__c: 'x' }], 'Visit_Key__c'),
      )
      expect(visits.errorCode).toBe('NOT_FOUND')
      const created = await rejection(
        conn.sobject('Footfall_Visit__c').create([{ Visit_Key__c: 'x' }]),
      )
      expect(created.errorCode).toBe('INVALID_TYPE')
      const bulk = await rejection(
        conn.bulk2.loadAndWaitForResults({
          object: 'Footfall_Visit__c',
          operation: 'insert',
          input: [{ Visit_Key__c: 'x' }],
        }),
      )
      expect(bulk.errorCode).toBe('INVALIDJOB')
    } finally {
      await org.close()
    }
  })
})

describe('the org on disk', () => {
  it('keeps records, ids, refresh tokens and API usage across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-emulator-'))
    dirs.push(dir)
    const first = await startOrg({ dataDir: dir })
    const refreshToken = first.admin.issueRefreshToken()
    let id: string
    try {
      const conn = await loggedIn(first)
      const res = await conn
        .sobject('Account')
        .create({ Name: 'Persisted', In_Store_Customer_Id__c: 'D1' })
      id = res.id!
    } finally {
      await first.close()
    }
    const second = await startOrg({ dataDir: dir })
    try {
      const conn = await loggedIn(second)
      const got = await conn.sobject('Account').retrieve(id)
      expect(got.Name).toBe('Persisted')
      const next = await conn.sobject('Account').create({ Name: 'Next' })
      expect(next.id).not.toBe(id)
      const dup = await conn
        .sobject('Account')
        .create([{ Name: 'Dup', In_Store_Customer_Id__c: 'd1' }])
      expect(statusCode(dup[0]!.errors[0])).toBe('DUPLICATE_VALUE')
      expect(second.admin.apiUsage().used).toBeGreaterThanOrEqual(4)
      const refreshed = await conn.oauth2.refreshToken(refreshToken)
      expect(refreshed.access_token).toBeTruthy()
    } finally {
      await second.close()
    }
  })
})

describe('a Bulk job across a restart', () => {
  it('is still there; one caught mid-processing is Failed, not half-done in silence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-emulator-'))
    dirs.push(dir)
    const first = await startOrg({ dataDir: dir, bulkProcessingDelayMs: 60_000 })
    let jobId: string
    try {
      const conn = await loggedIn(first)
      const job = conn.bulk2.createJob({ object: 'Account', operation: 'insert' })
      await job.open()
      await job.uploadData([{ Name: 'Pending' }])
      await job.close()
      jobId = job.id
    } finally {
      await first.close()
    }
    const second = await startOrg({ dataDir: dir })
    try {
      const conn = await loggedIn(second)
      const info = await conn.bulk2.job('ingest', { id: jobId }).check()
      expect(info.state).toBe('Failed')
      expect(info.errorMessage).toMatch(/stopped while the job was processing/)
      expect((await conn.query('SELECT COUNT() FROM Account')).totalSize).toBe(0)
    } finally {
      await second.close()
    }
  })
})

describe('seeding and inspection', () => {
  it('leaves a stable share of customers unmatched and shows Accounts and visits', async () => {
    const ids = Array.from({ length: 400 }, (_, i) => `SIM-${i}`)
    const org = await startOrg()
    try {
      const seeded = org.admin.seedAccounts({ customerIds: ids, unmatchedShare: 0.25 })
      expect(seeded.created + seeded.unmatched.length).toBe(400)
      expect(seeded.unmatched.length).toBeGreaterThan(60)
      expect(seeded.unmatched.length).toBeLessThan(140)
      const again = org.admin.seedAccounts({ customerIds: ids, unmatchedShare: 0.25 })
      expect(again).toEqual({
        created: 0,
        alreadyPresent: seeded.created,
        unmatched: seeded.unmatched,
      })

      const conn = await loggedIn(org)
      const matched = ids.find((i) => !seeded.unmatched.includes(i))!
      await conn.sobject('Footfall_Visit__c').upsert(
        [
          {
            Visit_Key__c: `${matched}:e1`,
            Account__r: { In_Store_Customer_Id__c: matched },
            Status__c: 'closed',
          },
        ] as never,
        'Visit_Key__c',
      )
      const page = await fetch(`${org.loginUrl}/`)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      const html = await page.text()
      expect(html).toContain('Footfall_Visit_Count__c')
      expect(html).toContain(`${matched}:e1`)
      expect(html).toMatch(/API requests in the last 24 h: \d+ of 115000\./)
      const json = (await (await fetch(`${org.loginUrl}/__admin/inspect`)).json()) as {
        accounts: unknown[]
        visits: { Visit_Key__c: string }[]
      }
      expect(json.accounts).toHaveLength(seeded.created)
      expect(json.visits.map((v) => v.Visit_Key__c)).toEqual([`${matched}:e1`])
    } finally {
      await org.close()
    }
  })
})
