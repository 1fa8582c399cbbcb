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
import { StoreError } from '../../src/main/core/store/store-error'
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
})
