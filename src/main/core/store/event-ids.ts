import type Database from 'better-sqlite3'
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

  constructor(
    db: WritableDB,
    private readonly watermark: { settled(): number },
  ) {
    this.s = {
      since: db.prepare('SELECT id, seq FROM events WHERE seq > ? ORDER BY seq').raw(),
      lookup: db.prepare('SELECT seq FROM event_ids WHERE id = ?').pluck(),
    }
  }

  /** Brings this writer's view up to the store; call first inside the write transaction. */
  sync(): void {
    const settled = this.watermark.settled()
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

/** A pass of settling: ids sorted into `temp.settling` (rowid = id order), and how far it got. */
interface SettlePass {
  upTo: number
  rows: number
  next: number
  /** Inserts a slice of `temp.settling` (prepared with the table it reads). */
  insert: Database.Statement<[number, number]>
}

/** Ids a pass inserts between two looks at the clock. */
const SLICE = 2_000

/**
 * Moves the ids of stored events into `event_ids` and advances the watermark. Two ways:
 *
 * - `prepare()` then `step(deadline)`: processing's. Once enough ids wait, `prepare` copies them
 *   (up to `maxPass`) sorted by id into a temporary table of its own connection, outside the
 *   write lock; `step`, inside a batch's write transaction, inserts them from there in id
 *   order, a slice at a time until the batch's deadline. Id order is what makes it cheap: a
 *   pass walks the index once, so a page gets all its new ids in one write, where chunks in
 *   arrival order touch most pages of a large index every time (1,000,000 ids took 9.2 s in
 *   20,000-id chunks, 1.0 s at once). The watermark moves when a pass is done; a pass cut short
 *   is redone, its inserts ignored where already made.
 * - `through(seq)`: everything up to `seq` in one statement, for the ingest writer's ceiling
 *   (commit-worker.ts), in slices small enough to be short.
 */
export class EventIdSettler {
  private readonly s
  private pass: SettlePass | null = null

  constructor(
    private readonly db: WritableDB,
    private readonly minBacklog = 20_000,
    private readonly maxPass = MAX_UNSETTLED_IDS,
  ) {
    this.s = {
      settled: db.prepare('SELECT settled_seq FROM event_id_index WHERE only = 1').pluck(),
      top: db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck(),
      move: db.prepare(
        'INSERT OR IGNORE INTO event_ids (id, seq) SELECT id, seq FROM events WHERE seq > ? AND seq <= ? ORDER BY id',
      ),
      advance: db.prepare(
        'UPDATE event_id_index SET settled_seq = ? WHERE only = 1 AND settled_seq < ?',
      ),
    }
  }

  /** The watermark: every event with seq <= it has its id in `event_ids`. */
  settled(): number {
    return this.s.settled.get() as number
  }

  /** The seq of the last stored event (0: none). */
  top(): number {
    return this.s.top.get() as number
  }

  /** Settles the ids of the events with seq <= `seq` (never past the last stored event). */
  through(seq: number): number {
    const settled = this.settled()
    const upTo = Math.min(seq, this.top())
    if (upTo <= settled) return 0
    const moved = this.s.move.run(settled, upTo).changes
    this.s.advance.run(upTo, upTo)
    return moved
  }

  /** Forgets the pass under way: the transaction that made its inserts did not commit. */
  abandon(): void {
    this.pass = null
  }

  /**
   * Outside any write transaction (before a batch asks for the lock): once enough ids wait,
   * sorts the next pass into `temp.settling`. The ids of stored events never change, so a pass
   * made here stays true; one settled by another writer meanwhile is dropped by `step`.
   */
  prepare(): void {
    if (this.pass || this.db.inTransaction) return
    const settled = this.settled()
    const top = this.top()
    if (top - settled < this.minBacklog) return
    const upTo = Math.min(top, settled + this.maxPass)
    this.db.exec('DROP TABLE IF EXISTS temp.settling')
    // Rows go in in id order, so rowid order is id order.
    this.db
      .prepare(
        'CREATE TEMP TABLE settling AS SELECT id, seq FROM events WHERE seq > ? AND seq <= ? ORDER BY id',
      )
      .run(settled, upTo)
    const rows = this.db.prepare('SELECT count(*) FROM temp.settling').pluck().get() as number
    const insert = this.db.prepare<[number, number]>(
      'INSERT OR IGNORE INTO event_ids (id, seq) SELECT id, seq FROM temp.settling WHERE rowid > ? AND rowid <= ?',
    )
    this.pass = { upTo, rows, next: 0, insert }
  }

  /**
   * Inside the batch's write transaction: inserts the prepared pass in id order until `deadline`
   * (performance.now()), and moves the watermark when the pass is done. Returns how many ids it
   * inserted (0: nothing to do).
   */
  step(deadline: number): number {
    const pass = this.pass
    if (!pass) return 0
    if (pass.upTo <= this.settled()) {
      this.pass = null // another writer settled it
      return 0
    }
    const start = pass.next
    do {
      pass.insert.run(pass.next, pass.next + SLICE)
      pass.next = Math.min(pass.rows, pass.next + SLICE)
    } while (pass.next < pass.rows && performance.now() < deadline)
    if (pass.next >= pass.rows) {
      this.s.advance.run(pass.upTo, pass.upTo)
      this.pass = null
    }
    return pass.next - start
  }
}
