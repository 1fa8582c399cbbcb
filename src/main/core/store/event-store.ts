import type { ReadableDB, WritableDB } from './database'
import { EventIdSettler, EventIds } from './event-ids'

/** What the ingest path asks the store to keep, one per request. */
export type IngestOp =
  | {
      kind: 'event'
      /** The stored columns. */
      row: EventRow
      raw: Buffer
      receivedMs: number
    }
  | {
      kind: 'quarantine'
      reason: string
      eventId: string | null
      customerId: string | null
      contentType: string | null
      raw: Buffer
      receivedMs: number
    }
  /** A request refused without keeping anything, counted for the security and ops views. */
  | { kind: 'count'; counter: RejectionCounter }

/** The parsed columns of one event (the rest of the payload stays in `raw`). */
export interface EventRow {
  id: string
  name: string
  customerId: string
  storeId: string | null
  /** The timestamp as sent. */
  occurredAt: string
  occurredMs: number
  hasOffset: boolean
  timeElapsedS: number | null
}

export type RejectionCounter = 'rejected_auth' | 'rejected_size' | 'rejected_timeout'
export type IngestOutcome = 'stored' | 'duplicate' | 'quarantined' | 'counted'

/**
 * What the listener hands the store: a body as it arrived (the commit thread classifies it, see
 * commit-worker.ts), or a refused request to count.
 */
export type ReceivedOp =
  | { kind: 'body'; raw: Buffer; contentType: string | null; receivedMs: number }
  | { kind: 'count'; counter: RejectionCounter }

/** What became of one received op, with what the listener's answer says of it. */
export interface Receipt {
  outcome: IngestOutcome
  /** The event's id when stored or a duplicate, the reason when quarantined, else null. */
  note: string | null
}

export interface StoreStats {
  events: number
  duplicates: number
  quarantined: number
  rejected_auth: number
  rejected_size: number
  rejected_timeout: number
  last_received_ms: number | null
}

/**
 * Commits ingest operations; every call is one transaction (see GroupCommitter). An event whose
 * id is already stored (in `event_ids`, in this writer's recent ids, or earlier in the same
 * batch) is counted as a duplicate delivery and not stored again (event-ids.ts).
 */
export class EventStore {
  private readonly insertEvent
  private readonly markDuplicate
  private readonly insertQuarantine
  private readonly bumpCounter
  private readonly commitBatch
  private readonly settleBatch
  private readonly ids: EventIds
  /** id -> seq of the events the running transaction stored. */
  private readonly stored = new Map<string, number>()

  constructor(private readonly db: WritableDB) {
    this.insertEvent = db.prepare(`
      INSERT INTO events (id, name, customer_id, store_id, occurred_at, occurred_ms, has_offset,
                          time_elapsed_s, received_ms, raw)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.markDuplicate = db.prepare(
      'UPDATE events SET duplicate_deliveries = duplicate_deliveries + 1 WHERE seq = ?',
    )
    this.insertQuarantine = db.prepare(`
      INSERT INTO quarantine (received_ms, reason, event_id, customer_id, content_type, raw)
      VALUES (?, ?, ?, ?, ?, ?)`)
    this.bumpCounter = db.prepare(`
      INSERT INTO counters (name, value) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`)
    const settler = new EventIdSettler(db)
    this.ids = new EventIds(db, settler)
    this.commitBatch = db.transaction((ops: readonly IngestOp[]) => {
      this.ids.sync()
      return ops.map(this.apply)
    })
    this.settleBatch = db.transaction((count: number) => settler.through(settler.settled() + count))
  }

  /**
   * Keeps every operation in one transaction, or none of them (the error is thrown). IMMEDIATE:
   * the id checks read first, and must read what no other writer can change before the commit.
   */
  commit(ops: readonly IngestOp[]): IngestOutcome[] {
    this.stored.clear()
    const outcomes = this.commitBatch.immediate(ops)
    this.ids.committed(this.stored)
    return outcomes
  }

  /** Ids this writer holds in memory because they are not yet settled into `event_ids`. */
  get unsettledIds(): number {
    return this.ids.unsettled
  }

  /**
   * Settles the ids of the next `count` events in a transaction of its own (processing does this
   * as it goes; the writer does it only when too many wait). Returns how many it moved.
   */
  settleIds(count: number): number {
    return this.settleBatch.immediate(count)
  }

  private readonly apply = (op: IngestOp): IngestOutcome => {
    switch (op.kind) {
      case 'event': {
        const e = op.row
        const existing = this.stored.get(e.id) ?? this.ids.find(e.id)
        if (existing !== undefined) {
          this.markDuplicate.run(existing)
          this.bumpCounter.run('duplicates', 1)
          return 'duplicate'
        }
        const inserted = this.insertEvent.run(
          e.id,
          e.name,
          e.customerId,
          e.storeId,
          e.occurredAt,
          e.occurredMs,
          e.hasOffset ? 1 : 0,
          e.timeElapsedS,
          op.receivedMs,
          op.raw,
        )
        this.stored.set(e.id, Number(inserted.lastInsertRowid))
        return 'stored'
      }
      case 'quarantine':
        this.insertQuarantine.run(
          op.receivedMs,
          op.reason,
          op.eventId,
          op.customerId,
          op.contentType,
          op.raw,
        )
        return 'quarantined'
      case 'count':
        this.bumpCounter.run(op.counter, 1)
        return 'counted'
    }
  }
}

/** The store's counters; works on a read-only connection beside a serving process. */
export function readStoreStats(db: ReadableDB | WritableDB): StoreStats {
  const counters = new Map(
    (db.prepare('SELECT name, value FROM counters').all() as { name: string; value: number }[]).map(
      (r) => [r.name, r.value],
    ),
  )
  const events = db.prepare('SELECT count(*) AS n, max(received_ms) AS last FROM events').get() as {
    n: number
    last: number | null
  }
  const quarantined = db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }
  return {
    events: events.n,
    duplicates: counters.get('duplicates') ?? 0,
    quarantined: quarantined.n,
    rejected_auth: counters.get('rejected_auth') ?? 0,
    rejected_size: counters.get('rejected_size') ?? 0,
    rejected_timeout: counters.get('rejected_timeout') ?? 0,
    last_received_ms: events.last,
  }
}
