import type { Logger } from '../logger'
import { PeriodicRunner } from '../scheduler/periodic-runner'
import type { WritableDB } from '../store/database'
import { errorInfo, SfSession } from './sf-session'
import type { SalesforceSettings, SyncConfig } from './settings'
import { describeSettings } from './settings'
import { SyncEngine } from './sync-engine'
import type { SyncRunReport } from './sync-engine'
import type { SyncKind } from './sync-store'

/**
 * The sync as the core runs it: a login kept between runs (jsforce refreshes it when it
 * expires), a run every interval and on demand, and the manual controls of the console.
 */
export class SyncService {
  private session: SfSession | null = null
  private readonly engine: SyncEngine
  private readonly runner: PeriodicRunner<SyncRunReport>
  private trigger = 'schedule'

  constructor(
    private readonly db: WritableDB,
    private readonly settings: SalesforceSettings,
    config: SyncConfig,
    private readonly logger: Logger,
  ) {
    this.engine = new SyncEngine(db, () => this.connect(), config, logger)
    this.runner = new PeriodicRunner(
      'sync',
      async () => {
        const trigger = this.trigger
        this.trigger = 'schedule'
        const report = await this.engine.run(trigger)
        // A failed run may be a revoked login: the next one logs in afresh.
        if (report.outcome === 'failed') this.session = null
        return report
      },
      config.intervalMs,
      (error) => logger.error(`sync run failed: ${String(error)}`),
    )
  }

  private async connect(): Promise<SfSession> {
    if (this.session) return this.session
    try {
      this.session = await SfSession.login(this.settings)
      this.logger.info(`sync logged in to ${describeSettings(this.settings)}`)
      return this.session
    } catch (error) {
      const info = errorInfo(error)
      this.logger.error(
        `sync could not log in to ${describeSettings(this.settings)}: ${info.code}: ${info.message}`,
      )
      throw error
    }
  }

  start(): void {
    this.runner.start()
  }

  runNow(trigger = 'manual'): Promise<SyncRunReport> {
    this.trigger = trigger
    return this.runner.runNow()
  }

  stop(): Promise<void> {
    return this.runner.stop()
  }

  /** Rewrites everything on the next run ("resync everything", e.g. after the admin's setup). */
  resyncEverything(): Promise<SyncRunReport> {
    markEverythingForResync(this.db)
    return this.runNow('backfill')
  }

  /** Makes failed records due again: one record, or all failures with this error code. */
  retry(selector: { kind: SyncKind; key: string } | { errorCode: string | null }): number {
    return retrySyncRecords(this.db, selector)
  }
}

export function retrySyncRecords(
  db: WritableDB,
  selector: { kind: SyncKind; key: string } | { errorCode: string | null },
): number {
  const set = "SET state = 'retrying', attempts = 0, next_attempt_ms = 0"
  if ('kind' in selector) {
    return db
      .prepare(
        `UPDATE sync_records ${set} WHERE kind = ? AND key = ? AND state IN ('failed', 'retrying')`,
      )
      .run(selector.kind, selector.key).changes
  }
  if (selector.errorCode === null) {
    return db.prepare(`UPDATE sync_records ${set} WHERE state IN ('failed', 'retrying')`).run()
      .changes
  }
  return db
    .prepare(`UPDATE sync_records ${set} WHERE state IN ('failed', 'retrying') AND error_code = ?`)
    .run(selector.errorCode).changes
}

/**
 * Forgets what Salesforce was sent and every Account match, so the next runs look every
 * customer up again and rewrite every record ("resync everything": after the admin's setup, or
 * when the org was restored). Safe while serve runs: it only changes what the next run picks.
 */
export function markEverythingForResync(db: WritableDB): void {
  db.transaction(() => {
    db.prepare('UPDATE sync_cursors SET version = 0').run()
    db.prepare('DELETE FROM sf_accounts').run()
    db.prepare(
      "UPDATE sync_records SET synced_version = 0, state = 'retrying', attempts = 0, next_attempt_ms = 0",
    ).run()
  })()
}
