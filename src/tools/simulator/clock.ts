import { performance } from 'node:perf_hooks'

/**
 * The simulated clock: starts at `startMs` and runs `speed` times faster than real time. Real time
 * is read from the monotonic clock so that a wall-clock jump (NTP, sleep) does not skew a run.
 */
export class SimClock {
  private realStart: number

  constructor(
    readonly startMs: number,
    readonly speed: number,
    private readonly realNow: () => number = () => performance.now(),
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be > 0, got ${speed}`)
    this.realStart = realNow()
  }

  /** Sets the simulated clock back to `startMs`, now: a run starts its clock when it starts sending. */
  restart(): void {
    this.realStart = this.realNow()
  }

  /** Real milliseconds since the clock started. */
  realElapsed(): number {
    return this.realNow() - this.realStart
  }

  /** The simulated time now, in epoch milliseconds. */
  now(): number {
    return this.startMs + this.realElapsed() * this.speed
  }

  /** Real milliseconds from now until the simulated clock shows `simMs` (0 if already past). */
  realDelayUntil(simMs: number): number {
    return Math.max(0, (simMs - this.now()) / this.speed)
  }
}
