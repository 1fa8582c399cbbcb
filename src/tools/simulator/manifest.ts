import { createWriteStream, openSync, readFileSync } from 'node:fs'
import type { WriteStream } from 'node:fs'
import type { BadKind } from './faults'
import type { DeliveryKind } from './plan'

/**
 * The manifest: what the simulator sent and what came back, one JSON object per line, so that a
 * test (or a person with `jq`) can compare the sender's view with the store's. Lines are written
 * as deliveries finish, so a long demo does not hold them all in memory.
 *
 *   {"type":"run", ...}        the options of the run (seed, target without token, counts)
 *   {"type":"delivery", ...}   one per delivery, when it is acknowledged, refused or given up
 *   {"type":"summary", ...}    the totals, last
 */

/** How a delivery ended. */
export type DeliveryOutcome =
  /** answered 2xx: the sender moved on */
  | 'acknowledged'
  /** answered with a status a retry cannot cure (413): recorded and skipped, as the sender would */
  | 'refused'
  /** still unacknowledged when the run stopped (drain timeout, second Ctrl-C, fatal answer) */
  | 'abandoned'

export interface DeliveryRecord {
  type: 'delivery'
  /** Position in the plan; per customer, deliveries were sent in increasing `seq`. */
  seq: number
  kind: DeliveryKind
  /** Event id; for a bad body, the id inside it if any. */
  id: string | null
  /** `bad:<kind>` for a malformed body, else null. */
  bad: `bad:${BadKind}` | null
  resend: boolean
  customer_id: string
  name: string
  /** The last HTTP status received (null when no attempt got an answer). */
  status: number | null
  /** The listener's `status` field of the last answer: stored, duplicate, quarantined. */
  answer: string | null
  outcome: DeliveryOutcome
  attempts: number
  /** Each failed attempt: an HTTP status, or `timeout` / a connection error code. */
  failures: (number | string)[]
  /** When the event happened (simulated clock), and when it was sent and acknowledged (wall clock). */
  due_at: string
  first_sent_at: string | null
  acked_at: string | null
}

export interface ManifestWriter {
  write(record: object): void
  close(): Promise<void>
}

/** Opens the file at once, so that a bad path fails before anything is sent, not after the run. */
export function openManifest(path: string): ManifestWriter {
  const out: WriteStream = createWriteStream(path, { fd: openSync(path, 'w') })
  let failure: Error | null = null
  out.on('error', (error) => {
    failure = error
  })
  return {
    write(record) {
      out.write(`${JSON.stringify(record)}\n`)
    },
    close() {
      return new Promise((resolve, reject) => {
        out.end(() => (failure ? reject(failure) : resolve()))
      })
    },
  }
}

export interface Manifest {
  run: Record<string, unknown>
  deliveries: DeliveryRecord[]
  summary: Record<string, unknown> | null
}

/** Reads a manifest back (for tests and scripts). */
export function readManifest(path: string): Manifest {
  const manifest: Manifest = { run: {}, deliveries: [], summary: null }
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue
    const record = JSON.parse(line) as { type: string }
    if (record.type === 'run') manifest.run = record
    else if (record.type === 'delivery') manifest.deliveries.push(record as DeliveryRecord)
    else if (record.type === 'summary') manifest.summary = record
  }
  return manifest
}
