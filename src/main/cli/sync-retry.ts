import { Command, InvalidArgumentError } from 'commander'
import { openWritable, closeWritable } from '../core/store/database'
import { markEverythingForResync, retrySyncRecords } from '../core/sync/sync-service'
import type { SyncKind } from '../core/sync/sync-store'
import { envOption } from './options'

const KINDS: readonly SyncKind[] = ['account', 'visit', 'visit_removal']

interface RetryOptions {
  dataDir: string
  record?: string
  errorCode?: string
  allFailed?: boolean
  resyncEverything?: boolean
}

export function syncRetryCommand(): Command {
  return new Command('sync-retry')
    .description(
      'make failed Salesforce writes due again (a running `serve` picks them up on its next sync run)',
    )
    .addOption(
      envOption('--data-dir <dir>', 'folder of the event store', 'FOOTFALL_DATA_DIR').default(
        './footfall-data',
      ),
    )
    .option('--record <kind:key>', 'one record: account:<customer id> or visit:<visit key>')
    .option('--error-code <code>', 'every failed record with this Salesforce error code')
    .option('--all-failed', 'every failed or retrying record')
    .option(
      '--resync-everything',
      'forget what was written and every Account match; rewrite all (a backfill)',
    )
    .action((opts: RetryOptions) => {
      const chosen = [opts.record, opts.errorCode, opts.allFailed, opts.resyncEverything].filter(
        Boolean,
      )
      if (chosen.length !== 1) {
        throw new InvalidArgumentError(
          'choose one of --record, --error-code, --all-failed, --resync-everything',
        )
      }
      const db = openWritable(opts.dataDir)
      try {
        if (opts.resyncEverything) {
          markEverythingForResync(db)
          process.stdout.write('everything will be rewritten by the next sync runs\n')
          return
        }
        let changed: number
        if (opts.record) {
          const colon = opts.record.indexOf(':')
          const kind = opts.record.slice(0, colon) as SyncKind
          if (colon < 0 || !KINDS.includes(kind)) {
            throw new InvalidArgumentError(
              `--record '${opts.record}' is not kind:key (kinds: ${KINDS.join(', ')})`,
            )
          }
          changed = retrySyncRecords(db, { kind, key: opts.record.slice(colon + 1) })
        } else {
          changed = retrySyncRecords(db, { errorCode: opts.errorCode ?? null })
        }
        process.stdout.write(`${changed} record(s) due again at the next sync run\n`)
        if (changed === 0) process.exitCode = 1
      } finally {
        closeWritable(db)
      }
    })
}
