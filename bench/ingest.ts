import autocannon from 'autocannon'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { startServer } from './child'

/**
 * Ingest throughput: (a) a bare server that parses and answers without storing, (b) Footfall's
 * listener with durable group commits, (c) a naive listener committing each request on its own
 * in its request handler (same validation, schema and durability), and for reference (c2)
 * Footfall's listener with one request per commit (its commit thread still pipelines them).
 * Same run, same machine, same load: 64 connections posting the contract's samples, fresh ids.
 */

const SAMPLES = join(import.meta.dirname, '../../shared/contract/samples')
const samples = [
  '01-entered.json',
  '02-shopping.json',
  '03-checked-out.json',
  '04-exited.json',
].map((f) => JSON.parse(readFileSync(join(SAMPLES, f), 'utf8')) as Record<string, unknown>)
const TOKEN = 'bench-token'

export interface LoadResult {
  name: string
  eventsPerSec: number
  p50: number
  p99: number
  max: number
  ok: number
  errors: number
  stored: number | null
}

function load(url: string, seconds: number): Promise<autocannon.Result> {
  let n = 0
  return autocannon({
    url: `${url}/events`,
    connections: 64,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        setupRequest: (req) => ({
          ...req,
          // Fresh ids, and customers spread over 10,000 as a chain's traffic would be: processing
          // runs beside ingest in (b) and (c), as shipped, and one customer with every event
          // would measure processing's worst case instead of the listener.
          body: JSON.stringify({
            ...samples[n++ % samples.length],
            id: randomUUID(),
            customer_id: `C-${String(Math.floor(Math.random() * 10_000)).padStart(5, '0')}`,
          }),
        }),
      },
    ],
  })
}

async function measure(
  name: string,
  script: string,
  args: string[],
  seconds: number,
  dataDir: string | null,
): Promise<LoadResult> {
  const server = await startServer(script, args)
  try {
    await load(server.url, 2) // warm up: JIT, connection setup, first WAL pages
    const r = await load(server.url, seconds)
    await server.stop()
    let stored: number | null = null
    if (dataDir) {
      const db = new Database(join(dataDir, 'footfall.db'), { readonly: true })
      stored = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n
      db.close()
    }
    return {
      name,
      eventsPerSec: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      ok: r['2xx'],
      errors: r.errors + r.non2xx + r.timeouts,
      stored,
    }
  } finally {
    server.child.kill('SIGKILL')
  }
}

export async function benchIngest(seconds: number): Promise<LoadResult[]> {
  const dirs = ['b', 'c', 'd', 'c2'].map((x) => mkdtempSync(join(tmpdir(), `ff-bench-${x}-`)))
  // (b) and (c) measure the listener: processing is paused (a day's interval). (d) is the core
  // as shipped, processing every 5 s on its own thread beside ingest on the same two cores.
  const serveArgs = (dir: string, processInterval = '86400') => [
    'serve',
    '--data-dir',
    dir,
    '--ingest-port',
    '0',
    '--ingest-token',
    TOKEN,
    '--process-interval',
    processInterval,
  ]
  try {
    const a = await measure(
      '(a) bare parse + 202',
      'bin/run-ts.js',
      ['bench/servers/bare-server.ts'],
      seconds,
      null,
    )
    const b = await measure(
      '(b) footfall, group commit',
      'bin/footfall.js',
      serveArgs(dirs[0]!),
      seconds,
      dirs[0]!,
    )
    const c = await measure(
      '(c) naive: commit per request, in the handler',
      'bin/run-ts.js',
      ['bench/servers/naive-server.ts', dirs[1]!],
      seconds,
      dirs[1]!,
    )
    const d = await measure(
      '(d) footfall as shipped: (b) with processing every 5 s',
      'bin/footfall.js',
      serveArgs(dirs[2]!, '5'),
      seconds,
      dirs[2]!,
    )
    const c2 = await measure(
      '(c2) footfall, one request per commit (pipelined)',
      'bin/footfall.js',
      [...serveArgs(dirs[3]!), '--commit-max-batch', '1'],
      seconds,
      dirs[3]!,
    )
    return [a, b, c, d, c2]
  } finally {
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))
  }
}

export function reportIngest(results: LoadResult[]): { text: string; pass: boolean } {
  const [a, b, c, d, c2] = results as [LoadResult, LoadResult, LoadResult, LoadResult, LoadResult]
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${Math.round(r.eventsPerSec)} | ${r.p50} | ${r.p99} | ${r.max} | ${r.errors} | ${r.stored ?? '-'} |`,
  )
  const ba = b.eventsPerSec / a.eventsPerSec
  const bc = b.eventsPerSec / c.eventsPerSec
  const checks = [
    [`b/a = ${ba.toFixed(2)}`, ba >= 0.5, '>= 0.5'],
    [`b/c = ${bc.toFixed(1)}`, bc >= 5, '>= 5'],
    [`p99 of b = ${b.p99} ms`, b.p99 <= 20, '<= 20 ms'],
  ] as const
  const da = d.eventsPerSec / a.eventsPerSec
  // Every 2xx the load generator counted must be in the store (warm-up included, so >=).
  const durable = [b, c, d, c2].every((r) => r.stored !== null && r.stored >= r.ok)
  const text = [
    '| listener | events/s | p50 ms | p99 ms | max ms | errors | stored |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    ...checks.map(([what, ok, target]) => `${ok ? 'PASS' : 'FAIL'}  ${what} (target ${target})`),
    `${durable ? 'PASS' : 'FAIL'}  every acknowledged event is in the store`,
    `info  with processing beside it (d): d/a = ${da.toFixed(2)}, p99 ${d.p99} ms, max ${d.max} ms, ${d.errors} errors`,
    `info  grouping alone, same thread design (c2): b/c2 = ${(b.eventsPerSec / c2.eventsPerSec).toFixed(1)}`,
  ].join('\n')
  return { text, pass: checks.every(([, ok]) => ok) && durable }
}
