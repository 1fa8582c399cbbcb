import type { Logger } from '../logger'
import type { WritableDB } from '../store/database'
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
  private timer: NodeJS.Timeout | null = null
  private running: Promise<RunReport> | null = null
  private queued: Promise<RunReport> | null = null
  private stopped = false
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
  }

  /** Starts the interval timer (and one run straight away, for what was stored while down). */
  start(): void {
    if (this.stopped || this.timer || this.intervalMs <= 0) return
    this.timer = setInterval(() => this.tick(), this.intervalMs)
    this.tick()
  }

  private tick(): void {
    // A run already in progress covers this tick; failures are logged and alerted by run().
    if (this.running) return
    this.runNow().catch(() => {})
  }

  runNow(): Promise<RunReport> {
    if (this.stopped) return Promise.reject(new Error('processing is stopped'))
    if (!this.running) {
      this.running = this.run().finally(() => {
        this.running = null
      })
      return this.running
    }
    // Coalesce: every caller during a run shares the one run that follows it.
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = null
        return this.runNow()
      })
    return this.queued
  }

  /** Stops the timer and waits for a run in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true
    this.runner.stop()
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
    await this.queued?.catch(() => {})
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
