import type { Migration } from './migration'

/**
 * Processing reads one customer's events at a time (customer_id, in timestamp order). With the
 * index of 0001 each of those rows is a random lookup into the table; this index covers the read
 * (everything but `raw`), so a customer's events are one contiguous index range, and only
 * checkouts, whose items live in the raw payload, still fetch their row. Same leading columns as
 * before, so every query that used the old index still does; ingest still maintains one index.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'processing-index',
  up: `
    DROP INDEX events_by_customer;
    CREATE INDEX events_by_customer ON events
      (customer_id, occurred_ms, seq, name, store_id, id, has_offset, time_elapsed_s);
  `,
}
