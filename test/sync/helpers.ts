import { Connection } from 'jsforce'
import { onTestFinished } from 'vitest'
import type { CoreConfig } from '../../src/main/core/core'
import { silentLogger } from '../../src/main/core/logger'
import { SfSession } from '../../src/main/core/sync/sf-session'
import type { SalesforceSettings, SyncConfig } from '../../src/main/core/sync/settings'
import { SYNC_DEFAULTS } from '../../src/main/core/sync/settings'
import { SyncEngine } from '../../src/main/core/sync/sync-engine'
import { SF_EMULATOR_DEFAULTS, startSfEmulator } from '../../src/tools/sf-emulator'
import type { SfEmulator, SfEmulatorOptions } from '../../src/tools/sf-emulator'
import { postEvent, startTestCore } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { received } from '../helpers/samples'

export function startOrg(options: SfEmulatorOptions = {}): Promise<SfEmulator> {
  return startSfEmulator({ host: '127.0.0.1', port: 0, bulkProcessingDelayMs: 20, ...options })
}

// The org and core a test starts are closed when it finishes, whatever happens in it. Vitest
// runs these hooks in reverse order, so a core goes before the org its sync talks to.

/** An emulated org for the current test only. */
export async function orgForTest(options: SfEmulatorOptions = {}): Promise<SfEmulator> {
  const org = await startOrg(options)
  onTestFinished(() => org.close())
  return org
}

/** A core (temp data dir, loopback listener) for the current test only. */
export async function coreForTest(overrides: Partial<CoreConfig> = {}): Promise<TestCore> {
  const core = await startTestCore(overrides)
  onTestFinished(() => core.dispose())
  return core
}

/**
 * An org with an Account for each customer, and a core (processing on demand) that has stored
 * and processed one visit of each: where most sync tests start.
 */
export async function orgWithVisits(
  customers: readonly string[],
  orgOptions: SfEmulatorOptions = {},
): Promise<{ core: TestCore; org: SfEmulator }> {
  const org = await orgForTest(orgOptions)
  org.admin.seedAccounts({ customerIds: [...customers], unmatchedShare: 0 })
  const core = await coreForTest({ processIntervalMs: 0 })
  for (const c of customers) await sendVisit(core, c)
  await core.processNow()
  return { core, org }
}

export function settingsFor(org: SfEmulator): SalesforceSettings {
  return {
    loginUrl: org.loginUrl,
    apiVersion: '62.0',
    clientId: SF_EMULATOR_DEFAULTS.clientId,
    clientSecret: SF_EMULATOR_DEFAULTS.clientSecret,
    username: SF_EMULATOR_DEFAULTS.username,
    password: SF_EMULATOR_DEFAULTS.password,
    jwtPrivateKey: null,
  }
}

/** A sync engine as the core builds it, with a login kept across runs. */
export function engineFor(
  core: TestCore,
  org: SfEmulator,
  config: Partial<SyncConfig> = {},
): SyncEngine {
  let session: Promise<SfSession> | null = null
  return new SyncEngine(
    core.db,
    () => (session ??= SfSession.login(settingsFor(org))),
    { ...SYNC_DEFAULTS, backoff: { baseMs: 1, capMs: 5 }, unmatchedRecheckAfterMs: 0, ...config },
    silentLogger,
  )
}

/** A plain jsforce connection for checking what the org holds. */
export async function orgReader(org: SfEmulator): Promise<Connection> {
  const conn = new Connection({
    version: '62.0',
    oauth2: {
      loginUrl: org.loginUrl,
      clientId: SF_EMULATOR_DEFAULTS.clientId,
      clientSecret: SF_EMULATOR_DEFAULTS.clientSecret,
    },
  })
  await conn.login(SF_EMULATOR_DEFAULTS.username, SF_EMULATOR_DEFAULTS.password)
  return conn
}

/**
 * Stores events through the listener's own validation and group committer (the HTTP hop adds
 * nothing to a test of sync cost, and thousands of requests would dominate its time).
 */
export async function storeAll(core: TestCore, events: object[]): Promise<void> {
  const receipts = await Promise.all(events.map((e) => core.committer.submit(received(e))))
  if (receipts.some((r) => r.outcome !== 'stored')) throw new Error('an event was not stored')
}

/** One closed visit on 1 October for each customer: entry and exit, two events each. */
export function closedVisits(customerIds: string[]): object[] {
  return customerIds.flatMap((c) => [
    {
      id: `${c}-in`,
      name: 'customer.entered.store',
      timestamp: '2026-10-01T10:00:00Z',
      customer_id: c,
      store_id: 'S-1',
    },
    {
      id: `${c}-out`,
      name: 'customer.exited.store',
      timestamp: '2026-10-01T10:20:00Z',
      customer_id: c,
      store_id: 'S-1',
      time_elapsed: 1200,
    },
  ])
}

/**
 * An event 31 days later for a customer without an Account: every earlier customer's
 * visits-in-30-days drops to 0, nothing else of theirs changes.
 */
export const MONTH_LATER = {
  id: 'later',
  name: 'customer.entered.store',
  timestamp: '2026-11-01T10:00:00Z',
  customer_id: 'Z-later',
  store_id: 'S-1',
}

/** One whole visit for a customer (the contract's sample sequence), with ids of its own. */
export async function sendVisit(
  core: TestCore,
  customerId: string,
  opts: { day?: number; store?: string; spend?: number } = {},
): Promise<void> {
  const day = String(opts.day ?? 21).padStart(2, '0')
  const base = { customer_id: customerId, store_id: opts.store ?? 'S-017' }
  const id = (n: number) => `${customerId}-d${day}-${n}`
  const events = [
    {
      ...base,
      id: id(1),
      name: 'customer.entered.store',
      timestamp: `2026-11-${day}T14:03:11.250Z`,
    },
    {
      ...base,
      id: id(2),
      name: 'customer.checked.out',
      timestamp: `2026-11-${day}T14:21:02.118Z`,
      items: [
        {
          product_id: 'P-1',
          name: 'Shoe',
          brand: 'Northpeak',
          quantity: 1,
          unit_price: opts.spend ?? 129.99,
          currency: 'USD',
          promotions: [],
        },
      ],
    },
    {
      ...base,
      id: id(3),
      name: 'customer.exited.store',
      timestamp: `2026-11-${day}T14:24:30.000Z`,
      time_elapsed: 1278.75,
    },
  ]
  for (const e of events) {
    const answer = await postEvent(core.eventsUrl, e)
    if (answer.status !== 201 && answer.status !== 200)
      throw new Error(`event refused: ${JSON.stringify(answer)}`)
  }
}

/** Every record of a query, following the pages. */
export async function queryAll<T extends Record<string, unknown>>(
  conn: Connection,
  soql: string,
): Promise<T[]> {
  let page = await conn.query<T>(soql)
  const records = [...page.records]
  while (!page.done && page.nextRecordsUrl) {
    page = await conn.queryMore<T>(page.nextRecordsUrl)
    records.push(...page.records)
  }
  return records
}
