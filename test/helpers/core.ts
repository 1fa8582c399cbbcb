import { CORE_DEFAULTS, startCore } from '../../src/main/core/core'
import type { CoreConfig, RunningCore } from '../../src/main/core/core'
import { silentLogger } from '../../src/main/core/logger'
import { tempDir } from './temp-dir'

export const TEST_TOKEN = 'test-ingest-token'

export interface TestCore extends RunningCore {
  dataDir: string
  eventsUrl: string
  /** Stops the core and removes its data dir. */
  dispose(): Promise<void>
}

/** A real core on 127.0.0.1, a free port and a temp data dir. */
export async function startTestCore(overrides: Partial<CoreConfig> = {}): Promise<TestCore> {
  const dir = tempDir()
  const core = await startCore({
    ...CORE_DEFAULTS,
    dataDir: dir.path,
    ingestPort: 0,
    ingestToken: TEST_TOKEN,
    logger: silentLogger,
    ...overrides,
  })
  return {
    ...core,
    dataDir: dir.path,
    eventsUrl: `${core.ingestUrl}/events`,
    async dispose() {
      await core.stop()
      dir.cleanup()
    },
  }
}

export interface Answer {
  status: number
  body: Record<string, unknown>
}

/** POSTs one body as the integrator would. */
export async function postEvent(
  url: string,
  body: string | Uint8Array | object,
  init: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const token = init.token === undefined ? TEST_TOKEN : init.token
  const payload =
    typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...init.headers,
    },
    body: payload,
  })
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}
