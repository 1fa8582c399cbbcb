import type { BatchReport, Processor } from './processor'

/** What one run did (a run is batches until nothing is left). */
export interface RunTotals {
  batches: number
  /** Batches that recomputed customer by customer (a rebuild, or a catch-up of a backlog). */
  rebuildBatches: number
  events: number
  customers: number
  visitsChanged: number
  rollupsChanged: number
  failures: number
  rebuildDone: boolean
  /** What went wrong beside the batches and changed nothing of their results (to be logged). */
  warnings: string[]
}

/** Where a run's batches execute: this thread, or the processing worker thread. */
export interface BatchRunner {
  /** Runs batches until none is left, or until `stop()` is asked (after the current batch). */
  run(): Promise<RunTotals>
  stop(): void
}

/** A batch's budget while ingest is busy (see WriteTurns.processing, Processor.runBatch). */
export const CONTENDED_BATCH_MS = 25

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Takes batches until there is nothing left, yielding to the event loop between them (so that
 * a stop request, or on the main thread the ingest listener, gets a turn after every batch).
 */
export async function runBatches(
  processor: Processor,
  shouldStop: () => boolean,
  /**
   * Runs each batch in its turn at the write lock (see WriteTurns), where there are turns, and
   * says whether ingest was busy (committing, or committed since the last batch).
   */
  inTurn: (batch: (contended: boolean) => BatchReport | null) => BatchReport | null = (batch) =>
    batch(false),
): Promise<RunTotals> {
  const total: RunTotals = {
    batches: 0,
    rebuildBatches: 0,
    events: 0,
    customers: 0,
    visitsChanged: 0,
    rollupsChanged: 0,
    failures: 0,
    rebuildDone: false,
    warnings: [],
  }
  for (;;) {
    // Before the turn: a rebuild's customers are computed while ingest may still commit.
    processor.prepare()
    // While ingest is busy, batches are short: its requests wait for at most one of them.
    const batch = inTurn((contended) =>
      processor.runBatch(contended ? CONTENDED_BATCH_MS : undefined),
    )
    if (!batch) break
    total.batches += 1
    if (batch.kind === 'rebuild') total.rebuildBatches += 1
    total.events += batch.events
    total.customers += batch.customers
    total.visitsChanged += batch.visitsChanged
    total.rollupsChanged += batch.rollupsChanged
    total.failures += batch.failures
    total.rebuildDone ||= batch.rebuildDone
    if (shouldStop()) break
    await yieldToLoop()
  }
  return total
}

/** Batches on this thread's connection. */
export function inThreadRunner(processor: Processor): BatchRunner {
  let stopping = false
  return {
    run: () => {
      stopping = false
      return runBatches(processor, () => stopping)
    },
    stop: () => {
      stopping = true
    },
  }
}
