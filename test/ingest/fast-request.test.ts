import { once } from 'node:events'
import { createServer } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_HEAD_BYTES, parseFastRequest } from '../../src/main/core/ingest/fast-request'

const BODY = '{"id":"e-1","name":"customer.shopping"}'
const MAX = 256 * 1024

/** A request as the integrator sends one, with fields to change. */
function request(
  fields: [string, string][] = [],
  { line = 'POST /events HTTP/1.1', body = BODY } = {},
): Buffer {
  const base: [string, string][] = [
    ['Host', '127.0.0.1:8787'],
    ['Content-Type', 'application/json'],
    ['Authorization', 'Bearer t0ken'],
    ['Content-Length', String(Buffer.byteLength(body))],
  ]
  const names = new Set(fields.map(([n]) => n.toLowerCase()))
  const all = [...base.filter(([n]) => !names.has(n.toLowerCase())), ...fields]
  return Buffer.from(`${line}\r\n${all.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n${body}`)
}

/** A request from its head's lines as they are, with a plain body. */
const raw = (...lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${BODY}`)
const HEAD = ['POST /events HTTP/1.1', 'Host: x', `Content-Length: ${BODY.length}`]

const parse = (buf: Buffer, max = MAX) => parseFastRequest(buf, 0, max)

describe('parseFastRequest: what the fast path answers itself', () => {
  it('reads a plain POST /events: its authorization, content type and body', () => {
    const buf = request()
    const r = parse(buf)
    expect(r).not.toBeNull()
    expect(r?.authorization).toBe('Bearer t0ken')
    expect(r?.contentType).toBe('application/json')
    expect(r?.body.toString()).toBe(BODY)
    expect(r?.next).toBe(buf.length)
  })

  it('reads field names in any case and trims the whitespace around values', () => {
    const r = parse(
      request([
        ['aUTHORIZATION', '  \tBearer t0ken \t'],
        ['content-TYPE', 'application/json; charset=utf-8 '],
        ['X-Other', ''],
      ]),
    )
    expect(r?.authorization).toBe('Bearer t0ken')
    expect(r?.contentType).toBe('application/json; charset=utf-8')
  })

  it('reads requests one after another from the same bytes', () => {
    const first = request()
    const second = request([], { body: '{"id":"e-2"}' })
    const both = Buffer.concat([first, second])
    const r1 = parse(both)
    expect(r1?.next).toBe(first.length)
    const r2 = parseFastRequest(both, r1!.next, MAX)
    expect(r2?.body.toString()).toBe('{"id":"e-2"}')
    expect(r2?.next).toBe(both.length)
  })

  it('has no authorization or content type when they are not sent', () => {
    expect(parse(raw(...HEAD))).toMatchObject({ authorization: undefined, contentType: null })
  })

  // Each of these goes to node:http, which answers it as the answer table says.
  const passes: [string, Buffer][] = [
    ['another method', request([], { line: 'PUT /events HTTP/1.1' })],
    ['another path', request([], { line: 'POST /event HTTP/1.1' })],
    ['a query string', request([], { line: 'POST /events?x=1 HTTP/1.1' })],
    ['HTTP/1.0', request([], { line: 'POST /events HTTP/1.0' })],
    ['a lower-case method', request([], { line: 'post /events HTTP/1.1' })],
    ['no Host', Buffer.from(`POST /events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}`)],
    ['two Hosts', raw(...HEAD, 'Host: y')],
    ['no Content-Length', Buffer.from(`POST /events HTTP/1.1\r\nHost: x\r\n\r\n`)],
    ['Content-Length 0', request([], { body: '' })],
    ['a Content-Length that is not digits', request([['Content-Length', '+39']])],
    ['a Content-Length given twice', raw(...HEAD, `content-length: ${BODY.length}`)],
    ['a list for Content-Length', request([['Content-Length', `${BODY.length}, ${BODY.length}`]])],
    ['Transfer-Encoding', request([['Transfer-Encoding', 'chunked']])],
    ['Expect', request([['Expect', '100-continue']])],
    ['Upgrade', request([['Upgrade', 'websocket']])],
    ['Connection: close', request([['Connection', 'close']])],
    ['a folded field line', request([['X-Fold', 'a\r\n b']])],
    ['a field name with a space', request([['X Bad', 'v']])],
    ['a field line without a colon', raw(...HEAD, 'X-Bad')],
    ['a field line starting with a colon', raw(...HEAD, ': v')],
    ['a control character in a value', request([['X-Bad', 'a\u0001b']])],
    ['a bare LF in a value', request([['X-Bad', 'a\nb']])],
    [
      'an authorization given twice',
      raw(...HEAD, 'Authorization: Bearer a', 'authorization: Bearer a'),
    ],
    ['a content type given twice', raw(...HEAD, 'Content-Type: a/b', 'Content-Type: a/b')],
    ['a body over the limit', request([], { body: 'x'.repeat(2000) })],
  ]

  for (const [why, req] of passes) {
    it(`passes on ${why}`, () => {
      expect(parse(req, 1024)).toBeNull()
    })
  }

  it('passes on a request not yet whole: head or body still arriving', () => {
    const whole = request()
    const headEnd = whole.indexOf('\r\n\r\n')
    for (const cut of [0, 5, headEnd, headEnd + 2, headEnd + 4, whole.length - 1])
      expect(parse(whole.subarray(0, cut))).toBeNull()
  })

  it('passes on a head longer than node:http allows', () => {
    expect(parse(request([['X-Long', 'x'.repeat(MAX_HEAD_BYTES)]]))).toBeNull()
    expect(parse(request([['X-Long', 'x'.repeat(MAX_HEAD_BYTES - 300)]]))).not.toBeNull()
  })
})

// What the fast path reads from a request must be what node:http reads from the same bytes.
describe('parseFastRequest agrees with node:http', () => {
  let port = 0
  const seen: { authorization?: string; contentType?: string; body: string }[] = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('latin1'),
      })
      res.end()
    })
  })
  beforeAll(async () => {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  /** Sends raw bytes; resolves with what node:http read, or null when it refused them. */
  async function throughNode(bytes: Buffer) {
    const before = seen.length
    const socket = connect(port, '127.0.0.1')
    socket.end(bytes)
    let answer = ''
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')))
    await once(socket, 'close')
    return answer.startsWith('HTTP/1.1 200') && seen.length > before ? seen[before]! : null
  }

  const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t')
  const anyCase = (s: string) =>
    fc
      .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
      .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''))
  const value = fc.string({
    unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', ';', '=', '/', 'é', '\u0001'),
    maxLength: 12,
  })
  const extra = fc.tuple(
    fc.constantFrom('X-Trace', 'User-Agent', 'Accept', 'X-Forwarded-For'),
    value,
  )

  it('on the fields it reads, for requests it accepts', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyCase('authorization'),
        value,
        anyCase('content-type'),
        value,
        ows,
        ows,
        fc.array(extra, { maxLength: 3 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        async (authName, auth, typeName, type, before, after, extras, body) => {
          const bytes = request(
            [
              [authName, `${before}${auth}${after}`],
              [typeName, `${before}${type}${after}`],
              ...extras,
            ],
            { body },
          )
          const fast = parse(bytes)
          if (!fast) return // node:http decides these; the integration tests check its answers
          const node = await throughNode(bytes)
          expect(node).not.toBeNull()
          expect(fast.authorization).toBe(node!.authorization)
          expect(fast.contentType).toBe(node!.contentType)
          expect(fast.body.toString('latin1')).toBe(node!.body)
        },
      ),
      { numRuns: 150 },
    )
  })
})
