import type { ChildProcess } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { runFootfall, runFootfallToEnd, spawnServe } from '../helpers/serve-process'
import type { ServeProcess } from '../helpers/serve-process'
import { tempDir } from '../helpers/temp-dir'

// The demo as a person runs it, three real processes: the emulated org seeded with the
// simulator's customers, `footfall serve` syncing to it, and `footfall simulate` sending.

const dir = tempDir()
const children: ChildProcess[] = []
afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null) {
      const gone = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await gone
    }
  }
  dir.cleanup()
})

function startEmulator(): Promise<string> {
  const child = runFootfall([
    'sf-emulator',
    '--memory',
    '--port',
    '0',
    '--seed-sim-seed',
    '5',
    '--seed-sim-customers',
    '300',
    '--unmatched-share',
    '0.1',
  ])
  children.push(child)
  child.stderr?.resume() // its request log: an unread pipe would fill and stall the org
  let out = ''
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m?.[1]) resolve(m[1])
    })
    child.once('exit', (code) => reject(new Error(`sf-emulator exited ${code}`)))
  })
}

interface Stats {
  events: number
  accounts_synced: number
  sync_pending: number
  sync_failed: number
  unmatched_customers: number
  api_calls_today: number
  api_calls_forecast_per_day: number
  processed_through: { seq: number }
}
const stats = async (): Promise<Stats> =>
  JSON.parse((await runFootfallToEnd(['stats', '--data-dir', dir.path, '--json'])).stdout) as Stats

describe('the demo: emulator, serve with sync, simulate', () => {
  it('ends with Accounts synced, unmatched customers counted, nothing failed', async () => {
    const loginUrl = await startEmulator()
    const check = await runFootfallToEnd(['sf-check', '--sf-login-url', loginUrl], {
      FOOTFALL_SF_CLIENT_ID: 'footfall-demo-client-id',
      FOOTFALL_SF_CLIENT_SECRET: 'footfall-demo-client-secret',
      FOOTFALL_SF_USERNAME: 'footfall@example.com',
      FOOTFALL_SF_PASSWORD: 'footfall-demo',
    })
    expect(check.stdout).toContain('setup: complete')
    expect(check.code).toBe(0)

    const serve: ServeProcess = await spawnServe(
      [
        '--data-dir',
        dir.path,
        '--ingest-token',
        'demo',
        '--process-interval',
        '0.2',
        '--sync-interval',
        '0.5',
      ],
      {
        FOOTFALL_SF_LOGIN_URL: loginUrl,
        FOOTFALL_SF_CLIENT_ID: 'footfall-demo-client-id',
        FOOTFALL_SF_CLIENT_SECRET: 'footfall-demo-client-secret',
        FOOTFALL_SF_USERNAME: 'footfall@example.com',
        FOOTFALL_SF_PASSWORD: 'footfall-demo',
      },
    )
    children.push(serve.child)
    const sim = await runFootfallToEnd([
      'simulate',
      '--target',
      serve.ingestUrl,
      '--token',
      'demo',
      '--seed',
      '5',
      '--customers',
      '300',
      '--events',
      '400',
      '--speed',
      '3600',
      '--rate',
      '400',
      '--start',
      '2026-11-21T09:00:00Z',
      '--no-progress',
      '--json',
    ])
    expect(sim.code).toBe(0)

    // Processing runs every 0.2 s and sync every 0.5 s: wait until both have caught up.
    const deadline = Date.now() + 45_000
    let s = await stats()
    while (!(
      s.sync_pending === 0 &&
      s.accounts_synced > 0 &&
      s.processed_through.seq === s.events
    )) {
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 250))
      s = await stats()
    }
    expect(s.events).toBeGreaterThanOrEqual(400)
    expect(s.accounts_synced).toBeGreaterThan(10)
    expect(s.unmatched_customers).toBeGreaterThan(0)
    expect(s).toMatchObject({ sync_failed: 0 })
    expect(s.api_calls_today).toBeGreaterThan(0)
    expect(s.api_calls_forecast_per_day).toBe(s.api_calls_today * 24) // all in the last hour
    expect(serve.stderr()).toContain('sync on: http://127.0.0.1')
    expect(serve.stderr()).not.toContain('footfall-demo') // the password is never logged
  }, 90_000)
})
