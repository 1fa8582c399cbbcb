import type { Migration } from './migration'

/**
 * Processing: what the stored events become (PROCESSING.md). Everything here except the user's
 * own actions (alert dismissals, retry requests, quarantine corrections) is derived from the
 * `events` and `quarantine` tables and can be rebuilt from them (`footfall reprocess`).
 *
 * `version` columns are handed out from `processing_state.change_seq` whenever a derived row
 * really changes, so the Salesforce sync can select "changed since I last wrote" cheaply.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'processing',
  up: `
    -- One row. Invariant: every visit, rollup, failure and customer alert equals the rules applied
    -- to the events with seq <= cursor_seq and "now" = now_ms (their latest timestamp), except
    -- while a rebuild is in progress (rebuild_target_seq not NULL), which the next run finishes.
    CREATE TABLE processing_state (
      id                    INTEGER PRIMARY KEY CHECK (id = 1),
      cursor_seq            INTEGER NOT NULL,
      now_ms                INTEGER,
      quarantine_cursor     INTEGER NOT NULL,
      change_seq            INTEGER NOT NULL,
      rebuild_target_seq    INTEGER,
      rebuild_now_ms        INTEGER,
      rebuild_after_customer TEXT,
      last_run_ms           INTEGER
    ) STRICT;
    INSERT INTO processing_state (id, cursor_seq, now_ms, quarantine_cursor, change_seq)
    VALUES (1, 0, NULL, 0, 0);

    CREATE TABLE visits (
      visit_key      TEXT PRIMARY KEY,             -- <customer_id>:<id of the visit's first event>
      customer_id    TEXT NOT NULL,
      store_id       TEXT,                         -- NULL: the "unknown" store
      status         TEXT NOT NULL CHECK (status IN ('open', 'closed', 'incomplete', 'abandoned')),
      entry_inferred INTEGER NOT NULL CHECK (entry_inferred IN (0, 1)),
      entered_ms     INTEGER,                      -- NULL: unknown (exit alone, no time_elapsed)
      started_ms     INTEGER NOT NULL,             -- entered_ms, else the first event's time
      exited_ms      INTEGER,
      last_event_ms  INTEGER NOT NULL,
      last_event_id  TEXT NOT NULL,
      event_count    INTEGER NOT NULL,
      tis_ms         INTEGER,                      -- NULL: TIS unknown
      spend_cents    INTEGER NOT NULL,
      checkouts      INTEGER NOT NULL,
      brands         TEXT NOT NULL,                -- by spend, highest first, ';'-joined
      items_json     TEXT NOT NULL,
      version        INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX visits_by_customer ON visits (customer_id, started_ms);
    CREATE INDEX visits_by_start ON visits (started_ms);
    CREATE INDEX visits_open ON visits (last_event_ms) WHERE status = 'open';
    CREATE INDEX visits_open_by_store ON visits (store_id) WHERE status = 'open';
    CREATE INDEX visits_by_version ON visits (version);

    -- A visit that stopped existing (a late event gave it another first event, so another key):
    -- the sync deletes or supersedes the record it wrote under the old key.
    CREATE TABLE visit_removals (
      visit_key   TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      version     INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX visit_removals_by_version ON visit_removals (version);

    CREATE TABLE customer_rollups (
      customer_id       TEXT PRIMARY KEY,
      visit_count       INTEGER NOT NULL,
      visits_30d        INTEGER NOT NULL,
      first_visit_ms    INTEGER,
      last_visit_ms     INTEGER,
      last_store_id     TEXT,
      avg_tis_minutes   REAL,                      -- 2 decimals; NULL when no TIS is known
      total_spend_cents INTEGER NOT NULL,
      purchase_visits   INTEGER NOT NULL,
      top_brands        TEXT NOT NULL,
      version           INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX customer_rollups_by_version ON customer_rollups (version);

    CREATE TABLE processing_failures (
      event_seq       INTEGER PRIMARY KEY,
      event_id        TEXT NOT NULL,
      customer_id     TEXT NOT NULL,
      code            TEXT NOT NULL,               -- the kind, for "retry all of a kind"
      error           TEXT NOT NULL,
      state           TEXT NOT NULL CHECK (state IN ('failed', 'retrying', 'resolved')),
      attempts        INTEGER NOT NULL,
      first_failed_ms INTEGER NOT NULL,            -- wall clock, for the operator
      last_failed_ms  INTEGER NOT NULL,
      resolved_ms     INTEGER
    ) STRICT;
    CREATE INDEX processing_failures_by_customer ON processing_failures (customer_id);
    CREATE INDEX processing_failures_by_state ON processing_failures (state, code);

    -- Customers to recompute on the next run whatever the cursor says (retries).
    CREATE TABLE processing_requeue (
      customer_id  TEXT PRIMARY KEY,
      requested_ms INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE alerts (
      key              TEXT PRIMARY KEY,           -- kind:subject, stable across rebuilds
      kind             TEXT NOT NULL,
      severity         TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
      scope            TEXT NOT NULL CHECK (scope IN ('customer', 'stream', 'quarantine', 'run')),
      customer_id      TEXT,
      visit_key        TEXT,
      event_id         TEXT,
      store_id         TEXT,
      quarantine_seq   INTEGER,
      message          TEXT NOT NULL,
      first_seen_ms    INTEGER NOT NULL,
      last_seen_ms     INTEGER NOT NULL,
      count            INTEGER NOT NULL,
      state            TEXT NOT NULL CHECK (state IN ('open', 'retrying', 'resolved', 'dismissed')),
      state_changed_ms INTEGER NOT NULL            -- wall clock of the last state change
    ) STRICT;
    CREATE INDEX alerts_by_customer ON alerts (customer_id) WHERE customer_id IS NOT NULL;
    CREATE INDEX alerts_by_state ON alerts (state, kind);

    -- A corrected quarantined body and what replaying it gave. quarantine.raw is never changed:
    -- the original bytes stay for audit.
    CREATE TABLE quarantine_replays (
      quarantine_seq INTEGER PRIMARY KEY REFERENCES quarantine (seq),
      state          TEXT NOT NULL CHECK (state IN ('stored', 'duplicate', 'rejected')),
      corrected_raw  BLOB NOT NULL,
      event_id       TEXT,                         -- the stored (or already stored) event
      reason         TEXT,                         -- why the correction was still refused
      attempts       INTEGER NOT NULL,
      replayed_ms    INTEGER NOT NULL
    ) STRICT;

    -- Live views read "the last hour of the stream"; the (mostly increasing) key keeps inserts cheap.
    CREATE INDEX events_by_time ON events (occurred_ms);
  `,
}
