import { spawn } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Connection } from 'jsforce'
import { afterAll, describe, expect, it } from 'vitest'
import { VERSION } from './helpers'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const dir = mkdtempSync(join(tmpdir(), 'sf-emulator-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function start(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcessWithoutNullStreams; ready: Promise<string> } {
  const child = spawn(process.execPath, ['bin/footfall.js', 'sf-emulator', ...args], {
    env: { ...process.env, ...env },
  })
  const ready = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`exited with ${code} before the ready line`)))
  })
  return { child, ready }
}

const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  new Promise((resolve) => child.once('exit', (code) => resolve(code)))

describe('footfall sf-emulator', () => {
  it('prints one ready line, serves jsforce with options from the environment, stops cleanly on SIGTERM', async () => {
    const keyFile = join(dir, 'jwt.pem')
    writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }))
    const { child, ready } = start(
      [
        '--port',
        '0',
        '--data-dir',
        dir,
        '--seed-sim-seed',
        '7',
        '--seed-sim-customers',
        '40',
        '--jwt-public-key-file',
        keyFile,
      ],
      {
        FOOTFALL_SF_EMULATOR_USERNAME: 'demo@shop.example',
        FOOTFALL_SF_EMULATOR_PASSWORD: 'secret-pw',
        FOOTFALL_SF_EMULATOR_CLIENT_ID: 'cli-client',
        FOOTFALL_SF_EMULATOR_CLIENT_SECRET: 'cli-secret',
        FOOTFALL_SF_EMULATOR_UNMATCHED_SHARE: '0.5',
      },
    )
    const line = await ready
    expect(line).toMatch(
      /^footfall sf-emulator ready: login http:\/\/127\.0\.0\.1:\d+ user demo@shop\.example client cli-client, /,
    )
    const loginUrl = /login (\S+)/.exec(line)![1]!
    const seeded = Number(/seeded (\d+) Accounts/.exec(line)![1])
    expect(seeded).toBeGreaterThan(5)
    expect(seeded).toBeLessThan(35)

    const conn = new Connection({
      version: VERSION,
      oauth2: { loginUrl, clientId: 'cli-client', clientSecret: 'cli-secret' },
    })
    await conn.login('demo@shop.example', 'secret-pw')
    expect((await conn.query('SELECT COUNT() FROM Account')).totalSize).toBe(seeded)

    const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
    const claims = {
      iss: 'cli-client',
      sub: 'demo@shop.example',
      aud: loginUrl,
      exp: Math.floor(Date.now() / 1000) + 120,
    }
    const body = `${part({ alg: 'RS256' })}.${part(claims)}`
    const assertion = `${body}.${sign('RSA-SHA256', Buffer.from(body), privateKey).toString('base64url')}`
    const jwtConn = new Connection({
      version: VERSION,
      oauth2: { loginUrl, clientId: 'cli-client', clientSecret: 'cli-secret' },
    })
    await jwtConn.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    })
    expect((await jwtConn.query('SELECT COUNT() FROM Account')).totalSize).toBe(seeded)

    const code = exited(child)
    child.kill('SIGTERM')
    expect(await code).toBe(0)
  })

  it('refuses a port in use with one line and exit code 2', async () => {
    const first = start(['--port', '0', '--memory'])
    const port = /:(\d+) /.exec(await first.ready)![1]!
    try {
      const second = start(['--port', port, '--memory'])
      let stderr = ''
      second.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      expect(await exited(second.child)).toBe(2)
      expect(stderr).toMatch(/EADDRINUSE/)
      await second.ready.catch(() => undefined)
    } finally {
      const code = exited(first.child)
      first.child.kill('SIGINT')
      expect(await code).toBe(0)
    }
  })

  it('a broken --schema-file is one line and exit code 2', async () => {
    const file = join(dir, 'schema.json')
    writeFileSync(
      file,
      JSON.stringify({
        objects: {
          Account: { label: 'A', labelPlural: 'As', keyPrefix: '0011', custom: false, fields: [] },
        },
      }),
    )
    const { child, ready } = start(['--port', '0', '--memory', '--schema-file', file])
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    expect(await exited(child)).toBe(2)
    expect(stderr.trim()).toBe(`footfall: ${file}: Account: key prefix must be 3 characters`)
    await ready.catch(() => undefined)
  })
})
