import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { customerJourney, listAlerts } from '../../src/main/core/processing/queries'
import {
  replayQuarantined,
  retryFailure,
  retryFailuresOfKind,
} from '../../src/main/core/processing/retry'
import { readProcessingStats } from '../../src/main/core/processing/stats'
import { readStoreStats } from '../../src/main/core/store/event-store'
import { postEvent } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import {
  alertByKey,
  ENTER,
  ev,
  EXIT,
  item,
  MIN,
  PAY,
  rollupOf,
  send,
  startProcessingCore,
  T0,
  visitsOf,
} from './helpers'

let core: TestCore
beforeEach(async () => {
  core = await startProcessingCore()
})
afterEach(async () => {
  await core.dispose()
})

const rawOf = (id: unknown): Buffer =>
  (core.db.prepare('SELECT raw FROM events WHERE id = ?').get(id) as { raw: Buffer }).raw
const seqOf = (id: unknown): number =>
  (core.db.prepare('SELECT seq FROM events WHERE id = ?').get(id) as { seq: number }).seq
/** Simulates a stored payload damaged after it was acknowledged (disk corruption, a bad edit). */
const corrupt = (id: unknown, mutate: (body: Record<string, unknown>) => void): void => {
  const body = JSON.parse(rawOf(id).toString('utf8')) as Record<string, unknown>
  mutate(body)
  core.db
    .prepare('UPDATE events SET raw = ? WHERE id = ?')
    .run(Buffer.from(JSON.stringify(body)), id)
}
const failureRow = (id: unknown) =>
  core.db.prepare('SELECT * FROM processing_failures WHERE event_id = ?').get(id) as
    Record<string, unknown> | undefined

describe('a poison event', () => {
  it('is stored as a failure with an alert, its customer goes on without it, others are unaffected; fix and retry processes it once', async () => {
    const pay = ev(PAY, 'C-p', T0 + MIN, { items: [item({ unit_price: 12.5, brand: 'Acme' })] })
    await send(core, [
      ev(ENTER, 'C-p', T0),
      pay,
      ev(EXIT, 'C-p', T0 + 2 * MIN, { time_elapsed: 120 }),
      ev(ENTER, 'C-ok', T0),
      ev(PAY, 'C-ok', T0 + MIN, { items: [item({ unit_price: 3 })] }),
    ])
    const original = rawOf(pay.id)
    corrupt(pay.id, (b) => {
      ;(b.items as Record<string, unknown>[])[0]!.quantity = -1
    })
    const report = await core.processNow()
    expect(report.failures).toBe(1)

    expect(failureRow(pay.id)).toMatchObject({
      customer_id: 'C-p',
      code: 'invalid_payload',
      state: 'failed',
      attempts: 1,
    })
    expect(String(failureRow(pay.id)?.error)).toMatch(/items\[0\]\.quantity/)
    const alert = alertByKey(core.db, `processing_failure:${String(pay.id)}`)
    expect(alert).toMatchObject({ state: 'open', severity: 'error', customer_id: 'C-p' })
    expect(String(alert?.message)).toMatch(/retry/)
    // The customer's other events made their visit; the poison one is outside it, visibly.
    expect(visitsOf(core.db, 'C-p')).toMatchObject([
      { status: 'closed', event_count: 2, checkouts: 0, spend_cents: 0 },
    ])
    const journey = customerJourney(core.db, 'C-p')
    expect(journey.outside).toMatchObject([{ id: pay.id, state: 'failed' }])
    expect(rollupOf(core.db, 'C-ok')).toMatchObject({ total_spend_cents: 300 })
    expect(readProcessingStats(core.db)).toMatchObject({ processing_failed: 1, alerts_open: 1 })

    // Retrying without a fix fails again: one more attempt, and the alert is open again.
    expect(retryFailure(core.db, seqOf(pay.id))).toEqual({ failures: 1, customers: 1 })
    expect(failureRow(pay.id)?.state).toBe('retrying')
    expect(alertByKey(core.db, `processing_failure:${String(pay.id)}`)?.state).toBe('retrying')
    await core.processNow()
    expect(failureRow(pay.id)).toMatchObject({ state: 'failed', attempts: 2 })
    expect(alertByKey(core.db, `processing_failure:${String(pay.id)}`)?.state).toBe('open')

    // Fix the payload, retry: processed once, failure and alert resolved.
    core.db.prepare('UPDATE events SET raw = ? WHERE id = ?').run(original, pay.id)
    retryFailure(core.db, seqOf(pay.id))
    await core.processNow()
    expect(failureRow(pay.id)).toMatchObject({ state: 'resolved' })
    expect(alertByKey(core.db, `processing_failure:${String(pay.id)}`)?.state).toBe('resolved')
    expect(visitsOf(core.db, 'C-p')).toMatchObject([
      { event_count: 3, checkouts: 1, spend_cents: 1250, brands: 'Acme' },
    ])
    expect(rollupOf(core.db, 'C-p')).toMatchObject({ total_spend_cents: 1250, purchase_visits: 1 })
    expect(readProcessingStats(core.db)).toMatchObject({ processing_failed: 0, alerts_open: 0 })
    // Another run changes nothing: it was processed once.
    const again = await core.processNow()
    expect(again.visitsChanged + again.rollupsChanged).toBe(0)
  })

  it('retries every failure of a kind at once; a payload of another event is a mismatch', async () => {
    const a = ev(PAY, 'C-k1', T0, { items: [item({ unit_price: 1 })] })
    const b = ev(PAY, 'C-k2', T0, { items: [item({ unit_price: 2 })] })
    const c = ev(PAY, 'C-k3', T0, { items: [item({ unit_price: 3 })] })
    await send(core, [a, b, c])
    const rawA = rawOf(a.id)
    const rawB = rawOf(b.id)
    corrupt(a.id, (x) => {
      x.items = 'none'
    })
    corrupt(b.id, (x) => {
      x.items = 7
    })
    corrupt(c.id, (x) => {
      x.id = 'someone-else'
    })
    await core.processNow()
    expect(failureRow(a.id)?.code).toBe('invalid_payload')
    expect(failureRow(b.id)?.code).toBe('invalid_payload')
    expect(failureRow(c.id)).toMatchObject({ code: 'payload_mismatch' })
    expect(String(failureRow(c.id)?.error)).toMatch(/someone-else/)
    core.db.prepare('UPDATE events SET raw = ? WHERE id = ?').run(rawA, a.id)
    core.db.prepare('UPDATE events SET raw = ? WHERE id = ?').run(rawB, b.id)
    expect(retryFailuresOfKind(core.db, 'invalid_payload')).toEqual({ failures: 2, customers: 2 })
    await core.processNow()
    expect([failureRow(a.id)?.state, failureRow(b.id)?.state, failureRow(c.id)?.state]).toEqual([
      'resolved',
      'resolved',
      'failed',
    ])
    expect(listAlerts(core.db, { kind: 'processing_failure', state: 'open' })).toMatchObject([
      { eventId: c.id, customerId: 'C-k3' },
    ])
  })
})

describe('quarantine: correct and replay', () => {
  const broken = `{"id":"q-1","name":"customer.entered.store","timestamp":"2026-11-21T10:00:00Z","customer_id":"C-q","store_id":"S-1"`

  it('alerts, replays a correction through live validation, keeps the original bytes', async () => {
    const answer = await postEvent(core.eventsUrl, broken)
    expect(answer.status).toBe(202)
    await core.processNow()
    const q = core.db.prepare('SELECT seq, raw FROM quarantine').get() as {
      seq: number
      raw: Buffer
    }
    const key = `quarantined_payload:${q.seq}`
    expect(alertByKey(core.db, key)).toMatchObject({
      state: 'open',
      severity: 'error',
      quarantine_seq: q.seq,
    })

    // A correction that is still wrong is refused with the live path's reason; nothing stored.
    const still = replayQuarantined(core.db, q.seq, `${broken.replace('"C-q"', '""')}}`)
    expect(still).toMatchObject({ outcome: 'rejected' })
    expect(still.outcome === 'rejected' && still.reason).toMatch(/customer_id/)
    expect(alertByKey(core.db, key)?.state).toBe('open')
    expect(readStoreStats(core.db).events).toBe(0)

    const corrected = `${broken}}`
    expect(replayQuarantined(core.db, q.seq, corrected)).toEqual({
      outcome: 'stored',
      eventId: 'q-1',
    })
    expect(rawOf('q-1').toString('utf8')).toBe(corrected)
    const after = core.db.prepare('SELECT raw FROM quarantine WHERE seq = ?').get(q.seq) as {
      raw: Buffer
    }
    expect(after.raw.toString('utf8')).toBe(broken)
    expect(core.db.prepare('SELECT * FROM quarantine_replays').get()).toMatchObject({
      quarantine_seq: q.seq,
      state: 'stored',
      event_id: 'q-1',
      attempts: 2,
    })
    expect(alertByKey(core.db, key)?.state).toBe('resolved')
    await core.processNow()
    expect(visitsOf(core.db, 'C-q')).toMatchObject([{ status: 'open', store_id: 'S-1' }])
    expect(() => replayQuarantined(core.db, q.seq, corrected)).toThrow(/already replayed/)
    expect(() => replayQuarantined(core.db, 999, corrected)).toThrow(/no quarantined payload/)

    // A rebuild derives the same resolved state from the replay record.
    core.processor.startRebuild()
    await core.processNow()
    expect(alertByKey(core.db, key)?.state).toBe('resolved')
  })

  it('a replayed event whose id is already stored counts as a duplicate, like live traffic', async () => {
    const enter = ev(ENTER, 'C-qd', T0)
    await send(core, [enter, `{"id": "${String(enter.id)}", oops}`])
    const q = core.db.prepare('SELECT seq FROM quarantine').get() as { seq: number }
    expect(replayQuarantined(core.db, q.seq, JSON.stringify(enter))).toEqual({
      outcome: 'duplicate',
      eventId: enter.id,
    })
    expect(readStoreStats(core.db)).toMatchObject({ events: 1, duplicates: 1 })
    await core.processNow()
    expect(visitsOf(core.db, 'C-qd')).toMatchObject([{ event_count: 1 }])
    expect(alertByKey(core.db, `quarantined_payload:${q.seq}`)?.state).toBe('resolved')
  })
})
