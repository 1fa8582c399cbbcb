import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStoreStats } from '../../src/main/core/store/event-store'
import { parseTimeElapsed } from '../../src/shared/event-time'
import { postEvent, startTestCore, TEST_TOKEN } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { freshEvent, SAMPLE_FILES, sampleBytes, sampleEvent } from '../helpers/samples'

// Every row of the answer table in EVENTS.md, over real HTTP into a real SQLite file.
let core: TestCore
beforeAll(async () => {
  core = await startTestCore({ maxBodyBytes: 4096 })
})
afterAll(() => core.dispose())

const stats = () => readStoreStats(core.db)
const storedRow = (id: string) =>
  core.db.prepare('SELECT * FROM events WHERE id = ?').get(id) as
    Record<string, unknown> | undefined
const lastQuarantined = () =>
  core.db.prepare('SELECT * FROM quarantine ORDER BY seq DESC LIMIT 1').get() as {
    reason: string
    raw: Buffer
    event_id: string | null
    content_type: string | null
  }

describe('answer table', () => {
  it('stores the four contract samples byte for byte and answers 201', async () => {
    for (const file of SAMPLE_FILES) {
      const bytes = sampleBytes(file)
      const answer = await postEvent(core.eventsUrl, new Uint8Array(bytes))
      const id = sampleEvent(file).id as string
      expect(answer).toEqual({ status: 201, body: { status: 'stored', id } })
      const row = storedRow(id)
      expect(Buffer.compare(row?.raw as Buffer, bytes)).toBe(0)
    }
    const exit = storedRow('6f1c2a9e-2d7b-4c55-9a0e-7c1f3b8d4e04')
    expect(exit).toMatchObject({
      name: 'customer.exited.store',
      customer_id: 'C-100234',
      store_id: 'S-017',
      occurred_at: '2026-11-21T14:24:30.000Z',
      occurred_ms: Date.parse('2026-11-21T14:24:30.000Z'),
      has_offset: 1,
      time_elapsed_s: 1278.75,
    })
  })

  it('answers 200 for an id already stored, keeps nothing new and counts the duplicate', async () => {
    const event = freshEvent()
    expect((await postEvent(core.eventsUrl, event)).status).toBe(201)
    const before = stats()
    const again = await postEvent(core.eventsUrl, { ...event, store_id: 'S-999' })
    expect(again).toEqual({ status: 200, body: { status: 'duplicate', id: event.id } })
    expect(stats().events).toBe(before.events)
    expect(stats().duplicates).toBe(before.duplicates + 1)
    // The first delivery wins: the duplicate's different payload is not kept.
    expect(storedRow(event.id as string)?.store_id).toBe('S-017')
    expect(storedRow(event.id as string)?.duplicate_deliveries).toBe(1)
  })

  it.each([
    ['an unknown name', { name: 'customer.left.store' }, '`name` is not one of'],
    ['a missing id', { id: undefined }, '`id` is missing'],
    [
      'a number as customer_id',
      { customer_id: 100234 },
      '`customer_id` must be a string, got a number 100234',
    ],
    [
      'a timestamp that is not ISO-8601',
      { timestamp: '21/11/2026 14:03' },
      "`timestamp` is not ISO-8601: '21/11/2026 14:03'",
    ],
    [
      'an impossible date',
      { timestamp: '2026-02-30T10:00:00Z' },
      "`timestamp` is not ISO-8601: '2026-02-30T10:00:00Z'",
    ],
    ['a checkout without items', { name: 'customer.checked.out' }, '`items` is missing'],
  ])(
    'quarantines a parseable body with %s, answers 202 with the reason',
    async (_, change, reason) => {
      const body = JSON.stringify(freshEvent('01-entered.json', change))
      const before = stats()
      const answer = await postEvent(core.eventsUrl, body)
      expect(answer.status).toBe(202)
      expect(answer.body.status).toBe('quarantined')
      expect(answer.body.reason).toContain(reason)
      const row = lastQuarantined()
      expect(row.raw.toString('utf8')).toBe(body)
      expect(row.reason).toContain(reason)
      expect(stats()).toMatchObject({ events: before.events, quarantined: before.quarantined + 1 })
    },
  )

  it('names every wrong field of a bad checkout line', async () => {
    const event = sampleEvent('03-checked-out.json')
    const items = [{ product_id: 'P-1', quantity: '2', unit_price: 1, currency: 'DOLLARS' }]
    const answer = await postEvent(core.eventsUrl, { ...event, id: 'bad-items', items })
    expect(answer.body.reason).toBe(
      "`items[0].quantity` must be a number, got a string '2'; `items[0].currency` is not a 3-letter currency code: 'DOLLARS'",
    )
    expect(lastQuarantined().event_id).toBe('bad-items')
  })

  it.each([
    ['not JSON', Buffer.from('id=1&name=customer.shopping'), 'body is not JSON'],
    [
      'JSON but an array',
      Buffer.from('[{"id":"x"}]'),
      'body is JSON but not an object: got an array',
    ],
    ['JSON but a string', Buffer.from('"hello"'), 'body is JSON but not an object: got a string'],
    ['empty', Buffer.alloc(0), 'body is empty'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'body is not valid UTF-8'],
  ])('quarantines a body that is %s, raw bytes kept exactly', async (_, bytes, reason) => {
    const answer = await postEvent(core.eventsUrl, new Uint8Array(bytes), {
      headers: { 'content-type': 'text/plain' },
    })
    expect(answer.status).toBe(202)
    expect(answer.body.reason).toContain(reason)
    const row = lastQuarantined()
    expect(Buffer.compare(row.raw, bytes)).toBe(0)
    expect(row.content_type).toBe('text/plain')
  })

  it('answers 401 to missing or wrong credentials, keeps nothing, counts each', async () => {
    const before = stats()
    const event = freshEvent()
    expect((await postEvent(core.eventsUrl, event, { token: null })).status).toBe(401)
    expect((await postEvent(core.eventsUrl, event, { token: 'wrong' })).status).toBe(401)
    expect((await postEvent(core.eventsUrl, event, { token: `${TEST_TOKEN}x` })).status).toBe(401)
    const basicWrong = Buffer.from(`integrator:nope`).toString('base64')
    const answer = await postEvent(core.eventsUrl, event, {
      token: null,
      headers: { authorization: `Basic ${basicWrong}` },
    })
    expect(answer.status).toBe(401)
    await core.committer.idle()
    expect(stats()).toMatchObject({
      events: before.events,
      quarantined: before.quarantined,
      rejected_auth: before.rejected_auth + 4,
    })
    expect(storedRow(event.id as string)).toBeUndefined()
  })

  it('accepts HTTP Basic with the token as password', async () => {
    const basic = Buffer.from(`integrator:${TEST_TOKEN}`).toString('base64')
    const answer = await postEvent(core.eventsUrl, freshEvent(), {
      token: null,
      headers: { authorization: `Basic ${basic}` },
    })
    expect(answer.status).toBe(201)
  })

  it('answers 413 to a body over the limit, declared or streamed, keeps nothing, counts it', async () => {
    const before = stats()
    const big = JSON.stringify(freshEvent('01-entered.json', { padding: 'x'.repeat(5000) }))
    expect((await postEvent(core.eventsUrl, big)).status).toBe(413)
    // Chunked, so no content-length announces the size: the reader has to stop it.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big))
        controller.close()
      },
    })
    const res = await fetch(core.eventsUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
      body: stream,
      duplex: 'half',
    })
    expect(res.status).toBe(413)
    await core.committer.idle()
    expect(stats()).toMatchObject({
      events: before.events,
      quarantined: before.quarantined,
      rejected_size: before.rejected_size + 2,
    })
  })

  it('answers 404 and 405 off the one route, and healthz for load balancers', async () => {
    expect((await fetch(`${core.ingestUrl}/event`, { method: 'POST' })).status).toBe(404)
    expect((await fetch(core.eventsUrl)).status).toBe(405)
    const health = await fetch(`${core.ingestUrl}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
  })
})

describe('the sender', () => {
  it.each([
    ['a number of seconds', 1278.75, 1278.75],
    ['a numeric string', '1278.75', 1278.75],
    ['an ISO-8601 duration', 'PT21M18.75S', 1278.75],
    ['HH:MM:SS.fff', '00:21:18.750', 1278.75],
    ['something unreadable (kept; processing derives TIS)', 'about 20 minutes', null],
  ])('time_elapsed as %s is stored', async (_, value, seconds) => {
    const event = freshEvent('04-exited.json', { time_elapsed: value })
    expect((await postEvent(core.eventsUrl, event)).status).toBe(201)
    expect(storedRow(event.id as string)?.time_elapsed_s).toBe(seconds)
    expect(parseTimeElapsed(value)).toBe(seconds)
  })

  it('keeps an event without store_id or offset (the unknown store; alert later), and extra keys', async () => {
    const event = freshEvent('02-shopping.json', {
      store_id: undefined,
      timestamp: '2026-11-21T14:05:40',
      aisle: 7,
    })
    expect((await postEvent(core.eventsUrl, event)).status).toBe(201)
    const row = storedRow(event.id as string)
    expect(row).toMatchObject({ store_id: null, has_offset: 0 })
    expect(row?.occurred_ms).toBe(Date.parse('2026-11-21T14:05:40Z'))
    expect(JSON.parse((row?.raw as Buffer).toString())).toMatchObject({ aisle: 7 })
  })

  it('reads offsets: the same instant in two zones', async () => {
    const a = freshEvent('01-entered.json', { timestamp: '2026-11-21T15:03:11.250+01:00' })
    expect((await postEvent(core.eventsUrl, a)).status).toBe(201)
    expect(storedRow(a.id as string)?.occurred_ms).toBe(Date.parse('2026-11-21T14:03:11.250Z'))
  })

  it('counts a resent sequence once', async () => {
    const sequence = SAMPLE_FILES.map((f) => sampleEvent(f)).map((e, i) => ({
      ...e,
      id: `resend-${i}`,
    }))
    const before = stats()
    for (const e of sequence) expect((await postEvent(core.eventsUrl, e)).status).toBe(201)
    for (const e of sequence) expect((await postEvent(core.eventsUrl, e)).status).toBe(200)
    expect(stats().events).toBe(before.events + 4)
    expect(stats().duplicates).toBe(before.duplicates + 4)
  })

  it('stores 50 concurrent deliveries of one id once, and answers every one 2xx', async () => {
    const event = freshEvent()
    const before = stats()
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => postEvent(core.eventsUrl, event)),
    )
    expect(answers.every((a) => a.status === 200 || a.status === 201)).toBe(true)
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1)
    expect(stats().events).toBe(before.events + 1)
    expect(stats().duplicates).toBe(before.duplicates + 49)
  })
})
