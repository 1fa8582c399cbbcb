import { isIP } from 'node:net'
import { closeWritable, databasePath, openWritable } from './store/database'
import type { WritableDB } from './store/database'
import type { ReceivedOp, Receipt } from './store/event-store'
import { GroupCommitter } from './store/group-commit'
import { CommitThread } from './store/commit-thread'
import type { FastPathCounts } from './ingest/fast-path'
import { createIngestServer } from './ingest/ingest-server'
import type { Logger } from './logger'
import { Processor } from './processing/processor'
import type { ProcessorOptions } from './processing/processor'
import { ProcessingScheduler } from './processing/scheduler'
import { ProcessingThread } from './processing/processing-thread'
import { inThreadRunner } from './processing/run-batches'
import type { BatchRunner } from './processing/run-batches'
import type { RunReport } from './processing/scheduler'
import type { SalesforceSettings, SyncConfig } from './sync/settings'
import { describeSettings, SYNC_DEFAULTS } from './sync/settings'
import { SyncService } from './sync/sync-service'
import { WriteTurns } from './threads/write-turns'

export interface CoreConfig {
  dataDir: string
  ingestHost: string
  ingestPort: number
  ingestToken: string | null
  maxBodyBytes: number
  bodyTimeoutMs: number
  /** Most operations in one commit; 1 turns group commit off (the benchmark's naive listener). */
  commitMaxBatch: number
  logger: Logger
  /** Processing runs every this many ms (default 5 s); 0: only on processNow(). */
  processIntervalMs?: number
  /** Rules' settings and batch sizes of processing (defaults: PROCESSING.md). */
  processing?: ProcessorOptions
  /** The org to sync to; null or absent: sync is off (ingest and processing still run). */
  salesforce?: SalesforceSettings | null
  sync?: Partial<SyncConfig>
}

export const CORE_DEFAULTS = {
  ingestHost: '127.0.0.1',
  ingestPort: 8787,
  maxBodyBytes: 256 * 1024,
  bodyTimeoutMs: 15_000,
  commitMaxBatch: 1000,
  processIntervalMs: 5000,
} as const

export interface RunningCore {
  ingestUrl: string
  db: WritableDB
  committer: GroupCommitter<ReceivedOp, Receipt>
  /** The ingest writer thread (`transactions` counts its commits). */
  writer: CommitThread
  processor: Processor
  /** True when processing runs on its own thread (false: on the main thread, see the log). */
  processingOnThread: boolean
  /** Runs processing now (or joins the next run if one is in progress) and reports it. */
  processNow(): Promise<RunReport>
  /** The Salesforce sync, or null when no org is configured. */
  sync: SyncService | null
  /** Requests answered on the listener's fast path, connections passed on to node:http. */
  ingestPaths: FastPathCounts
  /** Stops accepting, finishes what was acknowledged, closes the database. Idempotent. */
  stop(): Promise<void>
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1' || host === '[::1]'
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Starts the headless core: store, ingest listener, processing scheduler (and, later, sync). */
export async function startCore(config: CoreConfig): Promise<RunningCore> {
  if (config.ingestToken === null && !isLoopbackHost(config.ingestHost)) {
    throw new ConfigError(
      `refusing to listen on ${config.ingestHost} without an ingest token: set --ingest-token (or FOOTFALL_INGEST_TOKEN), or listen on 127.0.0.1`,
    )
  }
  // Opening here runs the migrations once, before the commit thread opens its own connection.
  const db = openWritable(config.dataDir)
  // The processing thread checkpoints the WAL when there is one; else the commit thread does.
  const checkpointEveryMs = 1000
  const processingThread = ProcessingThread.available()
  const turns = WriteTurns.buffer()
  const writer = new CommitThread({
    dataDir: config.dataDir,
    // Processing batches hold the write lock up to about 100 ms (25 while ingest is busy) and
    // ingest goes first (WriteTurns), but a `footfall reprocess` in another process takes its
    // turns through SQLite alone: an event waits that out rather than being answered 500 for
    // a lock of Footfall's own.
    busyTimeoutMs: 5000,
    checkpointEveryMs: processingThread ? 0 : checkpointEveryMs,
    maxBatch: config.commitMaxBatch,
    turns: processingThread ? turns : null,
  })
  try {
    await writer.open()
  } catch (error) {
    closeWritable(db)
    throw error
  }
  // Hands requests to the commit thread, which groups what queued up while it was busy into one
  // transaction (commit-worker.ts). At most two hand-overs are in flight: one committing, one
  // waiting for it, so the thread never idles for a round trip; what arrives meanwhile waits
  // here and goes in one hand-over. A hand-over a turn of the event loop woke the thread for each
  // (a cross-thread wake-up, dear on these VMs): measured, two in flight gave about 10% more
  // events/s than no limit when the listener still parsed the bodies; since the bodies cross
  // raw, the two measure equal within the noise (twelve interleaved pairs: no limit / two had a
  // median of 1.04, pairs from 0.66 to 1.24).
  const committer = new GroupCommitter<ReceivedOp, Receipt>(
    (ops) => writer.commit(ops),
    config.commitMaxBatch,
    2,
  )
  const ingest = createIngestServer({
    sink: committer,
    token: config.ingestToken,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    logger: config.logger,
  })
  // Processing runs on its own thread and connection, so its batches never stall the listener's
  // event loop; they take the write lock briefly and the commit thread's busy timeout rides over
  // them. A build without the worker entry processes on this thread instead, and says so.
  // `processor` (this thread's connection) serves short calls such as startRebuild().
  const processor = new Processor(db, config.processing)
  let thread: ProcessingThread | null = null
  let runner: BatchRunner = inThreadRunner(processor)
  if (processingThread) {
    // Only plain data crosses into the thread: a test's clock stays on this side.
    const options = { ...config.processing }
    delete options.clock
    thread = new ProcessingThread({
      dataDir: config.dataDir,
      options,
      checkpointEveryMs,
      turns,
    })
    try {
      await thread.open()
      runner = thread
    } catch (error) {
      // This connection then checkpoints by itself (SQLite's automatic checkpoints, in
      // processing's commits).
      config.logger.warn(
        `processing on the main thread: its worker did not start (${String(error)})`,
      )
      thread = null
    }
  } else {
    config.logger.warn('processing on the main thread: this build has no processing-worker entry')
  }
  const scheduler = new ProcessingScheduler(
    db,
    runner,
    config.processIntervalMs ?? CORE_DEFAULTS.processIntervalMs,
    config.logger,
  )
  let address
  try {
    address = await ingest.listen(config.ingestPort, config.ingestHost)
  } catch (error) {
    await thread?.close()
    await writer.close()
    closeWritable(db)
    throw error
  }
  scheduler.start()
  const sync = config.salesforce
    ? new SyncService(db, config.salesforce, { ...SYNC_DEFAULTS, ...config.sync }, config.logger)
    : null
  if (sync && config.salesforce) {
    sync.start()
    config.logger.info(`sync on: ${describeSettings(config.salesforce)}`)
  } else {
    config.logger.info(
      'sync off: no Salesforce settings (--sf-login-url); ingest and processing run',
    )
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const ingestUrl = `http://${host}:${address.port}`
  config.logger.info(`store ${databasePath(config.dataDir)}`)

  let stopping: Promise<void> | null = null
  return {
    ingestUrl,
    db,
    committer,
    writer,
    processor,
    processingOnThread: thread !== null,
    ingestPaths: ingest.fastPath,
    processNow: () => scheduler.runNow(),
    sync,
    stop() {
      stopping ??= (async () => {
        await ingest.close()
        await committer.idle()
        // A run in progress ends after its current batch; the database must outlive it.
        await sync?.stop()
        await scheduler.stop()
        await thread?.close()
        await writer.close()
        closeWritable(db)
      })()
      return stopping
    },
  }
}
