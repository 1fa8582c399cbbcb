import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import {
  openReadonly,
  openWritable,
  databasePath,
  closeWritable,
} from '../../src/main/core/store/database'
import { assertIncreasing, migrate, schemaVersion } from '../../src/main/core/store/migrate'
import { MIGRATIONS } from '../../src/main/core/store/migrations'
import { EventStore } from '../../src/main/core/store/event-store'
import { StoreError } from '../../src/main/core/store/store-error'
import { eventOp } from '../helpers/samples'
import { tempDir } from '../helpers/temp-dir'

let cleanup: (() => void) | null = null
afterEach(() => {
  cleanup?.()
  cleanup = null
})

describe('migrations', () => {
  it('are numbered 1..n in order', () => {
    expect(() => assertIncreasing(MIGRATIONS)).not.toThrow()
    expect(() => assertIncreasing([MIGRATIONS[0]!, MIGRATIONS[0]!])).toThrow(/expected 2/)
  })

  it('apply in order at open, are recorded, and run once', () => {
    const dir = tempDir()
    cleanup = dir.cleanup
    const db = openWritable(dir.path)
    expect(schemaVersion(db)).toBe(MIGRATIONS.length)
    const ledger = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()
    expect(ledger).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })))
    expect(migrate(db)).toBe(MIGRATIONS.length) // a second run changes nothing
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('synchronous', { simple: true })).toBe(2) // FULL
    closeWritable(db)
  })

  it('0001 creates the event store: STRICT tables, unique event ids', () => {
    const db = new Database(':memory:')
    migrate(db, MIGRATIONS, 1)
    const insert = db.prepare(
      `INSERT INTO events (id, name, customer_id, occurred_at, occurred_ms, has_offset, received_ms, raw)
       VALUES (?, 'customer.shopping', 'C-1', 't', 1, 1, 1, x'00')`,
    )
    insert.run('e-1')
    expect(() => insert.run('e-1')).toThrow(/UNIQUE/)
    // STRICT: a text where an integer belongs is refused rather than silently stored.
    expect(() =>
      db
        .prepare(
          `INSERT INTO events (id, name, customer_id, occurred_at, occurred_ms, has_offset, received_ms, raw)
           VALUES ('e-2', 'n', 'C', 't', 'not a number', 1, 1, x'00')`,
        )
        .run(),
    ).toThrow(/cannot store TEXT value in INTEGER column/)
  })

  it('refuse a database written by a newer Footfall, for writers and readers', () => {
    const dir = tempDir()
    cleanup = dir.cleanup
    closeWritable(openWritable(dir.path))
    const raw = new Database(databasePath(dir.path))
    raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(999, 'from-the-future', 0)
    raw.close()
    expect(() => openWritable(dir.path)).toThrow(StoreError)
    expect(() => openWritable(dir.path)).toThrow(/written by a newer Footfall/)
    expect(() => openReadonly(dir.path)).toThrow(/upgrade Footfall/)
  })

  it('0006 takes the unique index off events and settles every stored id into event_ids', () => {
    const dir = tempDir()
    cleanup = dir.cleanup
    const db = new Database(databasePath(dir.path))
    migrate(db, MIGRATIONS, 5)
    const insert = db.prepare(
      `INSERT INTO events (id, name, customer_id, occurred_at, occurred_ms, has_offset, received_ms,
                           duplicate_deliveries, raw)
       VALUES (?, 'customer.shopping', 'C-1', 't', ?, 1, 1, ?, ?)`,
    )
    for (let i = 1; i <= 300; i += 1) insert.run(`e-${i}`, i, i % 3, Buffer.from(`body ${i}`))
    const before = db.prepare('SELECT * FROM events ORDER BY seq').all()
    migrate(db)
    expect(db.prepare('SELECT * FROM events ORDER BY seq').all()).toEqual(before)
    const indexes = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'`)
      .pluck()
      .all()
    expect(indexes).toEqual(['events_by_time'])
    expect(db.prepare('SELECT count(*) FROM event_ids').pluck().get()).toBe(300)
    expect(
      db.prepare('SELECT count(*) FROM event_ids i JOIN events e USING (id, seq)').pluck().get(),
    ).toBe(300)
    expect(db.prepare('SELECT settled_seq FROM event_id_index').pluck().get()).toBe(300)
    db.close()
    // The ids from before the migration are found; new events go on after them in seq.
    const store = openWritable(dir.path)
    const writer = new EventStore(store)
    expect(writer.commit([eventOp('e-7'), eventOp('e-301')])).toEqual(['duplicate', 'stored'])
    expect(store.prepare(`SELECT seq FROM events WHERE id = 'e-301'`).pluck().get()).toBe(301)
    closeWritable(store)
  })
})
