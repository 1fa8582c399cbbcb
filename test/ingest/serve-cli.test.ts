import { existsSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import { TEST_TOKEN } from '../helpers/core'
import { freshEvent } from '../helpers/samples'
import { runFootfallToEnd, spawnServe } from '../helpers/serve-process'
import { tempDir } from '../helpers/temp-dir'

const dirs: { cleanup: () => void }[] = []
const newDir = () => {
  const d = tempDir()
  dirs.push(d)
  return d.path
}
afterAll(() => dirs.forEach((d) => d.cleanup()))

const post = (url: string, body: object, token = TEST_TOKEN) =>
  fetch(`${url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('footfall serve and stats', () => {
  it('serves on a free port, reports stats while serving, and stops cleanly on SIGTERM', async () => {
    const dataDir = newDir()
    const serve = await spawnServe(['--data-dir', dataDir], { FOOTFALL_INGEST_TOKEN: TEST_TOKEN })
    expect(serve.ingestUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(serve.ingestUrl).not.toMatch(/:8787$/)
    expect((await post(serve.ingestUrl, freshEvent())).status).toBe(201)
    expect((await post(serve.ingestUrl, freshEvent(), 'wrong')).status).toBe(401)

    const stats = await runFootfallToEnd(['stats', '--data-dir', dataDir, '--json'])
    expect(stats.code).toBe(0)
    expect(JSON.parse(stats.stdout)).toMatchObject({
      events: 1,
      duplicates: 0,
      quarantined: 0,
      rejected_auth: 1,
      rejected_size: 0,
    })

    serve.child.kill('SIGTERM')
    expect(await serve.exited).toEqual({ code: 0, signal: null })
    expect(serve.stderr()).toContain('stopped cleanly')
    // The WAL was folded back into the database at close.
    const wal = `${dataDir}/footfall.db-wal`
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true)
  })

  it('answers everything it read before stopping on SIGINT, and refuses what comes after', async () => {
    const dataDir = newDir()
    const serve = await spawnServe(['--data-dir', dataDir, '--ingest-token', TEST_TOKEN])
    const events = Array.from({ length: 200 }, () => freshEvent())
    const answers = events.map((e) =>
      post(serve.ingestUrl, e).then(
        (r) => r.status,
        () => 0, // connection refused or reset: not acknowledged
      ),
    )
    setTimeout(() => serve.child.kill('SIGINT'), 5)
    const statuses = await Promise.all(answers)
    expect((await serve.exited).code).toBe(0)
    const acked = events.filter((_, i) => statuses[i] === 201).map((e) => e.id as string)
    expect(statuses.every((s) => s === 201 || s === 500 || s === 0)).toBe(true)

    const stats = await runFootfallToEnd(['stats', '--data-dir', dataDir, '--json'])
    expect((JSON.parse(stats.stdout) as { events: number }).events).toBe(acked.length)
  })

  it('refuses to listen beyond loopback without a token', async () => {
    const result = await runFootfallToEnd([
      'serve',
      '--data-dir',
      newDir(),
      '--ingest-host',
      '0.0.0.0',
      '--ingest-port',
      '0',
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('refusing to listen on 0.0.0.0 without an ingest token')
  })

  it('times out a half-sent body with 408 while other requests go on', async () => {
    const dataDir = newDir()
    const serve = await spawnServe([
      '--data-dir',
      dataDir,
      '--ingest-token',
      TEST_TOKEN,
      '--body-timeout-ms',
      '700',
    ])
    const url = new URL(`${serve.ingestUrl}/events`)
    const slow = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: '/events',
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-length': '500' },
        },
        (res) => resolve(res.statusCode ?? 0),
      )
      req.on('error', reject)
      req.write('{"id":"half-sent",') // and never the rest
    })
    // Meanwhile the store is not held: another event goes straight through.
    expect((await post(serve.ingestUrl, freshEvent())).status).toBe(201)
    expect(await slow).toBe(408)
    const stats = await runFootfallToEnd(['stats', '--data-dir', dataDir, '--json'])
    expect(JSON.parse(stats.stdout)).toMatchObject({
      events: 1,
      quarantined: 0,
      rejected_timeout: 1,
    })
    serve.child.kill('SIGTERM')
    await serve.exited
  })

  it.each([
    [
      'a token file others can read',
      (dir: string) => {
        writeFileSync(`${dir}/token`, 'secret\n', { mode: 0o644 })
        return ['--ingest-token-file', `${dir}/token`]
      },
      'can be read by others (mode 644): run `chmod 600',
    ],
    [
      'Salesforce settings without a client id',
      () => ['--sf-login-url', 'https://login.salesforce.com'],
      '--sf-client-id (FOOTFALL_SF_CLIENT_ID) is needed',
    ],
    [
      'Salesforce settings without a secret',
      () => ['--sf-login-url', 'https://login.salesforce.com', '--sf-client-id', 'x'],
      'without it jsforce would fall back to the SOAP login',
    ],
  ])('refuses %s with one clear line', async (_, args, message) => {
    const dir = newDir()
    const result = await runFootfallToEnd([
      'serve',
      '--data-dir',
      dir,
      '--ingest-port',
      '0',
      ...args(dir),
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('says clearly when there is no store to read', async () => {
    const result = await runFootfallToEnd(['stats', '--data-dir', `${newDir()}/nothing`, '--json'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('no Footfall store in')
  })

  it.each(['serve', 'stats'])(
    '%s --help lists its options and their environment variables',
    async (cmd) => {
      const result = await runFootfallToEnd([cmd, '--help'])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(`Usage: footfall ${cmd}`)
      expect(result.stdout).toMatch(/env:\s+FOOTFALL_DATA_DIR/)
    },
  )
})
