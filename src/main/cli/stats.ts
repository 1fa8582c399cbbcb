import { Command } from 'commander'
import { openReadonly } from '../core/store/database'
import { readStoreStats } from '../core/store/event-store'
import { readProcessingStats } from '../core/processing/stats'
import { readSyncStats } from '../core/sync/queries'
import { envOption } from './options'

export function statsCommand(): Command {
  return new Command('stats')
    .description("print the store's counters (works while `serve` runs on the same dir)")
    .addOption(
      envOption('--data-dir <dir>', 'folder of the event store', 'FOOTFALL_DATA_DIR').default(
        './footfall-data',
      ),
    )
    .option('--json', 'one JSON object on stdout')
    .action((opts: { dataDir: string; json?: boolean }) => {
      const db = openReadonly(opts.dataDir)
      try {
        const stats = { ...readStoreStats(db), ...readProcessingStats(db), ...readSyncStats(db) }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(stats)}\n`)
          return
        }
        const width = Math.max(...Object.keys(stats).map((k) => k.length))
        for (const [key, value] of Object.entries(stats)) {
          const shown =
            key.endsWith('_ms') && typeof value === 'number'
              ? new Date(value).toISOString()
              : typeof value === 'object' && value !== null
                ? JSON.stringify(value)
                : String(value ?? '-')
          process.stdout.write(`${key.padEnd(width)}  ${shown}\n`)
        }
      } finally {
        db.close()
      }
    })
}
