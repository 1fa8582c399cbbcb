import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { Connection } from 'jsforce'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SF_EMULATOR_DEFAULTS } from '../../src/tools/sf-emulator'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { connection, rejection, startOrg, VERSION } from './helpers'

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })

function jwt(claims: Record<string, unknown>, key = privateKey): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const body = `${part({ alg: 'RS256' })}.${part(claims)}`
  return `${body}.${sign('RSA-SHA256', Buffer.from(body), key).toString('base64url')}`
}

let org: SfEmulator
const app = {
  clientId: 'footfall-sync',
  clientSecret: 'sync-secret',
  jwtPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
}

beforeAll(async () => {
  org = await startOrg({
    users: [{ username: 'sync@footfall.example', password: 'pw-and-token' }],
    apps: [app],
  })
})
afterAll(async () => {
  await org.close()
})

function conn(): Connection {
  return new Connection({
    version: VERSION,
    loginUrl: org.loginUrl,
    oauth2: { loginUrl: org.loginUrl, clientId: app.clientId, clientSecret: app.clientSecret },
  })
}

describe('OAuth token endpoint through jsforce', () => {
  it('password grant: id URL, signature, no refresh token, and the session works', async () => {
    const raw = await conn().oauth2.authenticate('sync@footfall.example', 'pw-and-token')
    expect(raw.token_type).toBe('Bearer')
    expect(raw.instance_url).toBe(org.instanceUrl)
    expect(raw.id).toMatch(new RegExp(`^${org.loginUrl}/id/00D\\w{15}/005\\w{15}$`))
    expect(raw.issued_at).toMatch(/^\d{13}$/)
    expect(raw.refresh_token).toBeUndefined()
    const expected = createHmac('sha256', app.clientSecret)
      .update(raw.id + raw.issued_at)
      .digest('base64')
    expect(raw.signature).toBe(expected)

    const c = conn()
    const user = await c.login('sync@footfall.example', 'pw-and-token')
    expect(user.organizationId).toBe(org.orgId)
    expect(user.id).toMatch(/^005\w{15}$/)
    const identity = await c.identity()
    expect(identity.username).toBe('sync@footfall.example')
    expect((await c.query('SELECT COUNT() FROM Account')).totalSize).toBe(0)
  })

  it('password grant failures carry the OAuth error as the error name', async () => {
    const bad = await rejection(conn().login('sync@footfall.example', 'wrong'))
    expect(bad.name).toBe('invalid_grant')
    expect(bad.message).toBe('authentication failure')

    const badSecret = new Connection({
      version: VERSION,
      oauth2: { loginUrl: org.loginUrl, clientId: app.clientId, clientSecret: 'nope' },
    })
    const e2 = await rejection(badSecret.login('sync@footfall.example', 'pw-and-token'))
    expect([e2.name, e2.message]).toEqual(['invalid_client', 'invalid client credentials'])

    const badClient = new Connection({
      version: VERSION,
      oauth2: { loginUrl: org.loginUrl, clientId: 'unknown', clientSecret: 'x' },
    })
    const e3 = await rejection(badClient.login('sync@footfall.example', 'pw-and-token'))
    expect([e3.name, e3.message]).toEqual(['invalid_client_id', 'client identifier invalid'])

    const e4 = await rejection(conn().authorize({ grant_type: 'implicit' }))
    expect([e4.name, e4.message]).toEqual(['unsupported_grant_type', 'grant type not supported'])
  })

  it('client_credentials grant runs as the configured user', async () => {
    const c = conn()
    const user = await c.authorize({ grant_type: 'client_credentials' })
    expect(user.organizationId).toBe(org.orgId)
    expect(c.refreshToken).toBeUndefined()
    expect((await c.query('SELECT Id FROM Account')).done).toBe(true)
  })

  it('client credentials may come as HTTP Basic', async () => {
    const res = await fetch(`${org.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { token_type: string }).token_type).toBe('Bearer')
  })

  it('refresh_token grant: a connection with only a refresh token gets a session on its first call', async () => {
    const refreshToken = org.admin.issueRefreshToken('sync@footfall.example', app.clientId)
    const c = new Connection({
      version: VERSION,
      instanceUrl: org.instanceUrl,
      refreshToken,
      oauth2: { loginUrl: org.loginUrl, clientId: app.clientId, clientSecret: app.clientSecret },
    })
    const refreshed: string[] = []
    c.on('refresh', (token: string) => refreshed.push(token))
    // No access token: the emulator answers 401 INVALID_SESSION_ID, jsforce refreshes and replays.
    expect((await c.query('SELECT COUNT() FROM Account')).totalSize).toBe(0)
    expect(refreshed).toHaveLength(1)
    expect(c.accessToken).toBe(refreshed[0])
    expect(c.userInfo?.organizationId).toBe(org.orgId)

    const e = await rejection(conn().oauth2.refreshToken('not-a-token'))
    expect([e.name, e.message]).toEqual(['invalid_grant', 'expired access/refresh token'])
  })

  it('JWT bearer grant with a signed assertion', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: app.clientId,
      sub: 'sync@footfall.example',
      aud: org.loginUrl,
      exp: now + 180,
    }
    const c = conn()
    const user = await c.authorize({ grant_type: JWT_GRANT, assertion: jwt(claims) })
    expect(user.id).toMatch(/^005/)
    expect(c.refreshToken).toBeUndefined()
    expect((await c.limits()).DailyApiRequests!.Max).toBe(SF_EMULATOR_DEFAULTS.dailyApiLimit)

    const cases: [Record<string, unknown>, string, string, typeof privateKey?][] = [
      [claims, 'invalid_grant', 'invalid assertion', other.privateKey],
      [{ ...claims, aud: 'https://example.com' }, 'invalid_grant', 'audience is invalid'],
      [{ ...claims, exp: now - 600 }, 'invalid_grant', 'expired authorization code'],
      [{ ...claims, iss: 'someone-else' }, 'invalid_client_id', 'client identifier invalid'],
      [{ ...claims, sub: 'nobody@x' }, 'invalid_grant', "user hasn't approved this consumer"],
    ]
    for (const [badClaims, name, message, key] of cases) {
      const e = await rejection(
        conn().authorize({ grant_type: JWT_GRANT, assertion: jwt(badClaims, key) }),
      )
      expect([e.name, e.message]).toEqual([name, message])
    }
  })

  it('a request without a valid session is 401 INVALID_SESSION_ID', async () => {
    const c = new Connection({
      version: VERSION,
      instanceUrl: org.instanceUrl,
      accessToken: 'bogus',
    })
    const e = await rejection(c.query('SELECT Id FROM Account'))
    expect(e.errorCode).toBe('INVALID_SESSION_ID')
    expect(e.message).toBe('Session expired or invalid')
  })

  it('the default demo org accepts the documented defaults', async () => {
    const demo = await startOrg()
    try {
      const c = connection(demo)
      await c.login(SF_EMULATOR_DEFAULTS.username, SF_EMULATOR_DEFAULTS.password)
      expect(c.instanceUrl).toBe(demo.instanceUrl)
    } finally {
      await demo.close()
    }
  })
})
