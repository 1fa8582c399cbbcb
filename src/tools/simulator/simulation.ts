import { SimClock } from './clock'
import type { ElapsedFormat } from './elapsed'
import { MinHeap } from './heap'
import { MEAN_EVENTS_PER_VISIT, Timeline, makeWorld } from './journeys'
import type { World } from './journeys'
import type { DeliveryOutcome, DeliveryRecord, ManifestWriter } from './manifest'
import { openManifest } from './manifest'
import { Plan } from './plan'
import type { Delivery } from './plan'
import type { ProgressSnapshot } from './progress'
import { derivePrng } from './prng'
import type { Prng } from './prng'
import { eventsUrl, httpTransport } from './transport'
import type { PostResult, Transport } from './transport'

export interface SimulationOptions {
  /** Base URL of the listener (`/events` is added) or the full events URL. */
  target: string
  /** Ingest token, sent as `Authorization: Bearer`; null sends none. */
  token: string | null
  stores: number
  customers: number
  /** Average events per real second while stores are open (the traffic intensity). */
  rate: number
  /** The simulated clock runs this many times faster than real time. */
  speed: number
  seed: number
  /** Simulated start, epoch ms. */
  startMs: number
  /** Stop taking new events after this many real seconds. */
  durationS?: number
  /** Stop after this many valid events (resends and bad bodies come on top). */
  events?: number
  resendRate: number
  badRate: number
  missingStoreRate: number
  elapsedFormat: ElapsedFormat
  currency: string
  /** Requests in flight at most, across customers (one per customer at any time). */
  concurrency: number
  timeoutMs: number
  retryMinMs: number
  retryMaxMs: number
  /** After the stream ends, how long to keep retrying what is unacknowledged. */
  drainTimeoutS: number
  manifestPath?: string
  /** Follow opening hours; by default only when the clock runs faster than real time. */
  openingHours?: boolean
  /**
   * Start with empty stores. By default the run opens on stores already busy: the visits under way
   * at the start are sent whole, their earlier events at once (as a sender catching up would).
   */
  coldStart?: boolean
}

export const SIMULATION_DEFAULTS = {
  stores: 5,
  customers: 2000,
  rate: 1,
  speed: 1,
  resendRate: 0.02,
  badRate: 0,
  missingStoreRate: 0,
  elapsedFormat: 'seconds' as ElapsedFormat,
  currency: 'USD',
  concurrency: 32,
  timeoutMs: 10_000,
  retryMinMs: 250,
  retryMaxMs: 30_000,
  drainTimeoutS: 30,
}

export interface SimulationSummary {
  seed: number
  target: string
  simStart: string
  simEnd: string
  realSeconds: number
  visits: number
  /** Visit starts dropped because no customer was free: the rate is above what the customers can do. */
  unservedArrivals: number
  customersSeen: number
  planned: { events: number; resends: number; bad: number }
  /** HTTP requests made, retries included. */
  requests: number
  acknowledged: number
  stored: number
  duplicate: number
  quarantined: number
  refused: number
  abandoned: number
  /** Failed attempts that were retried (500, connection error, timeout). */
  retried: number
  ackedPerSecond: number
  /** Why the run stopped early (an answer no retry can cure, such as 401), or null. */
  fatal: string | null
}

export interface SimulationHooks {
  /** Replaces HTTP (for tests of the scheduler itself). */
  transport?: Transport
  /** Called for every finished delivery, in the order they finish. */
  onDelivery?: (record: DeliveryRecord) => void
}

interface Lane {
  customerId: string
  queue: Delivery[]
  state: 'idle' | 'scheduled' | 'sending'
  attempts: number
  failures: (number | string)[]
  firstSentMs: number | null
  lastStatus: number | null
  lastAnswer: string | null
  inRetry: boolean
}

interface ReadyEntry {
  at: number
  order: number
  lane: Lane
}

/** How far back visits under way at the start may have begun (simulated). */
const WARM_UP_MS = 2 * 3_600_000

/** Most due deliveries held in lanes; past it the plan waits, as a backed-up sender would. */
const MAX_BACKLOG = 20_000

/** A wait that a finished request can cut short. */
class Waker {
  private resolveWait: (() => void) | null = null

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        if (this.resolveWait === done) this.resolveWait = null
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      this.resolveWait = done
    })
  }

  wake(): void {
    this.resolveWait?.()
  }
}

/** Acknowledgements per second over the last few seconds, for the progress line. */
class RateMeter {
  private readonly samples: { t: number; n: number }[] = []

  rate(t: number, n: number): number {
    this.samples.push({ t, n })
    while (this.samples.length > 2 && t - (this.samples[1] as { t: number }).t >= 5_000) {
      this.samples.shift()
    }
    const first = this.samples[0] as { t: number; n: number }
    return t - first.t > 0 ? ((n - first.n) * 1000) / (t - first.t) : 0
  }
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * A sender that behaves like the store-side integrator (EVENTS.md): one event per request; per
 * customer strictly in order, the next only after a 2xx; different customers concurrently; on a
 * 500, a connection error or a timeout the event is retried with backoff and that customer's later
 * events wait behind it, while other customers carry on.
 */
export class Simulation {
  readonly world: World
  readonly clock: SimClock
  private readonly plan: Plan
  private readonly timeline: Timeline
  private readonly transport: Transport
  private readonly jitter: Prng
  private readonly lanes = new Map<string, Lane>()
  private readonly ready = new MinHeap<ReadyEntry>(
    (a, b) => a.at < b.at || (a.at === b.at && a.order < b.order),
  )
  private readonly waker = new Waker()
  private readonly meter = new RateMeter()
  private readonly endSimMs: number
  private manifest: ManifestWriter | null = null
  private readyOrder = 0
  private queued = 0
  private inFlight = 0
  private planExhausted = false
  private stopping = false
  private hardStop = false
  private closed = false
  private drainDeadline: number | null = null
  private fatal: string | null = null
  private lastFailure: string | null = null
  private readonly counts = {
    requests: 0,
    acknowledged: 0,
    stored: 0,
    duplicate: 0,
    quarantined: 0,
    refused: 0,
    abandoned: 0,
    retried: 0,
    events: 0,
    resends: 0,
    bad: 0,
  }

  constructor(
    private readonly options: SimulationOptions,
    private readonly hooks: SimulationHooks = {},
  ) {
    this.world = makeWorld(options.seed, options.stores, options.customers)
    this.clock = new SimClock(options.startMs, options.speed)
    // --rate is events per real second; the timeline thinks in visits per simulated hour.
    const visitsPerHour = (options.rate * 3600) / options.speed / MEAN_EVENTS_PER_VISIT
    this.timeline = new Timeline(this.world, {
      seed: options.seed,
      // Without a warm-up the first simulated quarter hour would be all entries and no exits.
      startMs: options.coldStart ? options.startMs : options.startMs - WARM_UP_MS,
      visibleFromMs: options.startMs,
      visitsPerHour,
      openingHours: options.openingHours ?? options.speed > 1,
      currency: options.currency,
    })
    this.plan = new Plan(
      this.timeline,
      {
        resendRate: options.resendRate,
        badRate: options.badRate,
        missingStoreRate: options.missingStoreRate,
        elapsedFormat: options.elapsedFormat,
      },
      options.seed,
      options.events ?? Infinity,
    )
    this.endSimMs =
      options.durationS === undefined
        ? Infinity
        : options.startMs + options.durationS * 1000 * options.speed
    this.transport =
      hooks.transport ??
      httpTransport({
        url: eventsUrl(options.target),
        token: options.token,
        timeoutMs: options.timeoutMs,
        maxSockets: options.concurrency,
      })
    this.jitter = derivePrng(options.seed, 'retry-jitter')
  }

  /** The customer ids this run draws from (not all of them need to visit in a short run). */
  get customerIds(): string[] {
    return this.world.customers.map((c) => c.id)
  }

  /** Simulated time of the first event (stores may be closed when the clock starts). */
  firstEventAt(): number {
    return this.plan.peekDue()
  }

  /** First call: take no new events, finish what is queued (up to the drain timeout). Second: give up now. */
  stop(): void {
    if (this.stopping) this.hardStop = true
    this.stopping = true
    this.waker.wake()
  }

  progress(): ProgressSnapshot {
    const now = this.clock.realElapsed()
    let blocked = 0
    for (const lane of this.lanes.values()) if (lane.inRetry) blocked += 1
    return {
      simNowMs: this.clock.now(),
      sent: this.counts.requests,
      acknowledged: this.counts.acknowledged,
      retried: this.counts.retried,
      inFlight: this.inFlight,
      waiting: this.queued - this.inFlight,
      blockedCustomers: blocked,
      eventsPerSecond: this.meter.rate(now, this.counts.acknowledged),
      lastFailure: this.lastFailure,
    }
  }

  async run(): Promise<SimulationSummary> {
    this.clock.restart()
    if (this.options.manifestPath) {
      this.manifest = openManifest(this.options.manifestPath)
      this.manifest.write({
        type: 'run',
        seed: this.options.seed,
        target: eventsUrl(this.options.target).toString(),
        stores: this.options.stores,
        customers: this.options.customers,
        rate: this.options.rate,
        speed: this.options.speed,
        sim_start: iso(this.options.startMs),
        duration_s: this.options.durationS ?? null,
        events: this.options.events ?? null,
        resend_rate: this.options.resendRate,
        bad_rate: this.options.badRate,
        missing_store_rate: this.options.missingStoreRate,
        elapsed_format: this.options.elapsedFormat,
        opening_hours: this.options.openingHours ?? this.options.speed > 1,
        cold_start: this.options.coldStart === true,
        started_at: iso(Date.now()),
      })
    }
    this.meter.rate(0, 0)
    try {
      for (;;) {
        this.pump()
        this.dispatch()
        if (this.finished()) break
        await this.waker.wait(this.nextWake())
      }
    } finally {
      this.closed = true
      this.transport.close()
      this.abandonRest()
    }
    const summary = this.summary()
    if (this.manifest) {
      this.manifest.write({ type: 'summary', ...summary })
      await this.manifest.close()
    }
    return summary
  }

  private summary(): SimulationSummary {
    const realSeconds = this.clock.realElapsed() / 1000
    const c = this.counts
    return {
      seed: this.options.seed,
      target: eventsUrl(this.options.target).toString(),
      simStart: iso(this.options.startMs),
      simEnd: iso(this.clock.now()),
      realSeconds: Math.round(realSeconds * 1000) / 1000,
      visits: this.timeline.visits,
      unservedArrivals: this.timeline.unserved,
      customersSeen: this.lanes.size,
      planned: { events: c.events, resends: c.resends, bad: c.bad },
      requests: c.requests,
      acknowledged: c.acknowledged,
      stored: c.stored,
      duplicate: c.duplicate,
      quarantined: c.quarantined,
      refused: c.refused,
      abandoned: c.abandoned,
      retried: c.retried,
      ackedPerSecond: realSeconds > 0 ? Math.round((c.acknowledged / realSeconds) * 10) / 10 : 0,
      fatal: this.fatal,
    }
  }

  /** Moves due deliveries from the plan into their customers' lanes. */
  private pump(): void {
    if (this.stopping || this.fatal) return
    const now = this.clock.now()
    while (this.queued < MAX_BACKLOG) {
      const due = this.plan.peekDue()
      if (due >= this.endSimMs || due === Infinity) {
        this.planExhausted = true
        return
      }
      if (due > now) return
      const d = this.plan.next()
      if (!d) return
      this.counts[d.kind === 'event' ? 'events' : d.kind === 'resend' ? 'resends' : 'bad'] += 1
      let lane = this.lanes.get(d.customerId)
      if (!lane) {
        lane = {
          customerId: d.customerId,
          queue: [],
          state: 'idle',
          attempts: 0,
          failures: [],
          firstSentMs: null,
          lastStatus: null,
          lastAnswer: null,
          inRetry: false,
        }
        this.lanes.set(d.customerId, lane)
      }
      lane.queue.push(d)
      this.queued += 1
      if (lane.state === 'idle') this.schedule(lane, this.clock.realElapsed())
    }
  }

  private schedule(lane: Lane, at: number): void {
    lane.state = 'scheduled'
    this.ready.push({ at, order: this.readyOrder++, lane })
  }

  private dispatch(): void {
    if (this.hardStop || this.fatal) return
    const now = this.clock.realElapsed()
    while (this.inFlight < this.options.concurrency) {
      const top = this.ready.peek()
      if (!top || top.at > now) return
      this.ready.pop()
      void this.attempt(top.lane)
    }
  }

  private async attempt(lane: Lane): Promise<void> {
    const delivery = lane.queue[0]
    if (!delivery) {
      lane.state = 'idle'
      return
    }
    lane.state = 'sending'
    lane.attempts += 1
    lane.firstSentMs ??= Date.now()
    this.inFlight += 1
    this.counts.requests += 1
    let result: PostResult
    try {
      result = await this.transport.post(delivery.body)
    } catch (error) {
      result = { kind: 'failed', reason: String(error) }
    }
    this.inFlight -= 1
    // An answer after the run ended changes nothing: the delivery was recorded as abandoned.
    if (!this.closed) this.settle(lane, delivery, result)
    this.waker.wake()
  }

  private settle(lane: Lane, delivery: Delivery, result: PostResult): void {
    if (result.kind === 'answered') {
      lane.lastStatus = result.status
      lane.lastAnswer = result.answer
      const status = result.status
      if (status >= 200 && status < 300) {
        this.counts.acknowledged += 1
        if (result.answer === 'stored') this.counts.stored += 1
        else if (result.answer === 'duplicate') this.counts.duplicate += 1
        else if (result.answer === 'quarantined') this.counts.quarantined += 1
        this.finish(lane, 'acknowledged')
        return
      }
      if (status === 413) {
        // The sender cannot make the body smaller; retrying would block the customer forever.
        this.counts.refused += 1
        this.finish(lane, 'refused')
        return
      }
      if (status !== 408 && status !== 429 && status < 500) {
        this.fatal = `the target answered ${status} to ${delivery.kind === 'bad' ? 'a malformed body' : `event ${delivery.eventId ?? ''}`}${status === 401 || status === 403 ? ': check --token (or FOOTFALL_INGEST_TOKEN)' : status === 404 || status === 405 ? ': check --target (it should be the ingest listener, for example http://127.0.0.1:8787)' : ''}`
        this.waker.wake()
        return
      }
    }
    // 500 (and 408, 429, other 5xx), a connection error or a timeout: retry later, and keep this
    // customer's later events behind this one.
    const failure = result.kind === 'answered' ? result.status : result.reason
    lane.failures.push(failure)
    this.lastFailure = String(failure)
    this.counts.retried += 1
    lane.inRetry = true
    const backoff = Math.min(
      this.options.retryMaxMs,
      this.options.retryMinMs * 2 ** Math.min(20, lane.failures.length - 1),
    )
    // Jitter keeps customers that failed together from retrying in lockstep.
    this.schedule(lane, this.clock.realElapsed() + backoff * (0.5 + 0.5 * this.jitter.next()))
  }

  private finish(lane: Lane, outcome: DeliveryOutcome): void {
    const delivery = lane.queue.shift()
    if (!delivery) return
    this.queued -= 1
    this.record(lane, delivery, outcome)
    lane.attempts = 0
    lane.failures = []
    lane.firstSentMs = null
    lane.lastStatus = null
    lane.lastAnswer = null
    lane.inRetry = false
    if (lane.queue.length > 0) this.schedule(lane, this.clock.realElapsed())
    else lane.state = 'idle'
  }

  private record(lane: Lane, delivery: Delivery, outcome: DeliveryOutcome): void {
    const record: DeliveryRecord = {
      type: 'delivery',
      seq: delivery.seq,
      kind: delivery.kind,
      id: delivery.eventId,
      bad: delivery.badKind ? `bad:${delivery.badKind}` : null,
      resend: delivery.kind === 'resend',
      customer_id: delivery.customerId,
      name: delivery.name,
      status: lane.lastStatus,
      answer: lane.lastAnswer,
      outcome,
      attempts: lane.attempts,
      failures: lane.failures,
      due_at: iso(delivery.dueMs),
      first_sent_at: lane.firstSentMs === null ? null : iso(lane.firstSentMs),
      acked_at: outcome === 'acknowledged' ? iso(Date.now()) : null,
    }
    this.manifest?.write(record)
    this.hooks.onDelivery?.(record)
  }

  /** Everything still queued when the run ends is recorded as abandoned. */
  private abandonRest(): void {
    for (const lane of this.lanes.values()) {
      let first = true
      for (const delivery of lane.queue) {
        this.counts.abandoned += 1
        if (!first) {
          lane.attempts = 0
          lane.failures = []
          lane.firstSentMs = null
          lane.lastStatus = null
          lane.lastAnswer = null
        }
        this.record(lane, delivery, 'abandoned')
        first = false
      }
      lane.queue = []
    }
    this.queued = 0
  }

  private finished(): boolean {
    if (this.hardStop || this.fatal) return true
    if (!this.stopping && !this.planExhausted) return false
    if (this.queued === 0 && this.inFlight === 0) return true
    const now = this.clock.realElapsed()
    this.drainDeadline ??= now + this.options.drainTimeoutS * 1000
    return now >= this.drainDeadline
  }

  /** Real milliseconds until something may be due: a lane's turn, the plan's next event, the drain deadline. */
  private nextWake(): number {
    const now = this.clock.realElapsed()
    let wake = now + 1_000
    const top = this.ready.peek()
    if (top && this.inFlight < this.options.concurrency) wake = Math.min(wake, top.at)
    if (!this.stopping && !this.planExhausted && this.queued < MAX_BACKLOG) {
      const due = this.plan.peekDue()
      if (Number.isFinite(due)) wake = Math.min(wake, now + this.clock.realDelayUntil(due))
    }
    if (this.drainDeadline !== null) wake = Math.min(wake, this.drainDeadline)
    return Math.max(0, wake - now)
  }
}

/** Runs a simulation to its end (events, duration or `stop()`); see `Simulation`. */
export function runSimulation(
  options: SimulationOptions,
  hooks?: SimulationHooks,
): Promise<SimulationSummary> {
  return new Simulation(options, hooks).run()
}
