import { CORE_DEFAULTS, startCore } from '../../src/main/core/core'
import type { RunningCore } from '../../src/main/core/core'
import { silentLogger } from '../../src/main/core/logger'
import { TOKEN } from './helpers'

/** A real Footfall core on a free loopback port, with its store in `dataDir`. */
export function startTestCore(dataDir: string): Promise<RunningCore> {
  return startCore({
    ...CORE_DEFAULTS,
    dataDir,
    ingestHost: '127.0.0.1',
    ingestPort: 0,
    ingestToken: TOKEN,
    logger: silentLogger,
  })
}
