import type Database from 'better-sqlite3'
import type { Migration } from './migrations/migration'
import { MIGRATIONS } from './migrations'
import { StoreError } from './store-error'

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_ms INTEGER NOT NULL
) STRICT`

export function assertIncreasing(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`)
    }
  })
}

/** The highest version recorded in the database (0 for a new one). */
export function schemaVersion(db: Database.Database): number {
  const ledger = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
    .get()
  if (!ledger) return 0
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as {
    v: number | null
  }
  return row.v ?? 0
}

/**
 * Applies the pending migrations in order, each in its own transaction, and records them.
 * Refuses a database written by a newer Footfall: running old code on it could corrupt it.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  target = migrations.length,
): number {
  assertIncreasing(migrations)
  db.exec(LEDGER)
  const current = schemaVersion(db)
  if (current > migrations.length) {
    throw new StoreError(
      'store_from_future',
      `this data dir was written by a newer Footfall (schema ${current}, this one knows ${migrations.length}); upgrade Footfall or use another --data-dir`,
    )
  }
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)',
  )
  for (const m of migrations.slice(current, target)) {
    db.transaction(() => {
      db.exec(m.up)
      record.run(m.version, m.name, Date.now())
    })()
  }
  return Math.max(current, target)
}
