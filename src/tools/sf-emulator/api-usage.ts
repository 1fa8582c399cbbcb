import type { Store } from './store'

const MINUTE = 60_000
const WINDOW_MINUTES = 24 * 60

/**
 * The org's API request allocation over a rolling 24 hours, as `Sforce-Limit-Info` and `/limits`
 * report it. Counted per minute so the window rolls without keeping one row per request.
 */
export class ApiUsage {
  private readonly buckets = new Map<number, number>()

  constructor(
    private readonly store: Store,
    private allocation: number,
    private readonly now: () => number = Date.now,
  ) {
    const rows = store.db.prepare('SELECT minute, count FROM api_usage').all() as {
      minute: number
      count: number
    }[]
    for (const row of rows) this.buckets.set(row.minute, row.count)
  }

  get max(): number {
    return this.allocation
  }

  setAllocation(max: number): void {
    this.allocation = max
  }

  used(): number {
    const oldest = Math.floor(this.now() / MINUTE) - WINDOW_MINUTES + 1
    let total = 0
    for (const [minute, count] of this.buckets) {
      if (minute >= oldest) total += count
      else this.buckets.delete(minute)
    }
    return total
  }

  /** Counts one request if the allocation allows it; false when the org is out of requests. */
  take(): boolean {
    if (this.used() >= this.allocation) return false
    this.add(1)
    return true
  }

  /** Adds requests as if made now (an admin uses it to bring an org near its limit). */
  add(n: number): void {
    const minute = Math.floor(this.now() / MINUTE)
    const count = (this.buckets.get(minute) ?? 0) + n
    this.buckets.set(minute, count)
    this.store.db
      .prepare('INSERT OR REPLACE INTO api_usage (minute, count) VALUES (?, ?)')
      .run(minute, count)
    if (minute % 60 === 0) {
      // Once an hour is enough to keep the table to the window.
      this.store.db.prepare('DELETE FROM api_usage WHERE minute <= ?').run(minute - WINDOW_MINUTES)
    }
  }

  reset(): void {
    this.buckets.clear()
    this.store.db.prepare('DELETE FROM api_usage').run()
  }
}
