import type { Migration } from './migration'

/**
 * Takes the per-customer index off the ingest path. An index on `events` by customer is written
 * in every ingest commit, and since customers arrive in random order each event dirties its own
 * index page: for a 64-event group commit, about 64 more 4 KiB pages to write and fsync, the
 * largest cost of a commit (the benchmark measured a third fewer events/s with it). Ingest now
 * keeps only what it needs (the rows in arrival order and the unique id index); processing copies
 * the columns it reads into `customer_events`, clustered by customer, in its own large
 * transactions, where one page write serves many events. `indexed_seq` says how far that copy
 * goes: every event with seq <= indexed_seq is in it, none after.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'customer-events',
  up: `
    CREATE TABLE customer_events (
      customer_id    TEXT NOT NULL,
      occurred_ms    INTEGER NOT NULL,
      seq            INTEGER NOT NULL,
      name           TEXT NOT NULL,
      store_id       TEXT,
      id             TEXT NOT NULL,
      has_offset     INTEGER NOT NULL,
      time_elapsed_s REAL,
      received_ms    INTEGER NOT NULL,
      PRIMARY KEY (customer_id, occurred_ms, seq)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO customer_events
      SELECT customer_id, occurred_ms, seq, name, store_id, id, has_offset, time_elapsed_s,
             received_ms
      FROM events ORDER BY customer_id, occurred_ms, seq;
    ALTER TABLE processing_state ADD COLUMN indexed_seq INTEGER NOT NULL DEFAULT 0;
    -- A rebuild's stream-wide tallies so far (JSON), summed batch by batch over the customers
    -- it recomputed, so that its last batch need not scan every event again.
    ALTER TABLE processing_state ADD COLUMN rebuild_tallies TEXT;
    -- A rebuild in progress has no tallies for the customers it already did: start it over
    -- (recomputing is idempotent; rows that come out the same are not touched).
    UPDATE processing_state
      SET rebuild_after_customer = NULL,
          rebuild_tallies = '{"missing":null,"noOffset":{},"future":{}}'
      WHERE rebuild_target_seq IS NOT NULL;
    UPDATE processing_state SET indexed_seq = (SELECT coalesce(max(seq), 0) FROM events);
    DROP INDEX events_by_customer;
  `,
}
