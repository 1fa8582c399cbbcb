/**
 * Group commit: operations submitted in the same turn of the event loop share one transaction and
 * one fsync, and each caller is answered only after that commit. Per-request commits cap out at
 * the disk's fsync rate; grouping lifts that cap by the batch size, which grows with load.
 *
 * `commit` is synchronous (better-sqlite3), runs the whole batch in one transaction and returns
 * one outcome per operation, in order. If it throws, nothing of the batch was kept and every
 * caller in it is rejected with that error.
 */
export class GroupCommitter<Op, Outcome> {
  private pending: { op: Op; resolve: (o: Outcome) => void; reject: (e: unknown) => void }[] = []
  private scheduled = false
  private idleWaiters: (() => void)[] = []
  batches = 0
  operations = 0

  constructor(
    private readonly commit: (ops: Op[]) => Outcome[],
    private readonly maxBatch = 1000,
  ) {}

  submit(op: Op): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.pending.push({ op, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        // setImmediate runs after the poll phase: every request body that completed in this
        // turn of the loop is already queued, so they all ride in the same transaction.
        setImmediate(this.flush)
      }
    })
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  idle(): Promise<void> {
    if (!this.scheduled && this.pending.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private readonly flush = (): void => {
    this.scheduled = false
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch)
      let outcomes: Outcome[]
      try {
        outcomes = this.commit(batch.map((p) => p.op))
      } catch (error) {
        for (const p of batch) p.reject(error)
        continue
      }
      this.batches += 1
      this.operations += batch.length
      batch.forEach((p, i) => p.resolve(outcomes[i] as Outcome))
    }
    for (const wake of this.idleWaiters.splice(0)) wake()
  }
}
