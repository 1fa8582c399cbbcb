import type { Migration } from './migration'

/**
 * Takes the unique id index off the ingest path. Event ids are random (UUIDs), so a unique index
 * on `events.id` put every event on its own random index page: for a group commit of 26 events,
 * about 26 more 4 KiB pages to write and fsync, three quarters of a commit's pages and (measured)
 * about two thirds of its time. Ids now live in `event_ids`, which the ingest writer only reads;
 * ids arrive there in batches sorted by id (processing does it beside its `customer_events` copy,
 * see event-ids.ts), where one page write serves many ids. `event_id_index.settled_seq` says how
 * far: every event with seq <= settled_seq has its id in `event_ids`; the writer keeps the ids
 * after it in memory. The rule that an id is stored once is kept by EventStore, no longer by a
 * constraint, so `events` is rebuilt without UNIQUE (SQLite cannot drop it in place).
 */
export const migration0006: Migration = {
  version: 6,
  name: 'event-ids',
  up: `
    CREATE TABLE events_new (
      seq                  INTEGER PRIMARY KEY,
      id                   TEXT NOT NULL,        -- stored once: EventStore checks event_ids
      name                 TEXT NOT NULL,
      customer_id          TEXT NOT NULL,
      store_id             TEXT,                 -- NULL: the "unknown store" (EVENTS.md)
      occurred_at          TEXT NOT NULL,        -- the timestamp as sent
      occurred_ms          INTEGER NOT NULL,     -- epoch ms; read as UTC when sent without offset
      has_offset           INTEGER NOT NULL,
      time_elapsed_s       REAL,                 -- NULL when missing or unreadable
      received_ms          INTEGER NOT NULL,
      duplicate_deliveries INTEGER NOT NULL DEFAULT 0,
      raw                  BLOB NOT NULL
    ) STRICT;
    INSERT INTO events_new (seq, id, name, customer_id, store_id, occurred_at, occurred_ms,
                            has_offset, time_elapsed_s, received_ms, duplicate_deliveries, raw)
      SELECT seq, id, name, customer_id, store_id, occurred_at, occurred_ms, has_offset,
             time_elapsed_s, received_ms, duplicate_deliveries, raw
      FROM events ORDER BY seq;
    DROP TABLE events;
    ALTER TABLE events_new RENAME TO events;
    CREATE INDEX events_by_time ON events (occurred_ms);

    CREATE TABLE event_ids (
      id  TEXT PRIMARY KEY,
      seq INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    INSERT INTO event_ids (id, seq) SELECT id, seq FROM events ORDER BY id;

    CREATE TABLE event_id_index (
      only        INTEGER PRIMARY KEY CHECK (only = 1),
      settled_seq INTEGER NOT NULL
    ) STRICT;
    INSERT INTO event_id_index (only, settled_seq)
      VALUES (1, (SELECT coalesce(max(seq), 0) FROM events));
  `,
}
