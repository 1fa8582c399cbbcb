import Database from 'better-sqlite3'
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { MIGRATIONS } from './migrations'
import { migrate, schemaVersion } from './migrate'
import { StoreError } from './store-error'

export const DB_FILE_NAME = 'footfall.db'

declare const writable: unique symbol
declare const readable: unique symbol
/** A connection that may write: only the serving process holds one. */
export type WritableDB = Database.Database & { [writable]: true }
/** A read-only connection (stats, a second process): it cannot write by construction. */
export type ReadableDB = Database.Database & { [readable]: true }

export function databasePath(dataDir: string): string {
  return join(resolve(dataDir), DB_FILE_NAME)
}

/**
 * Durability and concurrency settings, in one place because each one is a promise to the sender.
 *
 * - WAL: readers (`footfall stats`, the console) never block the writer and see only committed
 *   transactions.
 * - synchronous=FULL: in WAL mode every commit fsyncs the WAL, so a committed event survives a
 *   crash or power loss. NORMAL would be faster and is wrong here: a 2xx must survive power loss.
 * - Checkpoints run automatically (every ~1000 WAL pages) and once more at close, which truncates
 *   the WAL; a crash between checkpoints loses nothing, the WAL is replayed on the next open.
 * - busy_timeout: another writer holding the lock (a second `serve` on the same dir, a backup
 *   tool) makes a commit wait this long and then fail, which the listener answers with 500.
 */
function applyPragmas(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`)
  db.pragma('foreign_keys = ON')
}

export interface OpenOptions {
  busyTimeoutMs?: number
}

/** Opens (creating if needed) the store in `dataDir` and brings its schema up to date. */
export function openWritable(dataDir: string, options: OpenOptions = {}): WritableDB {
  mkdirSync(resolve(dataDir), { recursive: true })
  const db = new Database(databasePath(dataDir))
  try {
    applyPragmas(db, options.busyTimeoutMs ?? 2000)
    migrate(db)
  } catch (error) {
    db.close()
    throw error
  }
  return db as WritableDB
}

/** Opens an existing store read-only, for a process beside the one serving. */
export function openReadonly(dataDir: string): ReadableDB {
  const file = databasePath(dataDir)
  if (!existsSync(file)) {
    throw new StoreError(
      'store_missing',
      `no Footfall store in ${resolve(dataDir)}: start \`footfall serve --data-dir ${dataDir}\` first, or point --data-dir at an existing one`,
    )
  }
  const db = new Database(file, { readonly: true, fileMustExist: true })
  db.pragma('busy_timeout = 2000')
  const version = schemaVersion(db)
  if (version !== MIGRATIONS.length) {
    db.close()
    throw new StoreError(
      version > MIGRATIONS.length ? 'store_from_future' : 'store_outdated',
      `the store in ${resolve(dataDir)} has schema ${version}, this Footfall expects ${MIGRATIONS.length}: ${version > MIGRATIONS.length ? 'upgrade Footfall' : 'run `footfall serve` once to migrate it'}`,
    )
  }
  return db as ReadableDB
}

/** Closes a writer after folding the WAL back into the database file. */
export function closeWritable(db: WritableDB): void {
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}
