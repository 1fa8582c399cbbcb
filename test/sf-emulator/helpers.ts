import { Connection } from 'jsforce'
import { SF_EMULATOR_DEFAULTS, startSfEmulator } from '../../src/tools/sf-emulator'
import type { SfEmulator, SfEmulatorOptions } from '../../src/tools/sf-emulator'

export const VERSION = '62.0'

export function startOrg(options: SfEmulatorOptions = {}): Promise<SfEmulator> {
  return startSfEmulator({ host: '127.0.0.1', port: 0, bulkProcessingDelayMs: 50, ...options })
}

/** A jsforce connection set up as Footfall's sync engine will be: OAuth client, fixed version. */
export function connection(org: SfEmulator): Connection {
  return new Connection({
    loginUrl: org.loginUrl,
    version: VERSION,
    oauth2: {
      loginUrl: org.loginUrl,
      clientId: org.apps[0]!.clientId,
      clientSecret: org.apps[0]!.clientSecret,
    },
  })
}

/** Logs in with the password grant, as `conn.login()` does with an OAuth client configured. */
export async function loggedIn(org: SfEmulator): Promise<Connection> {
  const conn = connection(org)
  await conn.login(SF_EMULATOR_DEFAULTS.username, SF_EMULATOR_DEFAULTS.password)
  return conn
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(
  promise: PromiseLike<unknown>,
): Promise<Error & { errorCode?: string; data?: unknown }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { errorCode?: string; data?: unknown }
  }
  throw new Error('expected a rejection, got a result')
}

/**
 * A record error's code. The REST API names it `statusCode`; jsforce's SaveError type says
 * `errorCode`, which the real collections answer does not carry.
 */
export function statusCode(error: unknown): string {
  return (error as { statusCode: string }).statusCode
}
