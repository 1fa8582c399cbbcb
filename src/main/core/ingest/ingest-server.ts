import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IngestOutcome, ReceivedOp, Receipt } from '../store/event-store'
import type { Logger } from '../logger'
import { makeAuthCheck } from './auth'
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
  listen(port: number, host: string): Promise<AddressInfo>
  /** Stops accepting, answers what it already read, then resolves. */
  close(): Promise<void>
}

const STATUS_FOR: Record<Exclude<IngestOutcome, 'counted'>, number> = {
  stored: 201,
  duplicate: 200,
  quarantined: 202,
}

function send(res: ServerResponse, status: number, body: object, close = false): void {
  const text = JSON.stringify(body)
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
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
    let receipt: Receipt
    try {
      receipt = await sink.submit({
        kind: 'body',
        raw: body.bytes,
        contentType: req.headers['content-type'] ?? null,
        receivedMs: Date.now(),
      })
    } catch (error) {
      logger.error(`event not stored, answered 500: ${String(error)}`)
      send(res, 500, {
        error: 'not_stored',
        message: 'the event could not be stored and nothing of it was kept; retry later',
      })
      return
    }
    const { outcome, note } = receipt
    if (outcome === 'counted') throw new Error('a body was counted, not stored')
    send(
      res,
      STATUS_FOR[outcome],
      outcome === 'quarantined' ? { status: outcome, reason: note } : { status: outcome, id: note },
    )
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
      keepAliveTimeout: 5_000,
    },
    onRequest,
  )

  return {
    server,
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
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve
          // A body still arriving is cut off at its own timeout; this bounds the wait anyway.
          setTimeout(resolve, bodyTimeoutMs + 1_000).unref()
        })
      }
      server.closeAllConnections()
      await closed
    },
  }
}
