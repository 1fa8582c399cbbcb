/**
 * Runs a job every interval and on demand, one run at a time. `runNow()` during a run does not
 * start a second one: every caller in the meantime shares the one run that follows, so each
 * caller sees a run that started after it asked. `stop()` waits for a run in progress.
 */
export class PeriodicRunner<T> {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<T> | null = null
  private queued: Promise<T> | null = null
  private stopped = false

  constructor(
    private readonly name: string,
    private readonly job: () => Promise<T>,
    private readonly intervalMs: number,
    /** Told of a failed run that was started by the timer (runNow's callers get the error). */
    private readonly onTimerError: (error: unknown) => void = () => {},
  ) {}

  /** Starts the timer, with a first run straight away. An interval of 0 means on demand only. */
  start(): void {
    if (this.stopped || this.timer || this.intervalMs <= 0) return
    this.timer = setInterval(() => this.tick(), this.intervalMs)
    this.tick()
  }

  private tick(): void {
    if (this.running) return // the run in progress covers this tick
    this.runNow().catch(this.onTimerError)
  }

  get isStopped(): boolean {
    return this.stopped
  }

  runNow(): Promise<T> {
    if (this.stopped) return Promise.reject(new Error(`${this.name} is stopped`))
    if (!this.running) {
      this.running = this.job().finally(() => {
        this.running = null
      })
      return this.running
    }
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = null
        return this.runNow()
      })
    return this.queued
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
    await this.queued?.catch(() => {})
  }
}
