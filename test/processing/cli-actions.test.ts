import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { customerJourney } from '../../src/main/core/processing/queries'
import type { AlertDto } from '../../src/main/core/processing/dto'
import type { TestCore } from '../helpers/core'
import { runFootfallToEnd } from '../helpers/serve-process'
import { ENTER, ev, item, MIN, PAY, send, startProcessingCore, T0 } from './helpers'

// The person's side of alerts, through the real `footfall` command in a second process, beside
// a running core on the same store.
let core: TestCore
const pay = ev(PAY, 'C-cli', T0 + MIN, { items: [item({ unit_price: 5 })] })
const broken = '{"id":"q-cli","name":"customer.entered.store","timestamp":"2026-11-21T10:00:00Z"'
let original: Buffer
let seq: number
let qSeq: number

beforeAll(async () => {
  core = await startProcessingCore()
  await send(core, [ev(ENTER, 'C-cli', T0), pay, broken])
  const row = core.db.prepare('SELECT seq, raw FROM events WHERE id = ?').get(pay.id) as {
    seq: number
    raw: Buffer
  }
  seq = row.seq
  original = row.raw
  core.db.prepare('UPDATE events SET raw = ? WHERE seq = ?').run(Buffer.from('{"id": 1}'), seq)
  qSeq = (core.db.prepare('SELECT seq FROM quarantine').get() as { seq: number }).seq
  await core.processNow()
})
afterAll(async () => {
  await core.dispose()
})

const footfall = (...args: string[]) => runFootfallToEnd([...args, '--data-dir', core.dataDir])

describe('footfall alerts, retry, replay, dismiss', () => {
  it('lists open alerts, with the command that fixes each', async () => {
    const r = await footfall('alerts', '--json')
    expect(r.code, r.stderr).toBe(0)
    const alerts = JSON.parse(r.stdout) as AlertDto[]
    expect(alerts.map((a) => a.kind).sort()).toEqual(['processing_failure', 'quarantined_payload'])
    const text = await footfall('alerts', '--severity', 'error')
    expect(text.stdout).toContain(`footfall retry --event-seq ${seq}`)
    expect(text.stdout).toContain(`footfall replay --quarantine ${qSeq}`)
    const bad = await footfall('alerts', '--state', 'gone')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/'gone' is not an alert state/)
  })

  it('retry says when a failure persists, and processes it once fixed', async () => {
    const still = await footfall('retry', '--event-seq', String(seq))
    expect(still.code).toBe(1)
    expect(still.stdout).toMatch(/0 processed, 1 still failing/)
    core.db.prepare('UPDATE events SET raw = ? WHERE seq = ?').run(original, seq)
    const fixed = await footfall('retry', '--kind', 'invalid_payload')
    expect(fixed.code, fixed.stderr).toBe(0)
    expect(fixed.stdout).toMatch(/1 processed, 0 still failing/)
    expect(customerJourney(core.db, 'C-cli').visits[0]).toMatchObject({ spend: 5, checkouts: 1 })
  })

  it('replay stores the corrected body and processes it; a wrong correction is refused', async () => {
    const file = join(core.dataDir, 'corrected.json')
    writeFileSync(file, `${broken}}`)
    const refused = await footfall('replay', '--quarantine', String(qSeq), '--file', file)
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/customer_id.*missing/)
    writeFileSync(file, `${broken},"customer_id":"C-q-cli","store_id":"S-1"}`)
    const ok = await footfall('replay', '--quarantine', String(qSeq), '--file', file)
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/stored and processed as event q-cli/)
    expect(customerJourney(core.db, 'C-q-cli').visits).toHaveLength(1)
    const again = await footfall('replay', '--quarantine', String(qSeq), '--file', file)
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already replayed/)
    const open = JSON.parse((await footfall('alerts', '--json')).stdout) as AlertDto[]
    expect(open).toEqual([])
  })

  it('dismiss and undo', async () => {
    const key = `quarantined_payload:${qSeq}`
    expect((await footfall('dismiss', key)).stdout).toMatch(/dismissed/)
    const listed = JSON.parse(
      (await footfall('alerts', '--state', 'dismissed', '--json')).stdout,
    ) as AlertDto[]
    expect(listed).toMatchObject([{ key }])
    expect((await footfall('dismiss', key, '--undo')).stdout).toMatch(/reopened/)
    expect((await footfall('dismiss', 'no-such-key')).code).toBe(1)
  })
})
