/**
 * Turns at SQLite's write lock between the ingest commit thread and the processing thread.
 *
 * Without them the two meet only in SQLite's busy handler, which sleeps and polls (up to 100 ms
 * a sleep): processing, running batch after batch, takes the lock again a microsecond after it
 * let go, and a waiting ingest commit can miss every window for seconds (measured: 2.5 s). Here
 * ingest says it is waiting, processing lets it go first (up to a limit, so that processing is
 * not starved under steady ingest), and ingest is woken the moment a processing batch ends.
 * SQLite's lock stays the guarantee: these turns only decide who asks first, so a third process
 * (`footfall reprocess`) or a lost race costs a busy-handler wait, never correctness.
 *
 * Both sides block with Atomics.wait, so both must be worker threads.
 */
const INGEST_WAITING = 0
const PROCESSING_WRITING = 1
/** Ingest commits so far (wrapping), so that processing can tell whether ingest is busy. */
const INGEST_COMMITS = 2

export class WriteTurns {
  private readonly cells: Int32Array
  private ingestCommitsSeen = 0

  /** The buffer both sides share: create one, hand it to both threads. */
  static buffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT)
  }

  constructor(readonly buffer: SharedArrayBuffer = WriteTurns.buffer()) {
    this.cells = new Int32Array(buffer)
  }

  /**
   * The ingest side: waits out a processing batch in progress, then commits. The wait is
   * bounded: a processing thread that died mid-batch must not leave ingest waiting on its turn
   * (past the bound, SQLite's own lock decides).
   */
  ingest<T>(commit: () => T, maxWaitMs = 2_000): T {
    Atomics.add(this.cells, INGEST_WAITING, 1)
    try {
      const until = performance.now() + maxWaitMs
      for (;;) {
        const left = until - performance.now()
        if (Atomics.load(this.cells, PROCESSING_WRITING) !== 1 || left <= 0) break
        Atomics.wait(this.cells, PROCESSING_WRITING, 1, left)
      }
      return commit()
    } finally {
      Atomics.add(this.cells, INGEST_COMMITS, 1)
      Atomics.sub(this.cells, INGEST_WAITING, 1)
      Atomics.notify(this.cells, INGEST_WAITING)
    }
  }

  /** A processing thread starting (again) holds no turn, whatever its predecessor left. */
  resetProcessing(): void {
    this.endProcessing()
  }

  /**
   * The processing side: when ingest is busy, lets it commit first, for at most `yieldMs` or
   * until it has had nothing in progress for `quietMs`; then runs one batch while ingest waits
   * for it. The batch is told whether ingest was busy (contended), so that it can keep short.
   */
  processing<T>(batch: (contended: boolean) => T, yieldMs: number, quietMs = 10): T {
    const until = performance.now() + yieldMs
    // Busy: committing or waiting now, or committed since this side's last batch.
    let contended = Atomics.load(this.cells, INGEST_COMMITS) !== this.ingestCommitsSeen
    for (;;) {
      const waiting = Atomics.load(this.cells, INGEST_WAITING)
      const left = until - performance.now()
      if (left <= 0) break
      if (waiting > 0) {
        contended = true
        Atomics.wait(this.cells, INGEST_WAITING, waiting, left)
      } else if (
        !contended ||
        Atomics.wait(this.cells, INGEST_WAITING, 0, Math.min(quietMs, left)) === 'timed-out'
      ) {
        // Under load the listener hands over the next commit within a few milliseconds of the
        // last (measured 2 to 7 ms on 2 busy cores): only a longer pause means ingest is done
        // for now. Going at the first pause gave ingest one commit per batch.
        break
      }
    }
    Atomics.store(this.cells, PROCESSING_WRITING, 1)
    try {
      return batch(contended)
    } finally {
      this.ingestCommitsSeen = Atomics.load(this.cells, INGEST_COMMITS)
      this.endProcessing()
    }
  }

  private endProcessing(): void {
    Atomics.store(this.cells, PROCESSING_WRITING, 0)
    Atomics.notify(this.cells, PROCESSING_WRITING)
  }
}
