import { Command, InvalidArgumentError, Option } from 'commander'
import { parseTimestamp } from '../../shared/event-time'
import {
  ELAPSED_FORMATS,
  SIMULATION_DEFAULTS,
  Simulation,
  eventsUrl,
  maxEventsPerSecond,
  progressLine,
} from '../../tools/simulator/index'
import type { ElapsedFormat, SimulationSummary } from '../../tools/simulator/index'
import { envOption, parsePositiveInt, readSecretFile } from './options'

interface SimulateOptions {
  target: string
  token?: string
  tokenFile?: string
  stores: number
  customers: number
  rate: number
  duration?: number
  events?: number
  speed: number
  seed?: number
  start?: number
  resendRate: number
  badRate: number
  missingStoreRate: number
  elapsedFormat: ElapsedFormat
  openingHours: 'auto' | 'on' | 'off'
  coldStart?: boolean
  currency: string
  concurrency: number
  timeoutMs: number
  retryMinMs: number
  retryMaxMs: number
  drainTimeout: number
  manifest?: string
  json?: boolean
  progress: boolean
}

function parsePositiveNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`'${value}' is not a number above 0`)
  return n
}

function parseRate(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`'${value}' is not a share between 0 and 1 (0.05 is 5%)`)
  }
  return n
}

function parseSeed(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${value}' is not a whole number`)
  return n
}

function parseStart(value: string): number {
  if (value === 'now') return Date.now()
  const parsed = parseTimestamp(value)
  if (!parsed) {
    throw new InvalidArgumentError(
      `'${value}' is not an ISO-8601 time (2026-11-21T08:00:00Z) or 'now'`,
    )
  }
  return parsed.epochMs
}

function parseTarget(value: string): string {
  try {
    eventsUrl(value)
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message)
  }
  return value
}

const env = (name: string): string => `FOOTFALL_SIMULATE_${name}`

function printSummary(s: SimulationSummary): void {
  const lines = [
    `seed ${s.seed} (add --seed ${s.seed} --start ${s.simStart} to replay the same stream)`,
    `simulated ${s.simStart} .. ${s.simEnd} in ${s.realSeconds.toFixed(1)} s`,
    `visits ${s.visits}, customers seen ${s.customersSeen}`,
    `planned ${s.planned.events} events + ${s.planned.resends} resent + ${s.planned.bad} malformed`,
    `requests ${s.requests}, acknowledged ${s.acknowledged} (stored ${s.stored}, duplicate ${s.duplicate}, quarantined ${s.quarantined}), ${s.ackedPerSecond} acks/s`,
    `retried ${s.retried}, refused ${s.refused}, abandoned ${s.abandoned}`,
  ]
  if (s.unservedArrivals > 0) {
    lines.push(
      `note: ${s.unservedArrivals} visits could not start because every customer picked was busy; raise --customers (or --speed) for this --rate`,
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

export function simulateCommand(): Command {
  const d = SIMULATION_DEFAULTS
  return new Command('simulate')
    .description(
      'send a simulated event stream that behaves like the store-side integrator (see docs/simulator.md)',
    )
    .addOption(
      envOption('--target <url>', 'ingest listener (base URL or …/events)', env('TARGET'))
        .argParser(parseTarget)
        .default('http://127.0.0.1:8787'),
    )
    .addOption(envOption('--token <token>', 'ingest token (Bearer)', 'FOOTFALL_INGEST_TOKEN'))
    .addOption(
      envOption(
        '--token-file <file>',
        'read the ingest token from a file only its owner can read',
        'FOOTFALL_INGEST_TOKEN_FILE',
      ),
    )
    .addOption(
      envOption('--stores <n>', 'number of stores', env('STORES'))
        .argParser(parsePositiveInt)
        .default(d.stores),
    )
    .addOption(
      envOption('--customers <n>', 'number of registered customers', env('CUSTOMERS'))
        .argParser(parsePositiveInt)
        .default(d.customers),
    )
    .addOption(
      envOption(
        '--rate <events_per_s>',
        'average events per second while stores are open',
        env('RATE'),
      )
        .argParser(parsePositiveNumber)
        .default(d.rate),
    )
    .addOption(
      envOption('--duration <s>', 'stop taking new events after this many seconds', env('DURATION'))
        .argParser(parsePositiveNumber)
        .conflicts('events'),
    )
    .addOption(
      envOption('--events <n>', 'stop after this many valid events', env('EVENTS')).argParser(
        parsePositiveInt,
      ),
    )
    .addOption(
      envOption(
        '--speed <x>',
        'simulated clock runs x times faster (60: an hour a minute)',
        env('SPEED'),
      )
        .argParser(parsePositiveNumber)
        .default(d.speed),
    )
    .addOption(
      envOption(
        '--seed <n>',
        'seed: same seed, same customers, journeys and ids',
        env('SEED'),
      ).argParser(parseSeed),
    )
    .addOption(
      envOption(
        '--start <time>',
        'simulated start, ISO-8601 (default: now)',
        env('START'),
      ).argParser(parseStart),
    )
    .addOption(
      envOption(
        '--resend-rate <r>',
        'share of visits sent again whole, same ids',
        env('RESEND_RATE'),
      )
        .argParser(parseRate)
        .default(d.resendRate),
    )
    .addOption(
      envOption('--bad-rate <r>', 'extra malformed requests per valid event', env('BAD_RATE'))
        .argParser(parseRate)
        .default(d.badRate),
    )
    .addOption(
      envOption(
        '--missing-store-rate <r>',
        'share of events sent without store_id',
        env('MISSING_STORE_RATE'),
      )
        .argParser(parseRate)
        .default(d.missingStoreRate),
    )
    .addOption(
      envOption('--elapsed-format <form>', 'time_elapsed as', env('ELAPSED_FORMAT'))
        .choices(ELAPSED_FORMATS)
        .default(d.elapsedFormat),
    )
    .addOption(
      envOption(
        '--opening-hours <mode>',
        'auto: follow opening hours only when faster than real time; on; off (always open)',
        env('OPENING_HOURS'),
      )
        .choices(['auto', 'on', 'off'])
        .default('auto'),
    )
    .addOption(
      envOption(
        '--cold-start',
        'start with empty stores (default: visits under way at the start are sent first)',
        env('COLD_START'),
      ),
    )
    .addOption(
      envOption('--currency <code>', 'currency of prices', env('CURRENCY')).default(d.currency),
    )
    .addOption(
      envOption(
        '--concurrency <n>',
        'requests in flight at most (one per customer)',
        env('CONCURRENCY'),
      )
        .argParser(parsePositiveInt)
        .default(d.concurrency),
    )
    .addOption(
      envOption(
        '--timeout-ms <ms>',
        'a request without an answer by then is retried',
        env('TIMEOUT_MS'),
      )
        .argParser(parsePositiveInt)
        .default(d.timeoutMs),
    )
    .addOption(
      envOption(
        '--retry-min-ms <ms>',
        'first retry delay (doubles per failure)',
        env('RETRY_MIN_MS'),
      )
        .argParser(parsePositiveInt)
        .default(d.retryMinMs),
    )
    .addOption(
      envOption('--retry-max-ms <ms>', 'longest retry delay', env('RETRY_MAX_MS'))
        .argParser(parsePositiveInt)
        .default(d.retryMaxMs),
    )
    .addOption(
      envOption(
        '--drain-timeout <s>',
        'after the stream ends, keep retrying this long',
        env('DRAIN_TIMEOUT'),
      )
        .argParser(parsePositiveNumber)
        .default(d.drainTimeoutS),
    )
    .addOption(
      envOption(
        '--manifest <file>',
        'write every delivery and its answer (JSON lines)',
        env('MANIFEST'),
      ),
    )
    .addOption(envOption('--json', 'print the summary as one JSON object on stdout', env('JSON')))
    .addOption(
      new Option('--no-progress', 'no live progress line on stderr').env(env('NO_PROGRESS')),
    )
    .action(async (opts: SimulateOptions) => {
      if (!/^[A-Za-z]{3}$/.test(opts.currency)) {
        throw new InvalidArgumentError(`--currency '${opts.currency}' is not a 3-letter code`)
      }
      if (opts.retryMaxMs < opts.retryMinMs) {
        throw new InvalidArgumentError('--retry-max-ms is below --retry-min-ms')
      }
      const token = opts.tokenFile ? readSecretFile(opts.tokenFile) : (opts.token ?? null)
      // A random seed is still a seed: the summary prints it so a run can be replayed.
      const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31)
      const simulation = new Simulation({
        target: opts.target,
        token,
        stores: opts.stores,
        customers: opts.customers,
        rate: opts.rate,
        speed: opts.speed,
        seed,
        startMs: opts.start ?? Date.now(),
        durationS: opts.duration,
        events: opts.events,
        resendRate: opts.resendRate,
        badRate: opts.badRate,
        missingStoreRate: opts.missingStoreRate,
        elapsedFormat: opts.elapsedFormat,
        openingHours: opts.openingHours === 'auto' ? undefined : opts.openingHours === 'on',
        currency: opts.currency.toUpperCase(),
        concurrency: opts.concurrency,
        timeoutMs: opts.timeoutMs,
        retryMinMs: opts.retryMinMs,
        retryMaxMs: opts.retryMaxMs,
        drainTimeoutS: opts.drainTimeout,
        manifestPath: opts.manifest,
        coldStart: opts.coldStart === true,
      })
      const capacity = maxEventsPerSecond(opts.customers, opts.speed)
      if (opts.rate > 0.8 * capacity) {
        const needed = Math.ceil((opts.customers * opts.rate) / (0.8 * capacity))
        process.stderr.write(
          `note: ${opts.customers} customers can make about ${capacity.toFixed(1)} events/s at --speed ${opts.speed} (a visit and a pause take about 1.5 simulated hours); for --rate ${opts.rate} use --customers ${needed} or a higher --speed\n`,
        )
      }
      const first = simulation.firstEventAt()
      const waitS = simulation.clock.realDelayUntil(first) / 1000
      if (Number.isFinite(first) && waitS > 5) {
        process.stderr.write(
          `note: stores are closed; the first visit starts at ${new Date(first).toISOString()} (simulated), about ${Math.round(waitS)} s from now. --start or --opening-hours off starts traffic at once\n`,
        )
      }
      const progress = opts.progress ? progressLine(() => simulation.progress()) : null
      let signals = 0
      const onSignal = (): void => {
        signals += 1
        process.stderr.write(
          signals === 1
            ? '\nstopping: finishing what is queued (Ctrl-C again to give up)\n'
            : '\ngiving up: what is unacknowledged is recorded as abandoned\n',
        )
        simulation.stop()
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      progress?.start()
      let summary: SimulationSummary
      try {
        summary = await simulation.run()
      } finally {
        progress?.stop()
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
      else printSummary(summary)
      if (summary.fatal) {
        process.stderr.write(`footfall: ${summary.fatal}\n`)
        process.exitCode = 2
      } else if (summary.abandoned > 0 || summary.refused > 0) {
        process.stderr.write(
          `footfall: ${summary.abandoned} deliveries abandoned, ${summary.refused} refused: not everything was acknowledged\n`,
        )
        process.exitCode = 1
      }
    })
}
