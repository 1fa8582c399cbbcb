import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { ConfigError } from '../core/core'
import { StoreError } from '../core/store/store-error'
import { alertsCommand, dismissCommand, replayCommand, retryCommand } from './processing'
import { reprocessCommand } from './reprocess'
import { serveCommand } from './serve'
import { sfCheckCommand } from './sf-check'
import { sfEmulatorCommand } from './sf-emulator'
import { sfMetadataCommand } from './sf-metadata'
import { simulateCommand } from './simulate'
import { statsCommand } from './stats'
import { syncRetryCommand } from './sync-retry'

const program = new Command('footfall')
  .description(
    'Footfall: in-store customer events into Salesforce. Every option also reads FOOTFALL_* from the environment.',
  )
  .showHelpAfterError()
  .exitOverride()
  .addCommand(serveCommand())
  .addCommand(statsCommand())
  .addCommand(reprocessCommand())
  .addCommand(alertsCommand())
  .addCommand(retryCommand())
  .addCommand(replayCommand())
  .addCommand(dismissCommand())
  .addCommand(simulateCommand())
  .addCommand(sfEmulatorCommand())
  .addCommand(sfCheckCommand())
  .addCommand(sfMetadataCommand())
  .addCommand(syncRetryCommand())

/** Errors a person caused get one clear line and exit 2; anything else is a bug and shows a stack. */
function fail(error: unknown): never {
  // InvalidArgumentError is a CommanderError too: one thrown by an action has not been printed
  // yet (commander prints only the errors of its own parsing), so it is handled first.
  if (
    error instanceof ConfigError ||
    error instanceof StoreError ||
    error instanceof InvalidArgumentError
  ) {
    process.stderr.write(`footfall: ${error.message}\n`)
    process.exit(2)
  }
  if (error instanceof CommanderError) process.exit(error.exitCode)
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOENT') {
    process.stderr.write(`footfall: ${(error as Error).message}\n`)
    process.exit(2)
  }
  process.stderr.write(`footfall: unexpected error: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
}

try {
  await program.parseAsync(process.argv)
} catch (error) {
  fail(error)
}
