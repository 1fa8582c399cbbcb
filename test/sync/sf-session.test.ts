import { generateKeyPairSync } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { errorInfo, SfSession } from '../../src/main/core/sync/sf-session'
import { SF_EMULATOR_DEFAULTS } from '../../src/tools/sf-emulator'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { settingsFor, startOrg } from './helpers'

// The sync's login through each OAuth flow it supports, and its refresh when a session expires,
// with real jsforce against the emulated org.

let org: SfEmulator | null = null
afterEach(async () => {
  await org?.close()
  org = null
})

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString()
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

async function countAccounts(session: SfSession): Promise<number> {
  return (await session.queryAll<{ Id: string }>('SELECT Id FROM Account')).length
}

describe('SfSession', () => {
  it('logs in with username and password, counts its calls, and survives an expired session', async () => {
    org = await startOrg()
    org.admin.seedAccounts({ customerIds: ['C-1', 'C-2'], unmatchedShare: 0 })
    const session = await SfSession.login(settingsFor(org))
    expect(await countAccounts(session)).toBe(2)
    org.admin.expireSessions()
    expect(await countAccounts(session)).toBe(2) // jsforce logged in again and replayed
    expect(session.calls).toBe(2)
    expect(session.usage()?.max).toBe(SF_EMULATOR_DEFAULTS.dailyApiLimit)
  })

  it('logs in with the JWT bearer flow, and again after expiry', async () => {
    org = await startOrg({
      apps: [{ clientId: 'jwt-app', clientSecret: 'unused', jwtPublicKey: PUBLIC_PEM }],
    })
    const session = await SfSession.login({
      ...settingsFor(org),
      clientId: 'jwt-app',
      clientSecret: null,
      password: null,
      jwtPrivateKey: PRIVATE_PEM,
    })
    expect(await countAccounts(session)).toBe(0)
    org.admin.expireSessions()
    expect(await countAccounts(session)).toBe(0)
  })

  it('logs in with client credentials, and again after expiry', async () => {
    org = await startOrg()
    const session = await SfSession.login({ ...settingsFor(org), username: null, password: null })
    expect(await countAccounts(session)).toBe(0)
    org.admin.expireSessions()
    expect(await countAccounts(session)).toBe(0)
  })

  it('says why a login is refused, with the OAuth error code the classifier knows', async () => {
    org = await startOrg()
    const error = await SfSession.login({ ...settingsFor(org), clientSecret: 'wrong' }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(errorInfo(error)).toMatchObject({
      code: 'invalid_client',
      message: 'invalid client credentials',
    })
    const badPassword = await SfSession.login({ ...settingsFor(org), password: 'wrong' }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(errorInfo(badPassword)).toMatchObject({
      code: 'invalid_grant',
      message: 'authentication failure',
    })
  })
})
