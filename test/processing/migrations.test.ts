import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { CustomerReader } from '../../src/main/core/processing/customer-reader'
import { Processor } from '../../src/main/core/processing/processor'
import type { WritableDB } from '../../src/main/core/store/database'
import { migrate, schemaVersion } from '../../src/main/core/store/migrate'
import { MIGRATIONS } from '../../src/main/core/store/migrations'

describe('migration 0002 (processing)', () => {
  it('upgrades a store with events: they are kept and processed on the first run', () => {
    const db = new Database(':memory:')
    migrate(db, MIGRATIONS, 1)
    const insert = db.prepare(
      `INSERT INTO events (id, name, customer_id, store_id, occurred_at, occurred_ms, has_offset,
                           time_elapsed_s, received_ms, raw)
       VALUES (?, ?, 'C-1', 'S-1', 't', ?, 1, ?, 0, ?)`,
    )
    insert.run('e-1', 'customer.entered.store', 1_000, null, Buffer.from('{}'))
    insert.run('e-2', 'customer.exited.store', 61_000, 60, Buffer.from('{}'))
    db.prepare(
      "INSERT INTO quarantine (received_ms, reason, raw) VALUES (5, 'body is empty', x'')",
    ).run()

    expect(migrate(db, MIGRATIONS, 2)).toBe(2)
    expect(schemaVersion(db)).toBe(2)
    expect(db.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 2 })
    expect(db.prepare('SELECT * FROM processing_state').get()).toMatchObject({
      cursor_seq: 0,
      now_ms: null,
      quarantine_cursor: 0,
      change_seq: 0,
      rebuild_target_seq: null,
    })
    const strict = db
      .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND strict = 1 ORDER BY 1")
      .all()
      .map((r) => (r as { name: string }).name)
    expect(strict).toEqual(
      expect.arrayContaining([
        'alerts',
        'customer_rollups',
        'processing_failures',
        'processing_requeue',
        'processing_state',
        'quarantine_replays',
        'visit_removals',
        'visits',
      ]),
    )
    // STRICT and CHECK refuse what the code must never write.
    expect(() =>
      db
        .prepare(
          `INSERT INTO visits VALUES ('k', 'C', NULL, 'lost', 0, NULL, 1, NULL, 1, 'e', 1, NULL,
                                      0, 0, '', '[]', 1)`,
        )
        .run(),
    ).toThrow(/CHECK constraint failed/)
    expect(() => db.prepare("UPDATE processing_state SET cursor_seq = 'x'").run()).toThrow(
      /cannot store TEXT value in INTEGER column/,
    )

    // The later migrations too (today's Processor needs them), then the first run processes.
    migrate(db, MIGRATIONS)
    const processor = new Processor(db as unknown as WritableDB)
    expect(processor.runBatch()).toMatchObject({ events: 2, customers: 1 })
    expect(db.prepare('SELECT status, tis_ms FROM visits').all()).toEqual([
      { status: 'closed', tis_ms: 60_000 },
    ])
    expect(
      db.prepare("SELECT kind, state FROM alerts WHERE kind = 'quarantined_payload'").all(),
    ).toEqual([{ kind: 'quarantined_payload', state: 'open' }])
    db.close()
  })
})

describe('migration 0004 (covering index for processing)', () => {
  it('replaces the customer index, keeps the events, and covers the processing read', () => {
    const db = new Database(':memory:')
    migrate(db, MIGRATIONS, 3)
    db.prepare(
      `INSERT INTO events (id, name, customer_id, occurred_at, occurred_ms, has_offset, received_ms, raw)
       VALUES ('e-1', 'customer.shopping', 'C-1', 't', 1, 1, 0, x'00')`,
    ).run()
    expect(migrate(db, MIGRATIONS, 4)).toBe(4)
    expect(db.prepare('SELECT id FROM events').all()).toEqual([{ id: 'e-1' }])
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT seq, id, name, customer_id, store_id, occurred_ms, has_offset,
                time_elapsed_s FROM events WHERE customer_id = ? AND seq <= ? ORDER BY occurred_ms, seq`,
      )
      .all('C-1', 1) as { detail: string }[]
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/COVERING INDEX events_by_customer/)
    db.close()
  })
})

describe('migration 0005 (customer_events, off the ingest path)', () => {
  it('starts a rebuild in progress over, so that its stream-wide tallies count every customer', () => {
    const db = new Database(':memory:')
    migrate(db, MIGRATIONS, 4)
    db.prepare(
      "UPDATE processing_state SET rebuild_target_seq = 7, rebuild_after_customer = 'C-5'",
    ).run()
    migrate(db, MIGRATIONS, 5)
    expect(
      db
        .prepare(
          'SELECT rebuild_target_seq, rebuild_after_customer, rebuild_tallies FROM processing_state',
        )
        .get(),
    ).toEqual({
      rebuild_target_seq: 7,
      rebuild_after_customer: null,
      rebuild_tallies: '{"missing":null,"noOffset":{},"future":{}}',
    })
    db.close()
  })

  it('copies the stored events, drops the ingest-time index, and serves the processing read', () => {
    const db = new Database(':memory:')
    migrate(db, MIGRATIONS, 4)
    const insert = db.prepare(
      `INSERT INTO events (id, name, customer_id, occurred_at, occurred_ms, has_offset, received_ms, raw)
       VALUES (?, 'customer.shopping', ?, 't', ?, 1, 0, x'00')`,
    )
    insert.run('e-2', 'C-2', 5)
    insert.run('e-1', 'C-1', 9)
    insert.run('e-3', 'C-1', 7)
    expect(migrate(db, MIGRATIONS, 5)).toBe(5)
    expect(
      db.prepare('SELECT customer_id, occurred_ms, seq, id FROM customer_events').all(),
    ).toEqual([
      { customer_id: 'C-1', occurred_ms: 7, seq: 3, id: 'e-3' },
      { customer_id: 'C-1', occurred_ms: 9, seq: 2, id: 'e-1' },
      { customer_id: 'C-2', occurred_ms: 5, seq: 1, id: 'e-2' },
    ])
    expect(db.prepare('SELECT indexed_seq FROM processing_state').get()).toEqual({ indexed_seq: 3 })
    // No rebuild was in progress: nothing to restart.
    expect(db.prepare('SELECT rebuild_tallies FROM processing_state').get()).toEqual({
      rebuild_tallies: null,
    })
    // Ingest writes the table, its unique id index and the time index (appended to in order).
    expect(
      db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY 1",
        )
        .all(),
    ).toEqual([{ name: 'events_by_time' }, { name: 'sqlite_autoindex_events_1' }])
    // A batch reads its customers with one statement per table, each a search of an index by
    // customer (a scan would read the whole table once per batch), events already in order.
    const reader = new CustomerReader(db as WritableDB)
    const plans = Object.fromEntries(
      Object.entries(reader.s).map(([name, st]) => [
        name,
        db
          .prepare(`EXPLAIN QUERY PLAN ${st.source}`)
          .all(...(name === 'events' ? ['["C-1"]', 1] : ['["C-1"]']))
          .map((r) => (r as { detail: string }).detail)
          .join(' | '),
      ]),
    )
    expect(plans.events).toMatch(/^SEARCH c USING PRIMARY KEY \(customer_id=\?\)/)
    expect(plans.events).toMatch(/SEARCH e USING INTEGER PRIMARY KEY/)
    expect(plans.visits).toMatch(/^SEARCH visits USING INDEX visits_by_customer/)
    expect(plans.rollups).toMatch(/^SEARCH customer_rollups USING INDEX sqlite_autoindex/)
    expect(plans.failures).toMatch(
      /^SEARCH processing_failures USING INDEX processing_failures_by_customer/,
    )
    expect(plans.alerts).toMatch(/^SEARCH alerts USING INDEX alerts_by_customer/)
    for (const plan of Object.values(plans))
      expect(plan).not.toMatch(/TEMP B-TREE|SCAN (?!json_each)/)
    // Every incremental batch asks which visits "now" moving changes: small index ranges.
    const planOf = (sql: string, ...params: number[]): string =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((r) => (r as { detail: string }).detail)
        .join(' ')
    expect(
      planOf("SELECT customer_id FROM visits WHERE status = 'open' AND last_event_ms < ?", 1),
    ).toMatch(/SEARCH visits USING INDEX visits_open/)
    expect(
      planOf('SELECT customer_id FROM visits WHERE started_ms >= ? AND started_ms < ?', 1, 2),
    ).toMatch(/SEARCH visits USING INDEX visits_by_start/)
    db.close()
  })
})
