import { Command, InvalidArgumentError } from 'commander'
import { resolve } from 'node:path'
import { CORE_DEFAULTS, startCore } from '../core/core'
import { lineLogger } from '../core/logger'
import { addSalesforceOptions, salesforceSettings, syncConfig } from './salesforce-options'
import type { SalesforceOptions } from './salesforce-options'
import { envOption, parsePort, parsePositiveInt, readSecretFile } from './options'

function parseSeconds(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0.1 || n > 86_400) {
    throw new InvalidArgumentError(`'${value}' is not a number of seconds between 0.1 and 86400`)
  }
  return n
}

interface ServeOptions extends SalesforceOptions {
  dataDir: string
  ingestHost: string
  ingestPort: number
  ingestToken?: string
  ingestTokenFile?: string
  maxBodyBytes: number
  bodyTimeoutMs: number
  commitMaxBatch: number
  processInterval: number
}

export function serveCommand(): Command {
  const command = new Command('serve')
    .description(
      'run the headless core in the foreground: ingest listener, event store, processing and (with --sf-login-url) the Salesforce sync',
    )
    .addOption(
      envOption('--data-dir <dir>', 'folder of the event store', 'FOOTFALL_DATA_DIR').default(
        './footfall-data',
      ),
    )
    .addOption(
      envOption(
        '--ingest-host <host>',
        'address the ingest listener binds',
        'FOOTFALL_INGEST_HOST',
      ).default(CORE_DEFAULTS.ingestHost),
    )
    .addOption(
      envOption(
        '--ingest-port <port>',
        'port of the ingest listener (0: a free one)',
        'FOOTFALL_INGEST_PORT',
      )
        .argParser(parsePort)
        .default(CORE_DEFAULTS.ingestPort),
    )
    .addOption(
      envOption(
        '--ingest-token <token>',
        'shared secret the integrator sends (Bearer, or Basic password)',
        'FOOTFALL_INGEST_TOKEN',
      ),
    )
    .addOption(
      envOption(
        '--ingest-token-file <file>',
        'read the ingest token from a file only its owner can read',
        'FOOTFALL_INGEST_TOKEN_FILE',
      ),
    )
    .addOption(
      envOption(
        '--max-body-bytes <n>',
        'largest request body accepted (larger: 413)',
        'FOOTFALL_MAX_BODY_BYTES',
      )
        .argParser(parsePositiveInt)
        .default(CORE_DEFAULTS.maxBodyBytes),
    )
    .addOption(
      envOption(
        '--body-timeout-ms <ms>',
        'time a request body may take to arrive (then 408)',
        'FOOTFALL_BODY_TIMEOUT_MS',
      )
        .argParser(parsePositiveInt)
        .default(CORE_DEFAULTS.bodyTimeoutMs),
    )
    .addOption(
      envOption(
        '--commit-max-batch <n>',
        'most events per commit (1 turns group commit off)',
        'FOOTFALL_COMMIT_MAX_BATCH',
      )
        .argParser(parsePositiveInt)
        .default(CORE_DEFAULTS.commitMaxBatch)
        .hideHelp(),
    )
    .addOption(
      envOption(
        '--process-interval <seconds>',
        'seconds between processing runs (events into visits, rollups, alerts)',
        'FOOTFALL_PROCESS_INTERVAL',
      )
        .argParser(parseSeconds)
        .default(CORE_DEFAULTS.processIntervalMs / 1000),
    )

  return addSalesforceOptions(command, true).action(async (opts: ServeOptions) => {
    const logger = lineLogger()
    const salesforce = salesforceSettings(opts)
    const token = opts.ingestTokenFile
      ? readSecretFile(opts.ingestTokenFile)
      : (opts.ingestToken ?? null)
    const core = await startCore({
      dataDir: opts.dataDir,
      ingestHost: opts.ingestHost,
      ingestPort: opts.ingestPort,
      ingestToken: token,
      maxBodyBytes: opts.maxBodyBytes,
      bodyTimeoutMs: opts.bodyTimeoutMs,
      commitMaxBatch: opts.commitMaxBatch,
      processIntervalMs: Math.round(opts.processInterval * 1000),
      salesforce,
      sync: syncConfig(opts),
      logger,
    })
    if (token === null)
      logger.warn('no ingest token set: accepting unauthenticated events on loopback only')
    process.stdout.write(
      `footfall ready: ingest ${core.ingestUrl}/events, data dir ${resolve(opts.dataDir)}\n`,
    )
    let signals = 0
    const shutdown = (signal: string): void => {
      signals += 1
      if (signals > 1) {
        logger.warn(`${signal} again: exiting without waiting`)
        process.exit(1)
      }
      logger.info(`${signal}: stopping; finishing acknowledged events`)
      core.stop().then(
        () => {
          logger.info('stopped cleanly')
          process.exit(0)
        },
        (error: unknown) => {
          logger.error(`stop failed: ${String(error)}`)
          process.exit(1)
        },
      )
    }
    process.on('SIGINT', () => shutdown('SIGINT'))
    process.on('SIGTERM', () => shutdown('SIGTERM'))
  })
}
