import { once } from 'node:events'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { takeFastPath } from '../../src/main/core/ingest/fast-path'
import { readStoreStats } from '../../src/main/core/store/event-store'
import { startTestCore, TEST_TOKEN } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { freshEvent } from '../helpers/samples'

// The listener answers plain requests on the socket and passes every other connection to
// node:http (fast-path.ts). Over raw sockets, so the bytes and their timing are the test's: each
// case checks the answers, that every event is stored once, and where it matters which path
// served it.
let core: TestCore
let port = 0
beforeAll(async () => {
  core = await startTestCore({ processIntervalMs: 0 })
  port = Number(new URL(core.eventsUrl).port)
})
afterAll(() => core.dispose())

interface Response {
  status: number
  headers: Record<string, string>
  body: Record<string, unknown>
}

/** A whole POST /events as the integrator sends it, for a fresh event (its id returned too). */
function plain(extra: string[] = [], token = TEST_TOKEN): { bytes: Buffer; id: string } {
  const event = freshEvent()
  const body = JSON.stringify(event)
  const head = [
    'POST /events HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/json',
    `Authorization: Bearer ${token}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...extra,
  ]
  return { bytes: Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`), id: event.id as string }
}

/** Parses the responses read so far (Content-Length bodies; 1xx answers have none). */
function parseResponses(text: string): Response[] {
  const out: Response[] = []
  let at = 0
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at)
    if (end < 0) return out
    const [statusLine, ...lines] = text.slice(at, end).split('\r\n')
    const headers = Object.fromEntries(
      lines.map((l) => [
        l.slice(0, l.indexOf(':')).toLowerCase(),
        l.slice(l.indexOf(':') + 1).trim(),
      ]),
    )
    const length = Number(headers['content-length'] ?? 0)
    if (text.length < end + 4 + length) return out
    const body = text.slice(end + 4, end + 4 + length)
    out.push({
      status: Number(statusLine!.split(' ')[1]),
      headers,
      body: body ? (JSON.parse(body) as Record<string, unknown>) : {},
    })
    at = end + 4 + length
  }
}

/** Opens a connection that collects what the server answers. */
async function open(): Promise<{
  socket: Socket
  responses: () => Response[]
  closed: Promise<unknown>
}> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let text = ''
  socket.on('data', (d: Buffer) => (text += d.toString('utf8')))
  return { socket, responses: () => parseResponses(text), closed: once(socket, 'close') }
}

async function until(what: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !what(); i += 1) await sleep(10)
  expect(what()).toBe(true)
}

const storedOnce = (id: string) =>
  (core.db.prepare('SELECT count(*) AS n FROM events WHERE id = ?').get(id) as { n: number }).n

describe('the listener fast path', () => {
  it('answers a plain request itself, as node:http would', async () => {
    const before = { ...core.ingestPaths }
    const c = await open()
    const { bytes, id } = plain()
    c.socket.write(bytes)
    await until(() => c.responses().length === 1)
    const [r] = c.responses()
    expect(r).toMatchObject({ status: 201, body: { status: 'stored', id } })
    expect(r!.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(r!.headers.connection).toBe('keep-alive')
    expect(Date.parse(r!.headers.date!)).toBeGreaterThan(Date.now() - 60_000)
    expect(storedOnce(id)).toBe(1)
    expect(core.ingestPaths.answered).toBe(before.answered + 1)
    expect(core.ingestPaths.passedOn).toBe(before.passedOn)
    c.socket.destroy()
  })

  it('answers requests sent back to back in one write, in order', async () => {
    const c = await open()
    const sent = [plain(), plain(), plain()]
    c.socket.write(Buffer.concat(sent.map((s) => s.bytes)))
    await until(() => c.responses().length === 3)
    expect(c.responses().map((r) => r.body.id)).toEqual(sent.map((s) => s.id))
    for (const s of sent) expect(storedOnce(s.id)).toBe(1)
    c.socket.destroy()
  })

  it('passes a body still arriving to node:http, which stores it once', async () => {
    const before = { ...core.ingestPaths }
    const c = await open()
    const { bytes, id } = plain()
    const cut = bytes.indexOf('\r\n\r\n') + 10
    c.socket.write(bytes.subarray(0, cut))
    await sleep(50)
    c.socket.write(bytes.subarray(cut))
    await until(() => c.responses().length === 1)
    expect(c.responses()[0]).toMatchObject({ status: 201, body: { status: 'stored', id } })
    expect(storedOnce(id)).toBe(1)
    expect(core.ingestPaths.passedOn).toBe(before.passedOn + 1)
    c.socket.destroy()
  })

  it('passes on mid-connection: fast answers, then a chunked body and a split one, in order', async () => {
    const c = await open()
    const first = plain()
    const chunkedEvent = freshEvent()
    const chunkedBody = JSON.stringify(chunkedEvent)
    const chunked = Buffer.from(
      [
        'POST /events HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        `Authorization: Bearer ${TEST_TOKEN}`,
        'Transfer-Encoding: chunked',
        '',
        `${Buffer.byteLength(chunkedBody).toString(16)}`,
        chunkedBody,
        '0',
        '',
        '',
      ].join('\r\n'),
    )
    const last = plain()
    const cut = 30
    // One write: a plain request, a chunked one, and the start of a third.
    c.socket.write(Buffer.concat([first.bytes, chunked, last.bytes.subarray(0, cut)]))
    await sleep(50)
    c.socket.write(last.bytes.subarray(cut))
    await until(() => c.responses().length === 3)
    expect(c.responses().map((r) => [r.status, r.body.id])).toEqual([
      [201, first.id],
      [201, chunkedEvent.id],
      [201, last.id],
    ])
    for (const id of [first.id, chunkedEvent.id as string, last.id]) expect(storedOnce(id)).toBe(1)
    c.socket.destroy()
  })

  it('leaves refusals to node:http: a plain request, then a wrong token on the same connection', async () => {
    const before = readStoreStats(core.db)
    const c = await open()
    const ok = plain()
    const refused = plain([], 'not-the-token')
    c.socket.write(Buffer.concat([ok.bytes, refused.bytes]))
    await until(() => c.responses().length === 2)
    const [first, second] = c.responses()
    expect(first).toMatchObject({ status: 201, body: { id: ok.id } })
    expect(second).toMatchObject({ status: 401, body: { error: 'unauthorized' } })
    expect(second!.headers['www-authenticate']).toContain('Bearer')
    await c.closed // node:http closes after a refusal
    expect(storedOnce(refused.id)).toBe(0)
    expect(readStoreStats(core.db).rejected_auth).toBe(before.rejected_auth + 1)
  })

  it('leaves Expect: 100-continue to node:http', async () => {
    const c = await open()
    const { bytes, id } = plain(['Expect: 100-continue'])
    const headEnd = bytes.indexOf('\r\n\r\n') + 4
    c.socket.write(bytes.subarray(0, headEnd))
    await until(() => c.responses().some((r) => r.status === 100))
    c.socket.write(bytes.subarray(headEnd))
    await until(() => c.responses().some((r) => r.status === 201))
    expect(c.responses().find((r) => r.status === 201)?.body.id).toBe(id)
    expect(storedOnce(id)).toBe(1)
    c.socket.destroy()
  })

  it('answers a request whose sender then half-closes, and closes its side', async () => {
    const c = await open()
    const { bytes, id } = plain()
    c.socket.end(bytes)
    await c.closed
    expect(c.responses()).toEqual([expect.objectContaining({ status: 201 })])
    expect(storedOnce(id)).toBe(1)
  })

  it('answers every request in flight when it shuts down: stored means answered', async () => {
    const own = await startTestCore({ processIntervalMs: 0 })
    const ownPort = Number(new URL(own.eventsUrl).port)
    const sockets = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const socket = connect(ownPort, '127.0.0.1')
        await once(socket, 'connect')
        let text = ''
        socket.on('data', (d: Buffer) => (text += d.toString('utf8')))
        // A connection closed under a request in flight may be reset: it is counted below.
        socket.on('error', () => {})
        const closed = new Promise((resolve) => socket.on('close', resolve))
        return { socket, text: () => text, closed }
      }),
    )
    // Another writer holds the lock, so the requests wait in flight, read and not yet committed,
    // when the shutdown begins; it is let go before the commit thread's busy timeout.
    const blocker = new Database(join(own.dataDir, 'footfall.db'))
    blocker.exec('BEGIN IMMEDIATE')
    const sent = sockets.map(() => plain())
    sockets.forEach((c, i) => c.socket.write(sent[i]!.bytes))
    await sleep(300)
    const stopped = own.stop()
    await sleep(100)
    blocker.exec('ROLLBACK')
    blocker.close()
    await stopped
    await Promise.all(sockets.map((c) => c.closed))
    const answered = sockets.flatMap((c) =>
      parseResponses(c.text()).filter((r) => r.status === 201),
    )
    const db = new Database(join(own.dataDir, 'footfall.db'), { readonly: true })
    const ids = new Set(db.prepare('SELECT id FROM events').pluck().all() as string[])
    db.close()
    await own.dispose()
    expect(answered.map((r) => r.body.id).sort()).toEqual(
      sent
        .map((s) => s.id)
        .filter((id) => ids.has(id))
        .sort(),
    )
    expect(ids.size).toBe(answered.length)
    expect(ids.size).toBeGreaterThan(0) // the requests were in flight, not refused
  })

  it('stands aside when node:http does not serve connections as it expects', () => {
    const server = createServer()
    const extra = () => {}
    server.on('connection', extra) // a second listener: not the shape the fast path knows
    const before = server.listeners('connection')
    const fast = takeFastPath({
      server,
      maxBodyBytes: 1024,
      keepAliveTimeoutMs: 5000,
      answer: () => null,
      answered: () => {},
    })
    expect(fast).toBeNull()
    expect(server.listeners('connection')).toEqual(before) // node:http serves, as before
  })
})
