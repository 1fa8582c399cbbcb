import type { Logger } from '../logger'
import type { WritableDB } from '../store/database'
import { AccountMatcher } from './account-matcher'
import { backoffDelayMs } from './backoff'
import {
  COLLECTION_SIZE,
  COLLECTIONS_PER_COMPOSITE,
  deleteRequest,
  saveRequest,
} from './collection-requests'
import type { CollectionOutcome, CollectionRequest, CollectionResult } from './collection-requests'
import type { RollupRecordSource, VisitRecordSource } from './field-mapping'
import { accountFields, salesforceVisitKey, visitFields } from './field-mapping'
import { classifySfError } from './salesforce-errors'
import { errorInfo } from './sf-session'
import type { OrgUsage, SfErrorInfo, SfSession } from './sf-session'
import type { SyncConfig } from './settings'
import { AlertWriter } from '../processing/alert-store'
import { raiseSyncAlert, resolveSyncAlertsExcept } from './sync-alerts'
import { SyncStore } from './sync-store'
import type { RemovalRow, SyncRunReport, WorkItem } from './sync-store'

export type { SyncRunReport } from './sync-store'

/** A chunk's write came back: per record, the Salesforce id or the error. */
type RecordResult = { ok: true; id: string | null } | { ok: false; error: SfErrorInfo }

/** One collections request of a run, waiting to be sent alone or packed into a composite call. */
interface PendingWrite {
  items: WorkItem<unknown>[]
  request: CollectionRequest
  /** Each record's outcome from the request's results, in input order. */
  outcomes(results: CollectionResult[]): RecordResult[]
  /** Counts the records written into the run's report. */
  written(n: number): void
}

const saveOutcome = (r: CollectionResult): RecordResult =>
  r.success
    ? { ok: true, id: r.id ?? null }
    : {
        ok: false,
        error: {
          code: r.errors[0]?.statusCode ?? 'UNKNOWN_EXCEPTION',
          message: r.errors[0]?.message ?? 'no message',
          fields: r.errors[0]?.fields ?? [],
        },
      }

/** A record already gone counts as deleted. */
const deleteOutcome = (r: CollectionResult): RecordResult =>
  r.success || r.errors[0]?.statusCode === 'ENTITY_IS_DELETED'
    ? { ok: true, id: null }
    : {
        ok: false,
        error: {
          code: r.errors[0]?.statusCode ?? 'UNKNOWN_EXCEPTION',
          message: r.errors[0]?.message ?? '',
          fields: [],
        },
      }

const ALERT_UNMATCHED = 'sync:unmatched'
const ALERT_BUDGET = 'sync:budget'
const ALERT_LOGIN = 'sync:login'
const ALERT_FAILED_PREFIX = 'sync:failed:'

class BudgetSpent extends Error {}
class DailyLimit extends Error {}

/**
 * One sync run: match customers to Accounts in bulk, write changed rollups (Account updates) and
 * visits (upserts on Visit_Key__c), by sObject Collections or, past a threshold, Bulk API 2.0;
 * within the API budget; every record's outcome stored, every failure visible. A run's
 * collections requests travel five to a Composite call, which Salesforce counts as one.
 *
 * Idempotent by design: a run that dies halfway is redone by the next one, and rewriting a
 * record writes the same values (updates by id, upserts by external id), so nothing is created
 * twice. A record changed while its write is in flight keeps a higher version than the one
 * written, so it is written again.
 */
export class SyncEngine {
  private readonly store: SyncStore
  private readonly matcher: AccountMatcher
  private readonly alerts: AlertWriter

  constructor(
    private readonly db: WritableDB,
    private readonly session: () => Promise<SfSession>,
    private readonly config: SyncConfig,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.store = new SyncStore(db)
    this.matcher = new AccountMatcher(db, config.matchTtlMs, config.unmatchedRecheckAfterMs)
    this.alerts = new AlertWriter(db, clock)
  }

  async run(trigger: string): Promise<SyncRunReport> {
    const started = this.clock()
    const runId = this.store.startRun(trigger, started)
    const report: SyncRunReport = {
      runId,
      outcome: 'ok',
      mode: null,
      accountsWritten: 0,
      visitsWritten: 0,
      failed: 0,
      waiting: 0,
      apiCalls: 0,
      message: null,
    }
    const errors: unknown[] = []
    let session: SfSession | null = null
    let callsAtStart = 0
    try {
      session = await this.session()
      this.alerts.resolve(ALERT_LOGIN)
      callsAtStart = session.calls
      await this.runWith(session, report, errors)
    } catch (error) {
      const info = errorInfo(error)
      if (error instanceof BudgetSpent || error instanceof DailyLimit) {
        report.outcome = 'paused'
        report.message = error.message
      } else {
        report.outcome = 'failed'
        const advice = classifySfError(info.code, info.message).advice
        report.message = `${info.code}: ${info.message}`
        if (!session) {
          raiseSyncAlert(
            this.alerts,
            {
              key: ALERT_LOGIN,
              kind: 'sync_login_failed',
              severity: 'error',
              count: 1,
              message: `Footfall could not log in to Salesforce (${info.code}: ${info.message}); nothing is synced until it can. What to do: ${advice}.`,
            },
            this.clock(),
          )
        }
        this.logger.error(`sync run ${runId} failed: ${report.message}`)
      }
    } finally {
      if (session) report.apiCalls = session.calls - callsAtStart
      const usage = session?.usage() ?? null
      this.store.finishRun(
        {
          ...report,
          orgUsed: usage?.used ?? null,
          orgMax: usage?.max ?? null,
          errors,
        },
        this.clock(),
      )
    }
    return report
  }

  private async runWith(
    session: SfSession,
    report: SyncRunReport,
    errors: unknown[],
  ): Promise<void> {
    const now = this.clock()
    const startCalls = session.calls
    // The calls this run may make: the allocation less the reserve for the org's other
    // integrations, less what the org has used in the rolling day. The last response's
    // Sforce-Limit-Info is free; when it says the budget is spent, /limits has the fresh figure
    // (the rolling window may have freed calls since).
    const allowedBy = (u: OrgUsage): number =>
      Math.floor(u.max * (1 - this.config.reserveShare)) - u.used
    let usage = session.usage()
    if (!usage || allowedBy(usage) <= 0) usage = await session.limits()
    const allowed = allowedBy(usage)
    const budgetLeft = (): number => allowed - (session.calls - startCalls)
    if (budgetLeft() <= 0) {
      raiseSyncAlert(
        this.alerts,
        {
          key: ALERT_BUDGET,
          kind: 'sync_paused_budget',
          severity: 'warning',
          count: 1,
          message: `Sync is paused: the org has used ${usage.used} of ${usage.max} API calls in the last 24 hours, and ${Math.round(this.config.reserveShare * 100)}% is kept for its other integrations. It resumes by itself as the rolling 24-hour window frees calls (checked every run); raise the allocation or lower --sync-reserve to resume sooner.`,
        },
        now,
      )
      throw new BudgetSpent(
        `paused: API budget spent (${usage.used}/${usage.max}, reserve ${this.config.reserveShare})`,
      )
    }
    this.alerts.resolve(ALERT_BUDGET)

    // 1. Matching: every customer with something to write, and a batch of unmatched re-checks.
    const limit = this.config.maxRecordsPerRun
    // Read once: customers still without an Account are set aside by writeKind, with no call.
    const accounts = this.store.accountWork(limit, now)
    const visits = this.store.visitWork(limit, now)
    const candidates = new Set<string>([...accounts, ...visits].map((w) => w.customerId))
    const toLookUp = new Set([
      ...this.matcher.stale(candidates, now),
      ...this.matcher.dueForRecheck(this.config.unmatchedRecheck, now),
    ])
    await this.matcher.lookUp(session, [...toLookUp], now)
    const matches = this.matcher.cached(candidates)

    // 2. Work for this run, besides the changed rows and retries above.
    const removals = this.store.removalWork(limit, now)
    const modes = new Set<string>()

    // 3. Writes: bulk jobs as they come, every collections request of the run packed together.
    // Each kind's cursor moves past its rows once every one of them has a stored outcome
    // (written, failed, retrying, postponed or unmatched); a pause leaves that true, a bug does not.
    let recorded = false
    try {
      const writes = [
        ...(await this.writeKind(session, accounts, matches, budgetLeft, report, errors, modes)),
        ...(await this.writeKind(session, visits, matches, budgetLeft, report, errors, modes)),
        ...this.removeVisits(removals),
      ]
      await this.send(session, writes, budgetLeft, report, errors)
      recorded = true
    } catch (error) {
      recorded = error instanceof BudgetSpent || error instanceof DailyLimit
      throw error
    } finally {
      if (recorded) {
        this.store.setCursor('account', maxVersion(accounts))
        this.store.setCursor('visit', maxVersion(visits))
        this.store.setCursor('visit_removal', maxVersion(removals))
      }
      report.mode = modes.size === 0 ? null : [...modes].join('+')
      this.refreshAlerts(now)
    }
    report.waiting = this.matcher.unmatchedCount()
    if (report.failed > 0) report.outcome = 'partial'
  }

  /**
   * One kind of record: past the bulk threshold, written now as one bulk job; below it, cut into
   * collections requests of 200 for `send` to pack.
   */
  private async writeKind(
    session: SfSession,
    items: WorkItem<RollupRecordSource>[] | WorkItem<VisitRecordSource>[],
    matches: Map<string, string | null>,
    budgetLeft: () => number,
    report: SyncRunReport,
    errors: unknown[],
    modes: Set<string>,
  ): Promise<PendingWrite[]> {
    const now = this.clock()
    const ready: WorkItem<RollupRecordSource | VisitRecordSource>[] = []
    this.store.transaction(() => {
      for (const item of items) {
        if (matches.get(item.customerId)) ready.push(item)
        else this.store.markUnsynced(item, 'unmatched', 0, null, null, now)
      }
    })
    if (ready.length === 0) return []
    const kind = ready[0]?.kind
    const object = kind === 'account' ? 'Account' : 'Footfall_Visit__c'
    const toRecord = (
      item: WorkItem<RollupRecordSource | VisitRecordSource>,
    ): Record<string, unknown> => {
      const accountId = matches.get(item.customerId) ?? ''
      return kind === 'account'
        ? { Id: accountId, ...accountFields(item.row as RollupRecordSource, now) }
        : visitFields(item.row as VisitRecordSource, accountId)
    }
    const count = (n: number): void => {
      if (kind === 'account') report.accountsWritten += n
      else report.visitsWritten += n
    }

    if (ready.length > this.config.bulkThreshold) {
      modes.add('bulk')
      // A bulk job costs a handful of calls whatever its size; it needs at least that many left.
      if (budgetLeft() < 12) this.postpone(ready, 'budget')
      else {
        const keyField = kind === 'account' ? 'Id' : 'Visit_Key__c'
        try {
          const outcome = await session.bulk(
            object,
            kind === 'account' ? 'update' : 'upsert',
            ready.map(toRecord),
            keyField,
            this.config.bulkPollIntervalMs,
            this.config.bulkTimeoutMs,
          )
          count(this.apply(ready, outcome.results, report, errors))
        } catch (error) {
          this.failRequest(ready, errorInfo(error), report, errors)
        }
      }
      return []
    }

    modes.add('collections')
    const writes: PendingWrite[] = []
    for (let i = 0; i < ready.length; i += COLLECTION_SIZE) {
      const chunk = ready.slice(i, i + COLLECTION_SIZE)
      writes.push({
        items: chunk,
        request: saveRequest(
          object,
          chunk.map(toRecord),
          kind === 'visit' ? 'Visit_Key__c' : undefined,
        ),
        outcomes: (results) => results.map(saveOutcome),
        written: count,
      })
    }
    return writes
  }

  /** Visits that stopped existing: delete the records Salesforce holds under their old keys. */
  private removeVisits(items: WorkItem<RemovalRow>[]): PendingWrite[] {
    const now = this.clock()
    const held: { item: WorkItem<RemovalRow>; sfId: string }[] = []
    this.store.transaction(() => {
      for (const item of items) {
        const sfId = this.store.visitSfId(item.key)
        if (sfId) held.push({ item, sfId })
        else this.store.markSynced(item, null, now) // never written: nothing to delete
      }
    })
    const writes: PendingWrite[] = []
    for (let i = 0; i < held.length; i += COLLECTION_SIZE) {
      const chunk = held.slice(i, i + COLLECTION_SIZE)
      writes.push({
        items: chunk.map((h) => h.item),
        request: deleteRequest(chunk.map((h) => h.sfId)),
        outcomes: (results) => results.map(deleteOutcome),
        written: () => undefined, // deletions are not counted as records written
      })
    }
    return writes
  }

  /**
   * Sends the run's collections requests, up to five to a Composite call (one API call for as
   * many as 1,000 records); a request left alone goes directly, which costs the same one call.
   * Each request's records take its results, or, when it failed as a whole, its error, exactly
   * as when every request was its own call. A failure of the call itself is every record's.
   */
  private async send(
    session: SfSession,
    writes: PendingWrite[],
    budgetLeft: () => number,
    report: SyncRunReport,
    errors: unknown[],
  ): Promise<void> {
    for (let i = 0; i < writes.length; i += COLLECTIONS_PER_COMPOSITE) {
      const pack = writes.slice(i, i + COLLECTIONS_PER_COMPOSITE)
      if (budgetLeft() < 1) {
        this.postpone(
          writes.slice(i).flatMap((w) => w.items),
          'budget',
        )
        throw new BudgetSpent('paused: API budget for this run spent; the rest is written next run')
      }
      let outcomes: CollectionOutcome[]
      try {
        outcomes =
          pack.length === 1
            ? [{ ok: true, results: await session.collection(pack[0]!.request) }]
            : await session.composite(pack.map((w) => w.request))
      } catch (error) {
        const info = errorInfo(error)
        this.failRequest(
          pack.flatMap((w) => w.items),
          info,
          report,
          errors,
        )
        if (classifySfError(info.code, info.message).kind === 'daily_limit') {
          this.postpone(
            writes.slice(i + COLLECTIONS_PER_COMPOSITE).flatMap((w) => w.items),
            'daily limit',
          )
          throw new DailyLimit(`paused: the org's daily API limit is reached (${info.message})`)
        }
        continue
      }
      pack.forEach((write, j) => {
        const outcome = outcomes[j]!
        if (outcome.ok)
          write.written(this.apply(write.items, write.outcomes(outcome.results), report, errors))
        else this.failRequest(write.items, outcome.error, report, errors)
      })
    }
  }

  /** Stores each record's outcome; returns how many were written. */
  private apply(
    items: WorkItem<unknown>[],
    results: RecordResult[],
    report: SyncRunReport,
    errors: unknown[],
  ): number {
    const now = this.clock()
    let written = 0
    this.store.transaction(() => {
      items.forEach((item, i) => {
        const result = results[i] ?? {
          ok: false,
          error: { code: 'UNKNOWN_EXCEPTION', message: 'no result for this record', fields: [] },
        }
        if (result.ok) {
          this.store.markSynced(item, result.id, now)
          written += 1
        } else {
          this.recordFailure(item, result.error, report, errors, now)
        }
      })
    })
    return written
  }

  /** A whole request failed: each of its records takes the request's error. */
  private failRequest(
    items: WorkItem<unknown>[],
    info: SfErrorInfo,
    report: SyncRunReport,
    errors: unknown[],
  ): void {
    const kinds = [...new Set(items.map((i) => i.kind))].join('/')
    this.logger.warn(
      `sync request for ${items.length} ${kinds} record(s) failed: ${info.code}: ${info.message}`,
    )
    const now = this.clock()
    this.store.transaction(() => {
      for (const item of items) this.recordFailure(item, info, report, errors, now)
    })
  }

  private recordFailure(
    item: WorkItem<unknown>,
    error: SfErrorInfo,
    report: SyncRunReport,
    errors: unknown[],
    now: number,
  ): void {
    const verdict = classifySfError(error.code, error.message)
    // Attempts count the failures of this version; a newer version starts again at one.
    const attempts =
      (item.prior && item.prior.attempted_version === item.version ? item.prior.attempts : 0) + 1
    if (verdict.retryable && attempts < verdict.maxAttempts) {
      this.store.markUnsynced(
        item,
        'retrying',
        attempts,
        now + backoffDelayMs(attempts, this.config.backoff),
        error,
        now,
      )
    } else {
      this.store.markUnsynced(item, 'failed', attempts, null, error, now)
      report.failed += 1
    }
    if (errors.length < 50)
      errors.push({
        kind: item.kind,
        key: item.key,
        ...error,
        retryable: verdict.retryable,
        attempts,
      })
  }

  /** Records not attempted this run (budget): they come back as retries, attempts unchanged. */
  private postpone(items: WorkItem<unknown>[], why: string): void {
    const now = this.clock()
    this.store.transaction(() => {
      for (const item of items) {
        const attempts =
          item.prior && item.prior.attempted_version === item.version ? item.prior.attempts : 0
        this.store.markUnsynced(
          item,
          'retrying',
          attempts,
          now,
          { code: 'POSTPONED', message: `not attempted: ${why}`, fields: [] },
          now,
        )
      }
    })
  }

  /** The grouped alerts: unmatched customers, and failed records by kind and error. */
  private refreshAlerts(now: number): void {
    const unmatched = this.matcher.unmatchedCount()
    if (unmatched > 0) {
      const sample = this.matcher.unmatchedSample(5)
      raiseSyncAlert(
        this.alerts,
        {
          key: ALERT_UNMATCHED,
          kind: 'sync_unmatched_customers',
          severity: 'warning',
          count: unmatched,
          message: `${unmatched} customer${unmatched === 1 ? ' has' : 's have'} no Salesforce Account with In_Store_Customer_Id__c set (for example ${sample.join(', ')}). Footfall never creates Accounts: create them, or put the customer id on the right Account; each is written automatically once its Account appears.`,
        },
        now,
      )
    } else this.alerts.resolve(ALERT_UNMATCHED)

    const groups = this.db
      .prepare(
        `SELECT kind, error_code, count(*) AS n, min(key) AS example, min(error_message) AS message,
                min(error_fields) AS fields
         FROM sync_records WHERE state = 'failed' GROUP BY kind, error_code`,
      )
      .all() as {
      kind: string
      error_code: string
      n: number
      example: string
      message: string
      fields: string | null
    }[]
    const keep = new Set<string>()
    for (const g of groups) {
      const key = `${ALERT_FAILED_PREFIX}${g.kind}:${g.error_code}`
      keep.add(key)
      const verdict = classifySfError(g.error_code, g.message)
      const what =
        g.kind === 'account'
          ? 'Account'
          : g.kind === 'visit'
            ? 'Footfall_Visit__c'
            : 'visit deletion'
      raiseSyncAlert(
        this.alerts,
        {
          key,
          kind: 'sync_record_failed',
          severity: 'error',
          count: g.n,
          message: `Salesforce refused ${g.n} ${what} record${g.n === 1 ? '' : 's'} with ${g.error_code}: "${g.message}"${g.fields ? ` (field ${g.fields})` : ''}; for example ${g.kind === 'account' ? 'customer' : 'visit'} ${g.kind === 'visit' ? salesforceVisitKey(g.example) : g.example}. What to do: ${verdict.advice}. Then retry them from the console or with a resync.`,
        },
        now,
      )
    }
    resolveSyncAlertsExcept(this.alerts, ALERT_FAILED_PREFIX, keep)
  }
}

function maxVersion(items: WorkItem<unknown>[]): number {
  return items.reduce((m, i) => Math.max(m, i.version), 0)
}
