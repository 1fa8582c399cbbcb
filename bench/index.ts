import { benchIngest, reportIngest } from './ingest'

// `npm run bench`: performance targets live here, never in timed unit tests. Figures are
// reported as ratios against baselines measured in the same run.
const seconds = Number(process.env.BENCH_SECONDS ?? 10)

const ingest = reportIngest(await benchIngest(seconds))
process.stdout.write(`\n## Ingest (64 connections, ${seconds} s each)\n\n${ingest.text}\n`)
process.exitCode = ingest.pass ? 0 : 1
