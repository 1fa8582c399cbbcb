import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { makeId } from './ids'
import type { FieldSpec, ObjectSchema, OrgSchema } from './schema'

export const EMULATOR_DB_FILE = 'sf-emulator.db'
const STORE_VERSION = 1

export type FieldValue = string | number | boolean | null
/** A stored record: `Id` plus field values, in the JSON form the REST API returns. */
export type SfRecord = Record<string, FieldValue> & { Id: string }

interface Undo {
  object: string
  id: string
  before: SfRecord | undefined
}

/**
 * The org's data. Records live in memory (queries filter in JavaScript; an emulated org holds
 * thousands of records, not millions) and every committed change is written through to SQLite in
 * one transaction, so a restarted emulator finds its org as it left it.
 */
export class Store {
  readonly db: Database.Database
  private readonly records = new Map<string, Map<string, SfRecord>>()
  /** `Object.Field` to value key to record ids, for external-id and unique fields. */
  private readonly indexes = new Map<string, Map<string, Set<string>>>()
  private readonly counters = new Map<string, number>()
  /** Counters move in memory and reach disk with the next commit: ids are never reused in a run. */
  private readonly dirtyCounters = new Set<string>()

  constructor(
    private readonly schema: OrgSchema,
    dataDir: string | null,
  ) {
    if (dataDir === null) {
      this.db = new Database(':memory:')
    } else {
      mkdirSync(resolve(dataDir), { recursive: true })
      this.db = new Database(join(resolve(dataDir), EMULATOR_DB_FILE))
      this.db.pragma('journal_mode = WAL')
    }
    this.migrate()
    for (const object of schema.objects.values()) {
      this.records.set(object.name, new Map())
      for (const field of object.fields.values()) {
        if (field.externalId || field.unique)
          this.indexes.set(indexKey(object.name, field.name), new Map())
      }
    }
    this.load()
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number
    if (version > STORE_VERSION) {
      throw new Error(
        `the emulator's database has version ${version}; this emulator knows ${STORE_VERSION}`,
      )
    }
    if (version === STORE_VERSION) return
    this.db.exec(`
      CREATE TABLE records (id TEXT PRIMARY KEY, object TEXT NOT NULL, data TEXT NOT NULL) STRICT;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE api_usage (minute INTEGER PRIMARY KEY, count INTEGER NOT NULL) STRICT;
      CREATE TABLE tokens (
        token TEXT PRIMARY KEY, kind TEXT NOT NULL, username TEXT NOT NULL, client_id TEXT NOT NULL,
        expires_ms INTEGER
      ) STRICT;
      CREATE TABLE jobs (id TEXT PRIMARY KEY, info TEXT NOT NULL, upload TEXT NOT NULL, results TEXT) STRICT;
      PRAGMA user_version = ${STORE_VERSION};
    `)
  }

  private load(): void {
    const rows = this.db.prepare('SELECT object, data FROM records ORDER BY rowid').all() as {
      object: string
      data: string
    }[]
    for (const row of rows) {
      // Records of objects the current schema lacks stay on disk, invisible, as in a real org
      // whose object was hidden; they come back when the schema has the object again.
      const table = this.records.get(row.object)
      if (!table) continue
      const record = JSON.parse(row.data) as SfRecord
      table.set(record.Id, record)
      this.indexRecord(row.object, record, 'add')
    }
    const metas = this.db
      .prepare("SELECT key, value FROM meta WHERE key LIKE 'counter:%'")
      .all() as {
      key: string
      value: string
    }[]
    for (const m of metas) this.counters.set(m.key.slice('counter:'.length), Number(m.value))
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined
    return row?.value
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value)
  }

  /** The next value of a named counter (ids per key prefix, auto numbers), persisted. */
  next(counter: string): number {
    const n = (this.counters.get(counter) ?? 0) + 1
    this.counters.set(counter, n)
    this.dirtyCounters.add(counter)
    return n
  }

  newId(object: ObjectSchema): string {
    return makeId(object.spec.keyPrefix, this.next(`id:${object.spec.keyPrefix}`))
  }

  all(object: string): SfRecord[] {
    return [...(this.records.get(object)?.values() ?? [])]
  }

  count(object: string): number {
    return this.records.get(object)?.size ?? 0
  }

  get(object: string, id: string): SfRecord | undefined {
    return this.records.get(object)?.get(id)
  }

  /** Any record by id, whatever its object (the key prefix says which). */
  getAny(id: string): { object: ObjectSchema; record: SfRecord } | undefined {
    const object = this.schema.byKeyPrefix.get(id.slice(0, 3))
    const record = object ? this.get(object.name, id) : undefined
    return object && record ? { object, record } : undefined
  }

  /** Ids of records whose `field` equals `value`, compared as Salesforce compares that field. */
  findBy(object: ObjectSchema, field: FieldSpec, value: FieldValue): string[] {
    const index = this.indexes.get(indexKey(object.name, field.name))
    if (index && typeof value === 'string') {
      return [...(index.get(valueKey(field, value)) ?? [])]
    }
    return this.all(object.name)
      .filter((r) => r[field.name] === value)
      .map((r) => r.Id)
  }

  private indexRecord(object: string, record: SfRecord, op: 'add' | 'remove'): void {
    const schema = this.schema.objects.get(object)
    if (!schema) return
    for (const field of schema.fields.values()) {
      const index = this.indexes.get(indexKey(object, field.name))
      const value = record[field.name]
      if (!index || typeof value !== 'string') continue
      const key = valueKey(field, value)
      let ids = index.get(key)
      if (op === 'add') {
        if (!ids) index.set(key, (ids = new Set()))
        ids.add(record.Id)
      } else if (ids) {
        ids.delete(record.Id)
        if (ids.size === 0) index.delete(key)
      }
    }
  }

  /** Starts a unit of work: changes are visible at once, and either committed or undone. */
  begin(): UnitOfWork {
    return new UnitOfWork(this)
  }

  /** @internal used by UnitOfWork */
  put(object: string, record: SfRecord | undefined, id: string): void {
    const table = this.records.get(object)
    if (!table) throw new Error(`no object ${object}`)
    const old = table.get(id)
    if (old) this.indexRecord(object, old, 'remove')
    if (record) {
      table.set(id, record)
      this.indexRecord(object, record, 'add')
    } else {
      table.delete(id)
    }
  }

  /** @internal used by UnitOfWork */
  persist(changes: Iterable<{ object: string; id: string }>): void {
    const upsert = this.db.prepare(
      'INSERT OR REPLACE INTO records (id, object, data) VALUES (?, ?, ?)',
    )
    const remove = this.db.prepare('DELETE FROM records WHERE id = ?')
    const counter = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
    this.db.transaction(() => {
      for (const name of this.dirtyCounters) {
        counter.run(`counter:${name}`, String(this.counters.get(name)))
      }
      this.dirtyCounters.clear()
      for (const { object, id } of changes) {
        const record = this.get(object, id)
        if (record) upsert.run(id, object, JSON.stringify(record))
        else remove.run(id)
      }
    })()
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

export class UnitOfWork {
  private readonly undo: Undo[]
  /** Where this unit's changes start in the undo list it shares with its parent, if any. */
  private readonly start: number
  private done = false

  constructor(
    private readonly store: Store,
    private readonly parent?: UnitOfWork,
  ) {
    this.undo = parent ? parent.undo : []
    this.start = this.undo.length
  }

  /**
   * A unit inside this one (a composite subrequest): its commit leaves its changes to this unit,
   * which commits or undoes them with everything else; its rollback undoes only its own.
   */
  nested(): UnitOfWork {
    return new UnitOfWork(this.store, this)
  }

  write(object: string, record: SfRecord): void {
    this.undo.push({ object, id: record.Id, before: this.store.get(object, record.Id) })
    this.store.put(object, record, record.Id)
  }

  remove(object: string, id: string): void {
    this.undo.push({ object, id, before: this.store.get(object, id) })
    this.store.put(object, undefined, id)
  }

  /** A savepoint: the number of changes so far, to roll back to. */
  mark(): number {
    return this.undo.length
  }

  rollbackTo(mark: number): void {
    while (this.undo.length > mark) {
      const u = this.undo.pop()!
      this.store.put(u.object, u.before, u.id)
    }
  }

  commit(): void {
    if (this.done) return
    this.done = true
    if (this.parent) return
    const seen = new Map<string, { object: string; id: string }>()
    for (const u of this.undo) seen.set(u.id, { object: u.object, id: u.id })
    this.store.persist(seen.values())
  }

  rollback(): void {
    if (this.done) return
    this.done = true
    this.rollbackTo(this.start)
  }
}

function indexKey(object: string, field: string): string {
  return `${object}.${field}`
}

/** Text values are unique and matched case-insensitively unless the field says otherwise. */
export function valueKey(field: FieldSpec, value: string): string {
  return field.caseSensitive ? value : value.toLowerCase()
}
