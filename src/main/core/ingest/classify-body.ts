import { checkEvent } from '../../../shared/event-schema'
import { parseTimeElapsed, parseTimestamp } from '../../../shared/event-time'
import type { IngestOp, ReceivedOp } from '../store/event-store'

const utf8 = new TextDecoder('utf-8', { fatal: true })

function quarantined(
  raw: Buffer,
  contentType: string | null,
  receivedMs: number,
  reason: string,
  eventId: string | null = null,
  customerId: string | null = null,
): IngestOp {
  return { kind: 'quarantine', reason, eventId, customerId, contentType, raw, receivedMs }
}

/**
 * Turns one request body into what the store keeps: a valid event, or the raw bytes in
 * quarantine with a reason a person can act on. Never throws: bad input is data, not an error.
 */
export function classifyBody(
  raw: Buffer,
  contentType: string | null,
  receivedMs: number,
): IngestOp {
  if (raw.length === 0)
    return quarantined(
      raw,
      contentType,
      receivedMs,
      'body is empty: expected one JSON event object',
    )
  let text: string
  try {
    text = utf8.decode(raw)
  } catch {
    return quarantined(
      raw,
      contentType,
      receivedMs,
      'body is not valid UTF-8 text: expected one JSON event object',
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return quarantined(
      raw,
      contentType,
      receivedMs,
      `body is not JSON (${(error as Error).message}): expected one JSON event object`,
    )
  }
  const check = checkEvent(value)
  if (!check.ok)
    return quarantined(raw, contentType, receivedMs, check.reason, check.eventId, check.customerId)
  const timestamp = parseTimestamp(check.event.timestamp)
  // checkEvent already refused unreadable timestamps; this guards the invariant for the types.
  if (!timestamp)
    return quarantined(
      raw,
      contentType,
      receivedMs,
      `\`timestamp\` is not ISO-8601: '${check.event.timestamp}'`,
    )
  const e = check.event
  const row = {
    id: e.id,
    name: e.name,
    customerId: e.customer_id,
    storeId: e.store_id ?? null,
    occurredAt: e.timestamp,
    occurredMs: timestamp.epochMs,
    hasOffset: timestamp.hasOffset,
    timeElapsedS: parseTimeElapsed(e.time_elapsed),
  }
  return { kind: 'event', row, raw, receivedMs }
}

/**
 * Classifies what the listener received, on the commit thread. classifyBody never throws by
 * design; if a bug made it, the body is quarantined with the error rather than failing every
 * other request of its transaction with a 500.
 */
export function classifyReceived(op: ReceivedOp): IngestOp {
  if (op.kind === 'count') return op
  try {
    return classifyBody(op.raw, op.contentType, op.receivedMs)
  } catch (error) {
    return quarantined(
      op.raw,
      op.contentType,
      op.receivedMs,
      `body could not be checked (${String(error)}): this is a Footfall bug; the body is kept, replay it once fixed`,
    )
  }
}
