/**
 * Group commit: operations that arrive while the previous commit is on its way to disk wait and
 * then share the next transaction and its single fsync; each caller is answered only after its
 * own commit. Per-request commits cap out at the disk's fsync rate; grouping lifts that cap by
 * the batch size, which grows with load by itself.
 *
 * `commit` keeps a whole batch in one transaction and returns one outcome per operation, in
 * order. If it fails, nothing of the batch was kept and every caller in it gets the error.
 * At most `maxInFlight` batches are in flight (default one); with more, `commit` must keep them
 * in the order it was given them (the commit thread does: it groups them further, in order).
 */
export class GroupCommitter<Op, Outcome> {
  private pending: { op: Op; resolve: (o: Outcome) => void; reject: (e: unknown) => void }[] = []
  private scheduled = false
  private inFlight = 0
  private idleWaiters: (() => void)[] = []
  batches = 0
  operations = 0

  constructor(
    private readonly commit: (ops: Op[]) => Promise<Outcome[]> | Outcome[],
    private readonly maxBatch = 1000,
    private readonly maxInFlight = 1,
  ) {}

  submit(op: Op): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.pending.push({ op, resolve, reject })
      this.schedule()
    })
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private isIdle(): boolean {
    return !this.scheduled && this.inFlight === 0 && this.pending.length === 0
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.pending.length === 0) return
    this.scheduled = true
    // setImmediate runs after the poll phase: every request body that completed in this turn
    // of the loop is queued by then and rides in the same transaction.
    setImmediate(() => void this.flush())
  }

  private async flush(): Promise<void> {
    this.scheduled = false
    this.inFlight += 1
    const batch = this.pending.splice(0, this.maxBatch)
    // More of the queue may go at once (a batch cap, or more batches allowed in flight).
    this.schedule()
    try {
      const outcomes = await this.commit(batch.map((p) => p.op))
      this.batches += 1
      this.operations += batch.length
      batch.forEach((p, i) => p.resolve(outcomes[i] as Outcome))
    } catch (error) {
      for (const p of batch) p.reject(error)
    } finally {
      this.inFlight -= 1
    }
    this.schedule()
    if (this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake()
  }
}
