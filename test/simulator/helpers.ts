import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SIMULATION_DEFAULTS } from '../../src/tools/simulator/index'
import type { SimulationOptions } from '../../src/tools/simulator/index'

export const TOKEN = 'simulator-test-token'
/** A Saturday morning, so opening hours and the daily shape are in play. */
export const START_MS = Date.parse('2026-11-21T09:00:00Z')

export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `footfall-sim-${label}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** Options for a short, fast run: a simulated hour passes in a second. */
export function fastOptions(
  target: string,
  overrides: Partial<SimulationOptions> = {},
): SimulationOptions {
  return {
    ...SIMULATION_DEFAULTS,
    target,
    token: TOKEN,
    stores: 4,
    customers: 150,
    rate: 300,
    speed: 3600,
    seed: 42,
    startMs: START_MS,
    events: 300,
    retryMinMs: 50,
    retryMaxMs: 400,
    drainTimeoutS: 10,
    ...overrides,
  }
}

export interface Received {
  customerId: string | null
  id: string | null
  body: string
  atMs: number
  /** What the listener did: an HTTP status, 'reset' (connection dropped) or 'stall' (no answer). */
  answer: number | 'reset' | 'stall'
}

export interface RecordingListener {
  url: string
  received: Received[]
  /** Most requests of one customer the listener had open at the same time. */
  maxConcurrentPerCustomer(): number
  close(): Promise<void>
}

export type Behaviour = (
  customerId: string | null,
  id: string | null,
  nowMs: number,
) => number | 'reset' | 'stall'

/**
 * A small listener that records every request and answers as `behave` says; events with an id it
 * has seen are answered 200 duplicate, as the real store would.
 */
export async function recordingListener(behave: Behaviour = () => 201): Promise<RecordingListener> {
  const received: Received[] = []
  const open = new Map<string, number>()
  const seen = new Set<string>()
  let maxOpen = 0
  const started = Date.now()
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let customerId: string | null = null
      let id: string | null = null
      try {
        const parsed = JSON.parse(body) as { customer_id?: unknown; id?: unknown }
        if (typeof parsed.customer_id === 'string') customerId = parsed.customer_id
        if (typeof parsed.id === 'string') id = parsed.id
      } catch {
        // a malformed body: recorded without customer
      }
      const key = customerId ?? '(none)'
      open.set(key, (open.get(key) ?? 0) + 1)
      maxOpen = Math.max(maxOpen, open.get(key) ?? 0)
      res.on('close', () => open.set(key, (open.get(key) ?? 1) - 1))
      const answer = behave(customerId, id, Date.now() - started)
      received.push({ customerId, id, body, atMs: Date.now() - started, answer })
      if (answer === 'reset') {
        req.socket.destroy()
        return
      }
      if (answer === 'stall') return
      let status = answer
      let text = JSON.stringify({ status: 'quarantined' })
      if (status === 201 && id !== null) {
        if (seen.has(id)) status = 200
        seen.add(id)
        text = JSON.stringify({ status: status === 200 ? 'duplicate' : 'stored', id })
      } else if (status >= 500) {
        text = JSON.stringify({ error: 'not_stored' })
      }
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(text)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    maxConcurrentPerCustomer: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
