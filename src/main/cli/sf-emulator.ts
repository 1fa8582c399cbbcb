import { Command, InvalidArgumentError, Option } from 'commander'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { SF_EMULATOR_DEFAULTS, compileSchema, startSfEmulator } from '../../tools/sf-emulator/index'
import type { SchemaSpec } from '../../tools/sf-emulator/index'
import { SIMULATION_DEFAULTS, customerIds } from '../../tools/simulator/index'
import { ConfigError } from '../core/core'
import { envOption, parsePort, parsePositiveInt } from './options'

interface SfEmulatorCliOptions {
  host: string
  port: number
  dataDir: string
  memory?: boolean
  username: string
  password: string
  clientId: string
  clientSecret: string
  jwtPublicKeyFile?: string
  refreshToken?: string
  schema: 'footfall' | 'base'
  schemaFile?: string
  dailyApiLimit: number
  sessionTtlMinutes: number
  seedSimSeed?: number
  seedSimCustomers: number
  seedCustomersFile?: string
  unmatchedShare: number
}

function parseShare(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`'${value}' is not a share between 0 and 1 (0.1 is 10%)`)
  }
  return n
}

function parseWhole(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${value}' is not a whole number`)
  return n
}

/** A whole org schema as JSON (the shape of src/tools/sf-emulator/schema/base-org.json). */
function readSchema(path: string): SchemaSpec {
  try {
    const spec = JSON.parse(readFileSync(path, 'utf8')) as SchemaSpec
    compileSchema(spec)
    return spec
  } catch (error) {
    // Not InvalidArgumentError: thrown from an action, that one exits silently (it is a
    // CommanderError, which main.ts exits on without printing).
    throw new ConfigError(`${path}: ${(error as Error).message}`)
  }
}

/** Customer ids from a file: a JSON array, or one id a line. */
function readCustomerIds(path: string): string[] {
  const text = readFileSync(path, 'utf8')
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new ConfigError(`${path}: ${(error as Error).message}`)
    }
    if (!Array.isArray(parsed)) throw new ConfigError(`${path} is not a JSON array`)
    return parsed.map(String)
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
}

export function sfEmulatorCommand(): Command {
  const env = (name: string): string => `FOOTFALL_SF_EMULATOR_${name}`
  return new Command('sf-emulator')
    .description(
      'run a local Salesforce org that jsforce talks to as to the real API (OAuth, REST, collections, Bulk 2.0), with fault injection',
    )
    .addOption(
      envOption('--host <host>', 'address to bind', env('HOST')).default(SF_EMULATOR_DEFAULTS.host),
    )
    .addOption(
      envOption('--port <port>', 'port (0: a free one)', env('PORT'))
        .argParser(parsePort)
        .default(8089),
    )
    .addOption(
      envOption(
        '--data-dir <dir>',
        "folder of the emulated org's SQLite file",
        env('DATA_DIR'),
      ).default('./footfall-sf-emulator'),
    )
    .addOption(envOption('--memory', 'keep the org in memory only (no data dir)', env('MEMORY')))
    .addOption(
      envOption('--username <user>', 'the org user that logs in', env('USERNAME')).default(
        SF_EMULATOR_DEFAULTS.username,
      ),
    )
    .addOption(
      envOption('--password <password>', "that user's password", env('PASSWORD')).default(
        SF_EMULATOR_DEFAULTS.password,
      ),
    )
    .addOption(
      envOption('--client-id <id>', "the connected app's consumer key", env('CLIENT_ID')).default(
        SF_EMULATOR_DEFAULTS.clientId,
      ),
    )
    .addOption(
      envOption(
        '--client-secret <secret>',
        "the connected app's consumer secret",
        env('CLIENT_SECRET'),
      ).default(SF_EMULATOR_DEFAULTS.clientSecret),
    )
    .addOption(
      envOption(
        '--jwt-public-key-file <pem>',
        'certificate or public key (PEM) that verifies JWT bearer assertions',
        env('JWT_PUBLIC_KEY_FILE'),
      ),
    )
    .addOption(
      envOption(
        '--refresh-token <token>',
        'accept this refresh token for the user (the emulator has no browser flow to issue one)',
        env('REFRESH_TOKEN'),
      ),
    )
    .addOption(
      new Option('--schema <schema>', 'footfall: after the admin setup; base: before it')
        .choices(['footfall', 'base'])
        .env(env('SCHEMA'))
        .default('footfall'),
    )
    .addOption(
      envOption(
        '--schema-file <json>',
        'the org schema as JSON (objects, fields, types, lengths); overrides --schema',
        env('SCHEMA_FILE'),
      ),
    )
    .addOption(
      envOption(
        '--daily-api-limit <n>',
        'API requests allowed per rolling 24 h',
        env('DAILY_API_LIMIT'),
      )
        .argParser(parsePositiveInt)
        .default(SF_EMULATOR_DEFAULTS.dailyApiLimit),
    )
    .addOption(
      envOption(
        '--session-ttl-minutes <n>',
        'how long an access token lives',
        env('SESSION_TTL_MINUTES'),
      )
        .argParser(parsePositiveInt)
        .default(SF_EMULATOR_DEFAULTS.sessionTtlMs / 60_000),
    )
    .addOption(
      envOption(
        '--seed-sim-seed <n>',
        'create Accounts for the customers of `footfall simulate --seed <n>`',
        env('SEED_SIM_SEED'),
      ).argParser(parseWhole),
    )
    .addOption(
      envOption(
        '--seed-sim-customers <n>',
        'customer count of that simulator run',
        env('SEED_SIM_CUSTOMERS'),
      )
        .argParser(parsePositiveInt)
        .default(SIMULATION_DEFAULTS.customers),
    )
    .addOption(
      envOption(
        '--seed-customers-file <file>',
        'create Accounts for these customer ids (JSON array or one a line)',
        env('SEED_CUSTOMERS_FILE'),
      ),
    )
    .addOption(
      envOption(
        '--unmatched-share <share>',
        'share of seeded customers left without an Account (unmatched alerts)',
        env('UNMATCHED_SHARE'),
      )
        .argParser(parseShare)
        .default(0.1),
    )
    .action(async (opts: SfEmulatorCliOptions) => {
      const ids = [
        ...(opts.seedSimSeed !== undefined
          ? customerIds(opts.seedSimSeed, opts.seedSimCustomers)
          : []),
        ...(opts.seedCustomersFile ? readCustomerIds(opts.seedCustomersFile) : []),
      ]
      const emulator = await startSfEmulator({
        host: opts.host,
        port: opts.port,
        dataDir: opts.memory ? null : opts.dataDir,
        users: [{ username: opts.username, password: opts.password }],
        apps: [
          {
            clientId: opts.clientId,
            clientSecret: opts.clientSecret,
            ...(opts.jwtPublicKeyFile
              ? { jwtPublicKey: readFileSync(opts.jwtPublicKeyFile, 'utf8') }
              : {}),
          },
        ],
        schema: opts.schemaFile ? readSchema(opts.schemaFile) : opts.schema,
        dailyApiLimit: opts.dailyApiLimit,
        sessionTtlMs: opts.sessionTtlMinutes * 60_000,
      })
      if (opts.refreshToken) emulator.admin.registerRefreshToken(opts.refreshToken)
      const seeded =
        ids.length > 0
          ? emulator.admin.seedAccounts({ customerIds: ids, unmatchedShare: opts.unmatchedShare })
          : null
      const where = opts.memory ? 'in memory' : `data dir ${resolve(opts.dataDir)}`
      const seedNote = seeded
        ? `, seeded ${seeded.created} Accounts (${seeded.unmatched.length} customers left unmatched)`
        : ''
      process.stdout.write(
        `footfall sf-emulator ready: login ${emulator.loginUrl} user ${opts.username} client ${opts.clientId}, inspect ${emulator.loginUrl}/, ${where}${seedNote}\n`,
      )
      if (!['127.0.0.1', '::1', 'localhost'].includes(opts.host)) {
        process.stderr.write(
          `footfall sf-emulator: warning: ${opts.host} is not loopback; the /__admin endpoints (faults, seeding) have no authentication\n`,
        )
      }
      let stopping = false
      const shutdown = (signal: string): void => {
        if (stopping) process.exit(1)
        stopping = true
        process.stderr.write(`${new Date().toISOString()} info ${signal}: stopping the emulator\n`)
        emulator.close().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`footfall sf-emulator: stop failed: ${String(error)}\n`)
            process.exit(1)
          },
        )
      }
      process.on('SIGINT', () => shutdown('SIGINT'))
      process.on('SIGTERM', () => shutdown('SIGTERM'))
    })
}
