import type { Logger } from '../logger'
import type { WritableDB } from '../store/database'
import { PeriodicRunner } from '../scheduler/periodic-runner'
import { AlertWriter } from './alert-store'
import type { BatchRunner, RunTotals } from './run-batches'

export interface RunReport extends RunTotals {
  ms: number
}

const RUN_ALERT_KEY = 'processing_run_failed:scheduler'

/**
 * Runs processing every interval and on demand, one run at a time. A run takes batches until
 * there is nothing left (on the processing thread, or on this one: see BatchRunner). `runNow()` during a run does not start a second one: it
 * waits for one run that starts after the call, so its caller sees everything stored before it.
 */
export class ProcessingScheduler {
  private readonly periodic: PeriodicRunner<RunReport>
  private readonly alerts: AlertWriter
  lastError: string | null = null
  runs = 0

  constructor(
    db: WritableDB,
    private readonly runner: BatchRunner,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.alerts = new AlertWriter(db, Date.now)
    // A failed run started by the timer is already logged and alerted by run().
    this.periodic = new PeriodicRunner('processing', () => this.run(), this.intervalMs)
  }

  /** Starts the interval timer (and one run straight away, for what was stored while down). */
  start(): void {
    this.periodic.start()
  }

  runNow(): Promise<RunReport> {
    return this.periodic.runNow()
  }

  /** Stops the timer and waits for a run in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.runner.stop()
    await this.periodic.stop()
  }

  private async run(): Promise<RunReport> {
    const started = Date.now()
    let totals: RunTotals
    try {
      totals = await this.runner.run()
    } catch (error) {
      this.runFailed(error)
      throw error
    } finally {
      this.runs += 1
    }
    for (const warning of totals.warnings) this.logger.warn(`processing: ${warning}`)
    if (this.lastError !== null) {
      this.lastError = null
      this.alerts.resolve(RUN_ALERT_KEY)
      this.logger.info('processing runs again')
    }
    return { ...totals, ms: Date.now() - started }
  }

  /**
   * A whole batch failed (disk full, database locked, a bug): nothing of it was written, and the
   * next run does it again. Say so where a person looks, once, not every interval.
   */
  private runFailed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error)
    if (this.lastError !== message) this.logger.error(`processing run failed: ${message}`)
    this.lastError = message
    try {
      const now = Date.now()
      const old = this.alerts.ofKey(RUN_ALERT_KEY)
      const reopened = !old || old.state === 'resolved'
      this.alerts.put(
        {
          key: RUN_ALERT_KEY,
          kind: 'processing_run_failed',
          severity: 'error',
          customer_id: null,
          visit_key: null,
          event_id: null,
          store_id: null,
          message: `Processing failed and wrote nothing of its batch: ${message}. It retries every ${this.intervalMs / 1000} s by itself; if this stays, check disk space and permissions of the data dir, and the log.`,
          first_seen_ms: reopened ? now : (old?.first_seen_ms ?? now),
          last_seen_ms: now,
          count: reopened ? 1 : (old?.count ?? 0) + 1,
        },
        'run',
        'open',
      )
    } catch (alertError) {
      this.logger.error(`could not record the failed run as an alert: ${String(alertError)}`)
    }
  }
}
