import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { IngestOp, ReceivedOp } from '../../src/main/core/store/event-store'

/** The contract's sample events (../shared/contract/samples), as bytes and as objects. */
export const SAMPLES_DIR = join(import.meta.dirname, '../../../shared/contract/samples')
export const SAMPLE_FILES = [
  '01-entered.json',
  '02-shopping.json',
  '03-checked-out.json',
  '04-exited.json',
] as const

export function sampleBytes(file: (typeof SAMPLE_FILES)[number]): Buffer {
  return readFileSync(join(SAMPLES_DIR, file))
}

export function sampleEvent(file: (typeof SAMPLE_FILES)[number]): Record<string, unknown> {
  return JSON.parse(sampleBytes(file).toString('utf8')) as Record<string, unknown>
}

/** A sample event with a fresh id, for load that must not collide. */
export function freshEvent(
  file: (typeof SAMPLE_FILES)[number] = '01-entered.json',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...sampleEvent(file), id: randomUUID(), ...extra }
}

/** A body as the listener hands it to the store (the commit thread classifies it). */
export function received(
  payload: object,
  contentType: string | null = 'application/json',
): ReceivedOp {
  return {
    kind: 'body',
    raw: Buffer.from(JSON.stringify(payload)),
    contentType,
    receivedMs: Date.now(),
  }
}

/**
 * An ingest op for an event, already classified, as the commit thread hands it to the store:
 * for store tests that need ids and nothing else. A string for `occurredMs` breaks the STRICT
 * column, which makes the whole batch fail.
 */
export function eventOp(id: string, occurredMs: number | string = 1): IngestOp {
  return {
    kind: 'event',
    row: {
      id,
      name: 'customer.shopping',
      customerId: 'C-1',
      storeId: null,
      occurredAt: '2026-11-21T14:03:11Z',
      occurredMs: occurredMs as number,
      hasOffset: true,
      timeElapsedS: null,
    },
    raw: Buffer.from(`{"id":"${id}"}`),
    receivedMs: 1,
  }
}
