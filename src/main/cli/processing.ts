import { Command, Option } from 'commander'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { AlertState } from '../core/processing/alert-store'
import { setAlertDismissed } from '../core/processing/alert-store'
import type { AlertDto } from '../core/processing/dto'
import { Processor } from '../core/processing/processor'
import { listAlerts } from '../core/processing/queries'
import {
  ReplayError,
  replayQuarantined,
  retryFailure,
  retryFailuresOfKind,
} from '../core/processing/retry'
import type { FailureCode } from '../core/processing/rules'
import { closeWritable, databasePath, openReadonly, openWritable } from '../core/store/database'
import type { WritableDB } from '../core/store/database'
import { StoreError } from '../core/store/store-error'
import { envOption, parsePositiveInt } from './options'

/**
 * What a person does about alerts from the command line: list them, retry failed events, replay
 * a corrected quarantined body, dismiss. Each works beside a running serve (they share the
 * store through SQLite's write lock) and processes what it changed at once, so the answer says
 * whether it worked rather than "wait for the next run".
 */

/**
 * A usage mistake found after parsing: one line and exit 2, like main's handler does for
 * parse errors (an InvalidArgumentError thrown from an action would exit 1 silently there).
 */
function usage(message: string): void {
  process.stderr.write(`footfall: ${message}\n`)
  process.exitCode = 2
}

const dataDirOption = (): Option =>
  envOption('--data-dir <dir>', 'folder of the event store', 'FOOTFALL_DATA_DIR').default(
    './footfall-data',
  )

function openExisting(dataDir: string): WritableDB {
  if (!existsSync(databasePath(dataDir))) {
    throw new StoreError(
      'store_missing',
      `no Footfall store in ${resolve(dataDir)}: point --data-dir at the folder \`footfall serve\` uses`,
    )
  }
  return openWritable(dataDir, { busyTimeoutMs: 30_000 })
}

/** Processes until caught up (the same batches serve runs; safe beside it). */
function processNow(db: WritableDB): void {
  const processor = new Processor(db)
  while (processor.runBatch()) {
    // each batch is its own transaction
  }
}

function printAlerts(alerts: AlertDto[]): void {
  for (const a of alerts) {
    process.stdout.write(
      `${a.severity.padEnd(7)} ${a.state.padEnd(9)} ${a.key}${a.count > 1 ? ` (x${a.count})` : ''}  last ${a.lastSeen}\n  ${a.message}\n`,
    )
  }
}

const STATES: readonly AlertState[] = ['open', 'retrying', 'resolved', 'dismissed']

export function alertsCommand(): Command {
  return new Command('alerts')
    .description('list alerts (default: open and retrying), newest first')
    .addOption(dataDirOption())
    .option('--kind <kind>', 'only this kind (e.g. processing_failure, quarantined_payload)')
    .option('--state <states>', `comma-separated: ${STATES.join(', ')}`, 'open,retrying')
    .option('--severity <severity>', 'info, warning or error')
    .option('--customer <id>', "only this customer's alerts")
    .addOption(
      new Option('--limit <n>', 'at most this many').argParser(parsePositiveInt).default(50),
    )
    .option('--json', 'one JSON array on stdout')
    .action(
      (opts: {
        dataDir: string
        kind?: string
        state: string
        severity?: string
        customer?: string
        limit: number
        json?: boolean
      }) => {
        const states = opts.state.split(',').map((s) => s.trim()) as AlertState[]
        const badState = states.find((st) => !STATES.includes(st))
        if (badState !== undefined) {
          usage(`'${badState}' is not an alert state (${STATES.join(', ')})`)
          return
        }
        if (opts.severity && !['info', 'warning', 'error'].includes(opts.severity)) {
          usage(`'${opts.severity}' is not a severity (info, warning, error)`)
          return
        }
        const db = openReadonly(opts.dataDir)
        try {
          const alerts = listAlerts(db, {
            state: states,
            limit: opts.limit,
            ...(opts.kind ? { kind: opts.kind } : {}),
            ...(opts.severity ? { severity: opts.severity as AlertDto['severity'] } : {}),
            ...(opts.customer ? { customerId: opts.customer } : {}),
          })
          if (opts.json) process.stdout.write(`${JSON.stringify(alerts)}\n`)
          else if (alerts.length === 0) process.stdout.write('no alerts\n')
          else printAlerts(alerts)
        } finally {
          db.close()
        }
      },
    )
}

const FAILURE_CODES: readonly FailureCode[] = [
  'invalid_payload',
  'payload_mismatch',
  'unknown_event',
  'internal_error',
]

export function retryCommand(): Command {
  return new Command('retry')
    .description('process failed events again, after fixing their cause; says what happened')
    .addOption(dataDirOption())
    .addOption(
      new Option('--event-seq <seq>', 'the failed event (its seq, shown in the alert)').argParser(
        parsePositiveInt,
      ),
    )
    .addOption(new Option('--kind <code>', 'every failure of this kind').choices(FAILURE_CODES))
    .action((opts: { dataDir: string; eventSeq?: number; kind?: FailureCode }) => {
      if ((opts.eventSeq === undefined) === (opts.kind === undefined)) {
        usage('give either --event-seq <seq> or --kind <code>')
        return
      }
      const db = openExisting(opts.dataDir)
      try {
        const asked =
          opts.eventSeq !== undefined
            ? retryFailure(db, opts.eventSeq)
            : retryFailuresOfKind(db, opts.kind as FailureCode)
        if (asked.failures === 0) {
          process.stdout.write('no unresolved failure matches: nothing to retry\n')
          return
        }
        processNow(db)
        const still = db
          .prepare(
            `SELECT event_seq, event_id, error FROM processing_failures
             WHERE state = 'failed' AND ${opts.eventSeq !== undefined ? 'event_seq = ?' : 'code = ?'}`,
          )
          .all(opts.eventSeq ?? opts.kind) as {
          event_seq: number
          event_id: string
          error: string
        }[]
        process.stdout.write(
          `retried ${asked.failures} failed event(s): ${asked.failures - still.length} processed, ${still.length} still failing\n`,
        )
        for (const s of still)
          process.stdout.write(`  seq ${s.event_seq} (${s.event_id}): ${s.error}\n`)
        if (still.length > 0) process.exitCode = 1
      } finally {
        closeWritable(db)
      }
    })
}

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      'replay a corrected quarantined body through the live validation; keeps the original',
    )
    .addOption(dataDirOption())
    .requiredOption(
      '--quarantine <seq>',
      'the quarantined payload (its number, shown in the alert)',
      parsePositiveInt,
    )
    .requiredOption('--file <file>', 'the corrected JSON event')
    .action((opts: { dataDir: string; quarantine: number; file: string }) => {
      const corrected = readFileSync(opts.file)
      const db = openExisting(opts.dataDir)
      try {
        const outcome = replayQuarantined(db, opts.quarantine, corrected)
        if (outcome.outcome === 'rejected') {
          process.stdout.write(`still not a valid event, nothing stored: ${outcome.reason}\n`)
          process.exitCode = 1
          return
        }
        processNow(db)
        process.stdout.write(
          outcome.outcome === 'stored'
            ? `stored and processed as event ${outcome.eventId}\n`
            : `event ${outcome.eventId} was already stored: counted as a duplicate, nothing new\n`,
        )
      } catch (error) {
        if (!(error instanceof ReplayError)) throw error
        process.stderr.write(`footfall: ${error.message}\n`)
        process.exitCode = 2
      } finally {
        closeWritable(db)
      }
    })
}

export function dismissCommand(): Command {
  return new Command('dismiss')
    .description('dismiss an alert (it stays dismissed, also through rebuilds); --undo reopens it')
    .addOption(dataDirOption())
    .argument('<key>', 'the alert key, as `footfall alerts` shows it')
    .option('--undo', 'reopen a dismissed alert')
    .action((key: string, opts: { dataDir: string; undo?: boolean }) => {
      const db = openExisting(opts.dataDir)
      try {
        const changed = setAlertDismissed(db, key, !opts.undo)
        process.stdout.write(
          changed
            ? `${opts.undo ? 'reopened' : 'dismissed'} ${key}\n`
            : `no ${opts.undo ? 'dismissed ' : ''}alert ${key} to ${opts.undo ? 'reopen' : 'dismiss'}\n`,
        )
        if (!changed) process.exitCode = 1
      } finally {
        closeWritable(db)
      }
    })
}
