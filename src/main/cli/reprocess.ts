import { Command } from 'commander'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { closeWritable, databasePath, openWritable } from '../core/store/database'
import { StoreError } from '../core/store/store-error'
import { Processor } from '../core/processing/processor'
import { RebuildAhead } from '../core/processing/rebuild-ahead'
import { envOption } from './options'

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r))

/**
 * `footfall reprocess`: recomputes every customer from the stored events alone.
 *
 * Safe beside a running `serve` on the same dir: each batch is one BEGIN IMMEDIATE transaction
 * that re-reads the rebuild's progress from the store, so the two processes take turns on
 * SQLite's write lock and serve's scheduler even helps finish the rebuild. Ingest waits at most
 * one batch for the lock. Interrupted (Ctrl-C, crash), it leaves only whole batches behind, and
 * the next `reprocess` or serve's next run continues where it stopped.
 */
export function reprocessCommand(): Command {
  return new Command('reprocess')
    .description(
      'rebuild visits, rollups and alerts from the stored events (safe while serve runs on the same dir)',
    )
    .addOption(
      envOption('--data-dir <dir>', 'folder of the event store', 'FOOTFALL_DATA_DIR').default(
        './footfall-data',
      ),
    )
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts: { dataDir: string; json?: boolean }) => {
      if (!existsSync(databasePath(opts.dataDir))) {
        throw new StoreError(
          'store_missing',
          `no Footfall store in ${resolve(opts.dataDir)}: point --data-dir at the folder \`footfall serve\` uses`,
        )
      }
      // A long busy timeout: serve's batches hold the write lock for a moment at a time.
      const db = openWritable(opts.dataDir, { busyTimeoutMs: 30_000 })
      let interrupted = false
      const onSignal = (): void => {
        interrupted = true
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      const started = Date.now()
      // Customers are computed on a second thread too, while this one writes.
      const processor = new Processor(db, {
        ahead: (config) =>
          RebuildAhead.start(opts.dataDir, config, (message) =>
            process.stderr.write(`warning: ${message}\n`),
          ),
      })
      try {
        const { targetSeq, resumed } = processor.startRebuild()
        process.stderr.write(
          `${resumed ? 'resuming the rebuild' : 'rebuilding'} through event seq ${targetSeq}\n`,
        )
        let customers = 0
        let visitsChanged = 0
        let rollupsChanged = 0
        let failures = 0
        let lastProgress = Date.now()
        for (;;) {
          const batch = processor.runBatch()
          if (!batch) break
          if (batch.kind === 'rebuild') customers += batch.customers
          visitsChanged += batch.visitsChanged
          rollupsChanged += batch.rollupsChanged
          failures += batch.failures
          if (Date.now() - lastProgress > 2000) {
            lastProgress = Date.now()
            process.stderr.write(`  ${customers} customers recomputed\n`)
          }
          if (interrupted) break
          await yieldToLoop()
        }
        const state = processor.state()
        const summary = {
          complete: state.rebuild_target_seq === null,
          target_seq: targetSeq,
          customers,
          visits_changed: visitsChanged,
          rollups_changed: rollupsChanged,
          failed_events: failures,
          processed_through_seq: state.cursor_seq,
          seconds: (Date.now() - started) / 1000,
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
        else {
          process.stdout.write(
            summary.complete
              ? `rebuilt ${customers} customers in ${summary.seconds.toFixed(1)} s: ${visitsChanged} visit and ${rollupsChanged} rollup rows changed, ${failures} event(s) failed processing\n`
              : `interrupted after ${customers} customers; nothing half-written: run \`footfall reprocess\` again (or let serve) to finish\n`,
          )
        }
        if (!summary.complete) process.exitCode = 1
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        processor.close()
        closeWritable(db)
      }
    })
}
