import type { WritableDB } from './database'

/**
 * Most stored ids the ingest writer holds in memory waiting for processing to settle them (about
 * 100 bytes each); past it, the commit thread settles them itself (commit-worker.ts).
 */
export const MAX_UNSETTLED_IDS = 250_000

/**
 * Where a stored event's id can be found, so that a second delivery of it is counted and not
 * stored (migration 0006 says why this is not a unique index on `events`):
 *
 * - `event_ids` holds the id of every event with seq <= `event_id_index.settled_seq`;
 * - the writer keeps the ids of the events after that in memory (`recent`), in seq order.
 *
 * Every check runs inside the writer's BEGIN IMMEDIATE transaction, after `sync()`, which reads
 * the rows other connections committed since this writer last looked (a `footfall replay`, a
 * second writer thread) and forgets the ids that have since been settled. So an id stored by any
 * writer is found by every other, and the answer cannot change before the transaction commits.
 */
export class EventIds {
  /** id -> seq of the stored events after the settled ones that this writer has seen. */
  private readonly recent = new Map<string, number>()
  /** Every stored event with seq <= seen is settled or in `recent`. */
  private seen = 0
  private settled = -1
  private readonly s

  constructor(private readonly db: WritableDB) {
    this.s = {
      settled: db.prepare('SELECT settled_seq FROM event_id_index WHERE only = 1').pluck(),
      since: db.prepare('SELECT id, seq FROM events WHERE seq > ? ORDER BY seq').raw(),
      lookup: db.prepare('SELECT seq FROM event_ids WHERE id = ?').pluck(),
    }
  }

  /** Brings this writer's view up to the store; call first inside the write transaction. */
  sync(): void {
    const settled = this.s.settled.get() as number
    if (settled !== this.settled) {
      // `recent` is in seq order: the settled ids are at its front.
      for (const [id, seq] of this.recent) {
        if (seq > settled) break
        this.recent.delete(id)
      }
      this.settled = settled
    }
    for (const [id, seq] of this.s.since.iterate(Math.max(this.seen, settled)) as Iterable<
      [string, number]
    >) {
      this.recent.set(id, seq)
      this.seen = seq
    }
    if (this.seen < settled) this.seen = settled
  }

  /** The seq of the stored event with this id, if any (after `sync()`, in the same transaction). */
  find(id: string): number | undefined {
    return this.recent.get(id) ?? (this.s.lookup.get(id) as number | undefined)
  }

  /** Records ids this writer stored, once their transaction has committed (in seq order). */
  committed(stored: ReadonlyMap<string, number>): void {
    for (const [id, seq] of stored) {
      this.recent.set(id, seq)
      if (seq > this.seen) this.seen = seq
    }
  }

  /** Ids held in memory: stored, not yet settled into `event_ids`. */
  get unsettled(): number {
    return this.recent.size
  }
}

/**
 * Moves the ids of the events up to a seq into `event_ids`, sorted by id so that each index page
 * is written once for all its new ids, and advances the watermark. Runs inside the caller's write
 * transaction: processing does it beside its `customer_events` copy, and the ingest writer when
 * too many ids wait in memory (processing paused or failing).
 */
export class EventIdSettler {
  private readonly s

  constructor(db: WritableDB) {
    this.s = {
      settled: db.prepare('SELECT settled_seq FROM event_id_index WHERE only = 1').pluck(),
      top: db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck(),
      move: db.prepare(
        'INSERT INTO event_ids (id, seq) SELECT id, seq FROM events WHERE seq > ? AND seq <= ? ORDER BY id',
      ),
      advance: db.prepare('UPDATE event_id_index SET settled_seq = ? WHERE only = 1'),
    }
  }

  /** The watermark: every event with seq <= it has its id in `event_ids`. */
  settled(): number {
    return this.s.settled.get() as number
  }

  /** Settles the ids of the events with seq <= `seq` (never past the last stored event). */
  through(seq: number): number {
    const settled = this.settled()
    const upTo = Math.min(seq, this.s.top.get() as number)
    if (upTo <= settled) return 0
    const moved = this.s.move.run(settled, upTo).changes
    this.s.advance.run(upTo)
    return moved
  }
}
