import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { DEFAULT_API_VERSION, SYNC_DEFAULTS } from '../core/sync/settings'
import type { SalesforceSettings, SyncConfig } from '../core/sync/settings'
import { envOption, readSecretFile } from './options'

export interface SalesforceOptions {
  sfLoginUrl?: string
  sfUsername?: string
  sfPassword?: string
  sfPasswordFile?: string
  sfClientId?: string
  sfClientSecret?: string
  sfClientSecretFile?: string
  sfJwtKeyFile?: string
  sfApiVersion: string
  syncInterval: number
  syncReserve: number
  syncBulkThreshold: number
}

function parseShare(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0 || n >= 1)
    throw new InvalidArgumentError(`'${value}' is not a share between 0 and 1 (0.2 is 20%)`)
  return n
}

function parseSeconds(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`'${value}' is not a number of seconds`)
  return n
}

function parseCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`'${value}' is not a positive whole number`)
  return n
}

function parseApiVersion(value: string): string {
  if (!/^\d{2}\.0$/.test(value))
    throw new InvalidArgumentError(`'${value}' is not an API version like ${DEFAULT_API_VERSION}`)
  return value
}

/** The connection options, shared by `serve` (for the sync) and `sf-check`. */
export function addSalesforceOptions(command: Command, withSync: boolean): Command {
  command
    .addOption(
      envOption(
        '--sf-login-url <url>',
        'Salesforce login URL (https://login.salesforce.com, a My Domain, or the emulator); unset: sync is off',
        'FOOTFALL_SF_LOGIN_URL',
      ),
    )
    .addOption(
      envOption(
        '--sf-username <user>',
        'integration user (password and JWT flows)',
        'FOOTFALL_SF_USERNAME',
      ),
    )
    .addOption(
      envOption(
        '--sf-password <password>',
        'its password (with security token if the org needs one)',
        'FOOTFALL_SF_PASSWORD',
      ),
    )
    .addOption(
      envOption(
        '--sf-password-file <file>',
        'read the password from a file only its owner can read',
        'FOOTFALL_SF_PASSWORD_FILE',
      ),
    )
    .addOption(
      envOption('--sf-client-id <id>', "the connected app's consumer key", 'FOOTFALL_SF_CLIENT_ID'),
    )
    .addOption(
      envOption(
        '--sf-client-secret <secret>',
        "the connected app's consumer secret",
        'FOOTFALL_SF_CLIENT_SECRET',
      ),
    )
    .addOption(
      envOption(
        '--sf-client-secret-file <file>',
        'read the consumer secret from a file only its owner can read',
        'FOOTFALL_SF_CLIENT_SECRET_FILE',
      ),
    )
    .addOption(
      envOption(
        '--sf-jwt-key-file <file>',
        'private key (PEM) for the JWT bearer flow instead of a password',
        'FOOTFALL_SF_JWT_KEY_FILE',
      ),
    )
    .addOption(
      envOption('--sf-api-version <version>', 'REST API version', 'FOOTFALL_SF_API_VERSION')
        .argParser(parseApiVersion)
        .default(DEFAULT_API_VERSION),
    )
  if (withSync) {
    command
      .addOption(
        envOption(
          '--sync-interval <seconds>',
          'seconds between sync runs',
          'FOOTFALL_SYNC_INTERVAL',
        )
          .argParser(parseSeconds)
          .default(SYNC_DEFAULTS.intervalMs / 1000),
      )
      .addOption(
        envOption(
          '--sync-reserve <share>',
          "share of the org's daily API allocation left to its other integrations",
          'FOOTFALL_SYNC_RESERVE',
        )
          .argParser(parseShare)
          .default(SYNC_DEFAULTS.reserveShare),
      )
      .addOption(
        envOption(
          '--sync-bulk-threshold <n>',
          'records of one kind in a run above which Bulk API 2.0 is used',
          'FOOTFALL_SYNC_BULK_THRESHOLD',
        )
          .argParser(parseCount)
          .default(SYNC_DEFAULTS.bulkThreshold),
      )
  }
  return command
}

/** The settings, or null when no login URL is set (sync off). Incomplete settings are an error. */
export function salesforceSettings(opts: SalesforceOptions): SalesforceSettings | null {
  if (!opts.sfLoginUrl) return null
  let url: URL
  try {
    url = new URL(opts.sfLoginUrl)
  } catch {
    throw new InvalidArgumentError(`--sf-login-url '${opts.sfLoginUrl}' is not a URL`)
  }
  if (!opts.sfClientId) {
    throw new InvalidArgumentError(
      '--sf-client-id (FOOTFALL_SF_CLIENT_ID) is needed with --sf-login-url: the consumer key of the connected app (README: Salesforce setup)',
    )
  }
  const password = opts.sfPasswordFile
    ? readSecretFile(opts.sfPasswordFile)
    : (opts.sfPassword ?? null)
  const clientSecret = opts.sfClientSecretFile
    ? readSecretFile(opts.sfClientSecretFile)
    : (opts.sfClientSecret ?? null)
  const jwtPrivateKey = opts.sfJwtKeyFile ? readSecretFile(opts.sfJwtKeyFile) : null
  if (!jwtPrivateKey && !clientSecret) {
    throw new InvalidArgumentError(
      '--sf-client-secret (or --sf-client-secret-file, or --sf-jwt-key-file) is needed: without it jsforce would fall back to the SOAP login',
    )
  }
  if (jwtPrivateKey && !opts.sfUsername)
    throw new InvalidArgumentError(
      '--sf-jwt-key-file needs --sf-username (the user the token is for)',
    )
  if (!jwtPrivateKey && opts.sfUsername && password === null)
    throw new InvalidArgumentError('--sf-username needs --sf-password or --sf-password-file')
  return {
    loginUrl: url.origin,
    apiVersion: opts.sfApiVersion,
    clientId: opts.sfClientId,
    clientSecret,
    username: opts.sfUsername ?? null,
    password,
    jwtPrivateKey,
  }
}

export function syncConfig(opts: SalesforceOptions): SyncConfig {
  return {
    ...SYNC_DEFAULTS,
    intervalMs: Math.round(opts.syncInterval * 1000),
    reserveShare: opts.syncReserve,
    bulkThreshold: opts.syncBulkThreshold,
  }
}
