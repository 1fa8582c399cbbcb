import type { WritableDB } from '../store/database'
import type { SfSession } from './sf-session'
import { inQueries } from './soql'

const MATCH_QUERY = 'SELECT Id, In_Store_Customer_Id__c FROM Account WHERE In_Store_Customer_Id__c'

/**
 * Customer id → Account id, looked up in bulk (IN lists, never one query per customer) and
 * cached in `sf_accounts`. A match is trusted for `ttlMs`; a customer without an Account is
 * re-checked in bounded batches, oldest check first, so it is written as soon as its Account
 * appears without one run ever spending a query per unmatched customer.
 */
export class AccountMatcher {
  constructor(
    private readonly db: WritableDB,
    private readonly ttlMs: number,
    private readonly recheckAfterMs: number,
  ) {}

  /** The cached match of each customer, without any API call (undefined: never looked up). */
  cached(customerIds: Iterable<string>): Map<string, string | null> {
    const get = this.db.prepare('SELECT account_id FROM sf_accounts WHERE customer_id = ?')
    const out = new Map<string, string | null>()
    for (const id of customerIds) {
      const row = get.get(id) as { account_id: string | null } | undefined
      if (row) out.set(id, row.account_id)
    }
    return out
  }

  /** Customers whose match is missing or older than the TTL, among these. */
  stale(customerIds: Iterable<string>, now: number): string[] {
    const get = this.db.prepare('SELECT checked_ms FROM sf_accounts WHERE customer_id = ?')
    const out: string[] = []
    for (const id of new Set(customerIds)) {
      const row = get.get(id) as { checked_ms: number } | undefined
      if (!row || row.checked_ms < now - this.ttlMs) out.push(id)
    }
    return out
  }

  /** Unmatched customers that still have something to write, least recently checked first. */
  dueForRecheck(limit: number, now: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT a.customer_id FROM sf_accounts a
           WHERE a.account_id IS NULL AND a.checked_ms <= ?
             AND EXISTS (SELECT 1 FROM sync_records s WHERE s.customer_id = a.customer_id AND s.state = 'unmatched')
           ORDER BY a.checked_ms LIMIT ?`,
        )
        .all(now - this.recheckAfterMs, limit) as { customer_id: string }[]
    ).map((r) => r.customer_id)
  }

  /** Queries Salesforce for these customers and records what it says, matched or not. */
  async lookUp(session: SfSession, customerIds: string[], now: number): Promise<number> {
    if (customerIds.length === 0) return 0
    const found = new Map<string, string>()
    const queries = inQueries(MATCH_QUERY, customerIds)
    for (const soql of queries) {
      const rows = await session.queryAll<{ Id: string; In_Store_Customer_Id__c: string }>(soql)
      for (const r of rows) found.set(r.In_Store_Customer_Id__c, r.Id)
    }
    const upsert = this.db.prepare(
      `INSERT INTO sf_accounts (customer_id, account_id, checked_ms) VALUES (?, ?, ?)
       ON CONFLICT (customer_id) DO UPDATE SET account_id = excluded.account_id, checked_ms = excluded.checked_ms`,
    )
    this.db.transaction(() => {
      for (const id of customerIds) upsert.run(id, found.get(id) ?? null, now)
    })()
    return queries.length
  }

  /** Forgets every match, so the next runs look them all up again (a full resync). */
  forgetAll(): void {
    this.db.prepare('DELETE FROM sf_accounts').run()
  }

  unmatchedCount(): number {
    return (
      this.db
        .prepare(
          `SELECT count(DISTINCT customer_id) AS n FROM sync_records WHERE state = 'unmatched'`,
        )
        .get() as { n: number }
    ).n
  }

  unmatchedSample(limit: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT customer_id FROM sync_records WHERE state = 'unmatched' ORDER BY customer_id LIMIT ?`,
        )
        .all(limit) as { customer_id: string }[]
    ).map((r) => r.customer_id)
  }
}
