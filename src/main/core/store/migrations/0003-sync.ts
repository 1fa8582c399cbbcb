import type { Migration } from './migration'

/**
 * The Salesforce sync's state. Nothing here is derived from events: it records what Salesforce
 * holds and what is left to write, so `footfall reprocess` never touches it.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'sync',
  up: `
    -- Which Account carries each customer's id (In_Store_Customer_Id__c); account_id NULL while
    -- no Account does (an unmatched customer, re-checked in bounded batches).
    CREATE TABLE sf_accounts (
      customer_id TEXT PRIMARY KEY,
      account_id  TEXT,
      checked_ms  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX sf_accounts_unmatched ON sf_accounts (checked_ms) WHERE account_id IS NULL;

    -- One row per record the sync has tried to write: its last written version and its state.
    -- kind 'account': key = customer_id; 'visit' and 'visit_removal': key = visit_key.
    CREATE TABLE sync_records (
      kind              TEXT NOT NULL CHECK (kind IN ('account', 'visit', 'visit_removal')),
      key               TEXT NOT NULL,
      customer_id       TEXT NOT NULL,
      state             TEXT NOT NULL CHECK (state IN ('synced', 'retrying', 'failed', 'unmatched')),
      synced_version    INTEGER NOT NULL DEFAULT 0,  -- the version Salesforce holds
      attempted_version INTEGER NOT NULL DEFAULT 0,  -- the version last tried
      attempts          INTEGER NOT NULL DEFAULT 0,  -- failed tries of attempted_version
      next_attempt_ms   INTEGER,
      error_code        TEXT,
      error_message     TEXT,
      error_fields      TEXT,
      sf_id             TEXT,
      last_attempt_ms   INTEGER,
      synced_ms         INTEGER,
      PRIMARY KEY (kind, key)
    ) STRICT;
    CREATE INDEX sync_records_by_state ON sync_records (state, kind, next_attempt_ms);
    CREATE INDEX sync_records_by_customer ON sync_records (customer_id);

    -- Where each kind's scan of changed rows has reached (processing's version numbers).
    CREATE TABLE sync_cursors (
      kind    TEXT PRIMARY KEY,
      version INTEGER NOT NULL
    ) STRICT;
    INSERT INTO sync_cursors (kind, version) VALUES ('account', 0), ('visit', 0), ('visit_removal', 0);

    CREATE TABLE sync_runs (
      id               INTEGER PRIMARY KEY,
      started_ms       INTEGER NOT NULL,
      ended_ms         INTEGER,
      trigger          TEXT NOT NULL,
      outcome          TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'partial', 'paused', 'failed')),
      mode             TEXT,
      accounts_written INTEGER NOT NULL DEFAULT 0,
      visits_written   INTEGER NOT NULL DEFAULT 0,
      records_failed   INTEGER NOT NULL DEFAULT 0,
      records_waiting  INTEGER NOT NULL DEFAULT 0,
      api_calls        INTEGER NOT NULL DEFAULT 0,
      org_used         INTEGER,
      org_max          INTEGER,
      message          TEXT,
      errors_json      TEXT NOT NULL DEFAULT '[]'
    ) STRICT;
    CREATE INDEX sync_runs_by_start ON sync_runs (started_ms);
  `,
}
