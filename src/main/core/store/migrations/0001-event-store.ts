import type { Migration } from './migration'

/**
 * The durable event store. `raw` keeps every request body byte for byte, for audit and replay;
 * the parsed columns are what processing reads. `seq` is arrival order (ties in PROCESSING.md).
 */
export const migration0001: Migration = {
  version: 1,
  name: 'event-store',
  up: `
    CREATE TABLE events (
      seq                  INTEGER PRIMARY KEY,
      id                   TEXT NOT NULL UNIQUE,
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
    CREATE INDEX events_by_customer ON events (customer_id, occurred_ms, seq);

    CREATE TABLE quarantine (
      seq          INTEGER PRIMARY KEY,
      received_ms  INTEGER NOT NULL,
      reason       TEXT NOT NULL,
      event_id     TEXT,                         -- when the body was readable enough to say
      customer_id  TEXT,
      content_type TEXT,
      raw          BLOB NOT NULL
    ) STRICT;

    CREATE TABLE counters (
      name  TEXT PRIMARY KEY,
      value INTEGER NOT NULL
    ) STRICT;
  `,
}
