import { execFileSync, spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The ingest benchmark's load: wrk with post-events.lua, which POSTs the contract's samples, each
 * with a fresh random id and one of 10,000 customers, from a pool of requests built before the
 * clock starts (the script says why).
 *
 * Why wrk and not a load generator in Node (autocannon, used before): on two cores the generator
 * shares the CPU with the server it measures. autocannon spent about 50 us of CPU a request, as
 * much as the bare server itself; wrk spends 25-30, and 19-22 with its requests built beforehand.
 * The less the generator takes, the more the figures are the server's.
 */

const SAMPLES = join(import.meta.dirname, '../../../shared/contract/samples')
const SAMPLE_FILES = [
  '01-entered.json',
  '02-shopping.json',
  '03-checked-out.json',
  '04-exited.json',
]
const SCRIPT = join(import.meta.dirname, 'post-events.lua')

/** What post-events.lua prints when wrk is done (latencies in microseconds). */
export interface WrkResult {
  requests: number
  durationUs: number
  p50Us: number
  p99Us: number
  maxUs: number
  /** Answers with a status of 400 or more. */
  statusErrors: number
  socketErrors: number
  timeouts: number
  /** Requests built one by one after the pool ran out (0 when the pool was large enough). */
  builtOnTheFly: number
}

/**
 * Requests pooled per second of a run: above the fastest rate measured here (the bare server,
 * about 21,000 a second), so a run never outlasts its pool. Each takes about 700 bytes of wrk's
 * memory and 8 us to build before the run.
 */
export const POOL_PER_SECOND = 32_000

export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
  } catch (error) {
    // wrk --version exits 1 after printing; only a missing binary is a problem.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
  }
  return true
}

/** Fails at once, saying what to do, when wrk is not installed. */
export function checkWrk(): void {
  if (!hasWrk())
    throw new Error('the ingest benchmark drives its load with wrk: apt-get install -y wrk')
}

/** The samples as templates for post-events.lua, one a line, with the id and customer to fill. */
export function writeTemplates(dir: string): string {
  const lines = SAMPLE_FILES.map((f) => {
    const sample = JSON.parse(readFileSync(join(SAMPLES, f), 'utf8')) as Record<string, unknown>
    // Customers spread over 10,000 as a chain's traffic would be: processing runs beside ingest
    // in (d), as shipped, and one customer with every event would measure its worst case.
    return JSON.stringify({ ...sample, id: '@ID@', customer_id: '@CUSTOMER@' })
  })
  const path = join(dir, 'templates.jsonl')
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}

/**
 * Runs wrk (one thread, 64 connections) against `eventsUrl` for `seconds`, with `pool` requests
 * built beforehand.
 */
export function runWrk(
  eventsUrl: string,
  seconds: number,
  templates: string,
  token: string,
  { connections = 64, pool = seconds * POOL_PER_SECOND } = {},
): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', SCRIPT]
  args.push(eventsUrl, '--', templates, String(randomInt(1, 2 ** 31)), token, String(pool))
  return new Promise((resolve, reject) => {
    const wrk = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    wrk.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    wrk.on('error', reject)
    wrk.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('FOOTFALL-RESULT '))
      if (code !== 0 || !line) reject(new Error(`wrk exited ${code}: ${out}`))
      else resolve(JSON.parse(line.slice('FOOTFALL-RESULT '.length)) as WrkResult)
    })
  })
}
