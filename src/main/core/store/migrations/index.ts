import type { Migration } from './migration'
import { migration0001 } from './0001-event-store'
import { migration0002 } from './0002-processing'
import { migration0003 } from './0003-sync'
import { migration0004 } from './0004-processing-index'
import { migration0005 } from './0005-customer-events'
import { migration0006 } from './0006-event-ids'

/** Every migration, in order. Imported statically so the Electron bundle carries them. */
export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
]
