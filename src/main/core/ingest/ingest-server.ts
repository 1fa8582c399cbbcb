import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IngestOutcome, ReceivedOp, Receipt } from '../store/event-store'
import type { Logger } from '../logger'
import { makeAuthCheck } from './auth'
import { JSON_CONTENT_TYPE, jsonResponse, takeFastPath } from './fast-path'
import type { FastPathCounts } from './fast-path'
import { BodyReads } from './read-body'

/**
 * Where the listener hands what it read; in production, the group committer of the store, whose
 * commit thread classifies each body (valid event or quarantine) and answers with a receipt.
 */
export interface IngestSink {
  submit(op: ReceivedOp): Promise<Receipt>
}

export interface IngestServerOptions {
  sink: IngestSink
  /** Shared secret of the integrator; null admits every request (loopback only, see serve). */
  token: string | null
  maxBodyBytes: number
  bodyTimeoutMs: number
  logger: Logger
}

export interface IngestServer {
  readonly server: Server
  /** Requests answered on the fast path, connections passed on to node:http (fast-path.ts). */
  readonly fastPath: FastPathCounts
  listen(port: number, host: string): Promise<AddressInfo>
  /** Stops accepting, answers what it already read, then resolves. */
  close(): Promise<void>
}

const STATUS_FOR: Record<Exclude<IngestOutcome, 'counted'>, number> = {
  stored: 201,
  duplicate: 200,
  quarantined: 202,
}

const KEEP_ALIVE_TIMEOUT_MS = 5_000

/** An answer to a request, before either path writes it. */
interface Answer {
  status: number
  body: object
}

function send(res: ServerResponse, status: number, body: object, close = false): void {
  const text = JSON.stringify(body)
  const headers: Record<string, string | number> = {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
  }
  if (close) headers.connection = 'close'
  res.writeHead(status, headers)
  res.end(text)
}

/**
 * The ingest listener: `POST /events`, one event per request, answered as the table in EVENTS.md
 * says; `GET /healthz` for load balancers. Only storing happens on the request path.
 */
export function createIngestServer(options: IngestServerOptions): IngestServer {
  const { sink, maxBodyBytes, bodyTimeoutMs, logger } = options
  const authorized = makeAuthCheck(options.token)
  const bodies = new BodyReads(maxBodyBytes, bodyTimeoutMs)
  let shuttingDown = false
  let inFlight = 0
  let drained: (() => void) | null = null

  // Counting a refusal must never change the refusal: a failed count is only logged.
  const count = (counter: 'rejected_auth' | 'rejected_size' | 'rejected_timeout'): void => {
    sink.submit({ kind: 'count', counter }).catch((error: unknown) => {
      logger.warn(`could not count ${counter}: ${String(error)}`)
    })
  }

  async function handleEvent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized(req.headers.authorization)) {
      count('rejected_auth')
      res.setHeader('www-authenticate', 'Bearer realm="footfall", Basic realm="footfall"')
      send(
        res,
        401,
        {
          error: 'unauthorized',
          message: 'send the ingest token as `Authorization: Bearer <token>`',
        },
        true,
      )
      return
    }
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      count('rejected_size')
      send(res, 413, { error: 'too_large', message: `body is over ${maxBodyBytes} bytes` }, true)
      return
    }
    const body = await bodies.read(req)
    if (body.kind === 'too_large') {
      count('rejected_size')
      send(res, 413, { error: 'too_large', message: `body is over ${maxBodyBytes} bytes` }, true)
      return
    }
    if (body.kind === 'timeout') {
      count('rejected_timeout')
      send(
        res,
        408,
        { error: 'timeout', message: `body not received within ${bodyTimeoutMs} ms` },
        true,
      )
      return
    }
    if (body.kind === 'aborted') return
    const { status, body: answer } = await store(body.bytes, req.headers['content-type'] ?? null)
    send(res, status, answer)
  }

  /** Hands a body to the store and says what to answer; on both paths, the same. */
  async function store(raw: Buffer, contentType: string | null): Promise<Answer> {
    let receipt: Receipt
    try {
      receipt = await sink.submit({ kind: 'body', raw, contentType, receivedMs: Date.now() })
    } catch (error) {
      logger.error(`event not stored, answered 500: ${String(error)}`)
      return {
        status: 500,
        body: {
          error: 'not_stored',
          message: 'the event could not be stored and nothing of it was kept; retry later',
        },
      }
    }
    const { outcome, note } = receipt
    if (outcome === 'counted') throw new Error('a body was counted, not stored')
    return {
      status: STATUS_FOR[outcome],
      body:
        outcome === 'quarantined'
          ? { status: outcome, reason: note }
          : { status: outcome, id: note },
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const path = query < 0 ? url : url.slice(0, query)
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      send(res, shuttingDown ? 503 : 200, { status: shuttingDown ? 'shutting_down' : 'ok' })
      return
    }
    if (path !== '/events') {
      send(res, 404, { error: 'not_found', message: 'events go to POST /events' })
      return
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      send(res, 405, { error: 'method_not_allowed', message: 'events go to POST /events' })
      return
    }
    if (shuttingDown) {
      send(
        res,
        500,
        {
          error: 'shutting_down',
          message: 'not stored: the listener is shutting down; retry later',
        },
        true,
      )
      return
    }
    inFlight += 1
    handleEvent(req, res).then(settled, (error: unknown) => {
      logger.error(`ingest request failed: ${String(error)}`)
      if (!res.headersSent)
        send(res, 500, { error: 'internal', message: 'not stored; retry later' }, true)
      settled()
    })
  }

  function settled(): void {
    inFlight -= 1
    if (inFlight === 0) drained?.()
  }

  const server = createServer(
    {
      // Headers must arrive promptly; the body has its own deadline (BodyReads) so it can be counted.
      headersTimeout: Math.min(bodyTimeoutMs, 10_000),
      requestTimeout: bodyTimeoutMs + 5_000,
      connectionsCheckingInterval: 1_000,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    onRequest,
  )
  // The integrator's plain, authorized requests are answered on the socket (fast-path.ts says
  // why); everything else goes to onRequest above.
  const fast = takeFastPath({
    server,
    maxBodyBytes,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    answer: (request) => {
      if (shuttingDown || !authorized(request.authorization)) return null
      inFlight += 1
      return store(request.body, request.contentType).then(
        ({ status, body }) => jsonResponse(status, body, KEEP_ALIVE_TIMEOUT_MS),
        (error: unknown) => {
          logger.error(`ingest request failed: ${String(error)}`)
          throw error
        },
      )
    },
    answered: settled,
  })
  if (!fast)
    logger.warn(
      'ingest fast path off: this Node serves HTTP connections differently than expected; node:http answers every request (slower under load, the same answers)',
    )
  const fastPath: FastPathCounts = fast?.counts ?? { answered: 0, passedOn: 0 }

  return {
    server,
    fastPath,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve(server.address() as AddressInfo)
        })
      })
    },
    async close() {
      shuttingDown = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      fast?.closeIdle()
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve
          // A body still arriving is cut off at its own timeout; this bounds the wait anyway.
          setTimeout(resolve, bodyTimeoutMs + 1_000).unref()
        })
      }
      server.closeAllConnections()
      fast?.closeAll()
      await closed
    },
  }
}
