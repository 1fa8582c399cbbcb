import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simulateCommand } from '../../src/main/cli/simulate'
import { readManifest } from '../../src/tools/simulator/index'
import { TOKEN, recordingListener, tempDir } from './helpers'
import type { RecordingListener } from './helpers'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'footfall.js')

function footfall(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'simulate', ...args],
      // Only what the test sets: a FOOTFALL_* variable of the developer's shell must not leak in.
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('footfall simulate', () => {
  const dir = tempDir('cli')
  let listener: RecordingListener
  let refusing: RecordingListener

  beforeAll(async () => {
    listener = await recordingListener()
    refusing = await recordingListener(() => 401)
  })

  afterAll(async () => {
    await listener?.close()
    await refusing?.close()
    dir.remove()
  })

  it('runs from environment variables alone and writes a manifest', async () => {
    const manifestPath = join(dir.path, 'm.jsonl')
    const result = await footfall(['--json', '--no-progress'], {
      FOOTFALL_SIMULATE_TARGET: listener.url,
      FOOTFALL_INGEST_TOKEN: TOKEN,
      FOOTFALL_SIMULATE_EVENTS: '60',
      FOOTFALL_SIMULATE_SPEED: '3600',
      FOOTFALL_SIMULATE_RATE: '200',
      FOOTFALL_SIMULATE_SEED: '99',
      FOOTFALL_SIMULATE_START: '2026-11-21T10:00:00Z',
      FOOTFALL_SIMULATE_BAD_RATE: '0.1',
      FOOTFALL_SIMULATE_MANIFEST: manifestPath,
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const summary = JSON.parse(result.stdout) as Record<string, unknown>
    expect(summary).toMatchObject({ seed: 99, abandoned: 0, fatal: null })
    expect((summary.planned as { events: number }).events).toBe(60)
    const manifest = readManifest(manifestPath)
    expect(manifest.run).toMatchObject({ seed: 99, events: 60, bad_rate: 0.1 })
    expect(manifest.deliveries).toHaveLength(listener.received.length)
    expect(manifest.deliveries.filter((d) => d.kind === 'event')).toHaveLength(60)
    expect(manifest.summary).toMatchObject({ acknowledged: listener.received.length })
  })

  it('Ctrl-C stops taking new events, finishes what is queued and prints the summary', async () => {
    const before = listener.received.length
    const child = spawn(
      process.execPath,
      [BIN, 'simulate', '--target', listener.url, '--token', TOKEN, '--json', '--no-progress'],
      { env: { PATH: process.env.PATH ?? '', FOOTFALL_SIMULATE_OPENING_HOURS: 'off' } },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    // wait until it is sending (the warm start sends the visits under way at once)
    const deadline = Date.now() + 15_000
    while (listener.received.length === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(stderr).toContain('stopping: finishing what is queued')
    expect(code).toBe(0)
    const summary = JSON.parse(stdout) as { acknowledged: number; abandoned: number }
    expect(summary.abandoned).toBe(0)
    expect(summary.acknowledged).toBe(listener.received.length - before)
    expect(summary.acknowledged).toBeGreaterThan(0)
  })

  it('stops with a clear message when the listener refuses the token', async () => {
    const result = await footfall([
      '--target',
      refusing.url,
      '--token',
      'wrong',
      '--events',
      '20',
      '--speed',
      '3600',
      '--rate',
      '100',
      '--start',
      '2026-11-21T12:00:00Z',
      '--no-progress',
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('answered 401')
    expect(result.stderr).toContain('check --token')
    expect(result.stderr).not.toContain('    at ')
  })

  it('refuses a bad option with one clear line and no stack', async () => {
    const result = await footfall(['--bad-rate', '2'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('not a share between 0 and 1')
    expect(result.stderr).not.toContain('    at ')
  })

  it('explains each bad option (parsed in-process by the same command)', async () => {
    const cases: [string[], string][] = [
      [['--target', 'ftp://example.org'], 'not an http(s) URL'],
      [['--target', 'not a url'], 'is not a URL'],
      [['--speed', '0'], 'not a number above 0'],
      [['--rate', 'fast'], 'not a number above 0'],
      [['--customers', '2.5'], 'not a positive whole number'],
      [['--seed', 'abc'], 'not a whole number'],
      [['--elapsed-format', 'minutes'], 'Allowed choices are seconds, iso, clock, mixed'],
      [['--opening-hours', 'sometimes'], 'Allowed choices are auto, on, off'],
      [['--events', '5', '--duration', '3'], "cannot be used with option '--events"],
      [['--start', 'tomorrow'], 'not an ISO-8601 time'],
      [['--currency', 'dollars', '--events', '1'], 'not a 3-letter code'],
      [['--retry-min-ms', '500', '--retry-max-ms', '100', '--events', '1'], 'below --retry-min-ms'],
    ]
    for (const [args, message] of cases) {
      let errors = ''
      const command = simulateCommand()
        .exitOverride()
        .configureOutput({ writeErr: (text) => (errors += text), writeOut: () => undefined })
      const error = await command.parseAsync(args, { from: 'user' }).then(
        () => null,
        (e: unknown) => e as Error,
      )
      expect(error, args.join(' ')).not.toBeNull()
      expect(`${errors} ${error!.message}`, args.join(' ')).toContain(message)
    }
  })
})
