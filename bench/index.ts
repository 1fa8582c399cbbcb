import { benchIngest, reportIngest } from './ingest'
import { benchProcessing } from './processing'
import { benchSync } from './sync'

// `npm run bench`: performance targets live here, never in timed unit tests. Figures are
// reported as ratios against baselines measured in the same run.
// BENCH_ONLY=ingest|processing|sync picks one part; BENCH_PROCESSING_CUSTOMERS sizes processing;
// BENCH_SECONDS, BENCH_INGEST_ROUNDS, BENCH_SYNC_SIZES and BENCH_DAY_EVENTS size them.
const only = process.env.BENCH_ONLY
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
let pass = true

if (!only || only === 'ingest') {
  const rounds = Number(process.env.BENCH_INGEST_ROUNDS ?? 3)
  const ingest = reportIngest(await benchIngest(seconds, rounds))
  process.stdout.write(
    `\n## Ingest (64 connections, ${seconds} s each, ${rounds} rounds of a, b, c)\n\n${ingest.text}\n`,
  )
  pass &&= ingest.pass
}

if (!only || only === 'processing') {
  const customers = Number(process.env.BENCH_PROCESSING_CUSTOMERS ?? 100_000)
  const processing = await benchProcessing(customers, seconds)
  process.stdout.write(`\n## Processing\n\n${processing.text}\n`)
  pass &&= processing.pass
}

if (!only || only === 'sync') {
  const sizes = (process.env.BENCH_SYNC_SIZES ?? '1000,10000,100000')
    .split(',')
    .map(Number)
    .filter((n) => n > 0)
  const dayEvents = Number(process.env.BENCH_DAY_EVENTS ?? 1_000_000)
  const sync = await benchSync(sizes, dayEvents)
  process.stdout.write(`\n## Salesforce sync\n\n${sync.text}\n`)
  pass &&= sync.pass
}

process.exitCode = pass ? 0 : 1
