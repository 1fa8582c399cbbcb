import { STATUS_CODES } from 'node:http'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { MAX_HEAD_BYTES, parseFastRequest } from './fast-request'
import type { FastRequest } from './fast-request'

/**
 * The listener's fast path: the integrator's plain `POST /events`, read and answered straight on
 * the socket, without node:http's request and response objects.
 *
 * Why: node:http spends most of the listener thread's time. Measured on this machine under the
 * benchmark's load, a bare node:http server that parses each body and answers took 57-63 us of
 * CPU a request, the same on a plain socket 20-26 us; Footfall's listener thread is the busiest
 * of its threads, and on two cores every microsecond it spends is one the commit thread and the
 * sender do not get.
 *
 * How it stays correct: each connection starts here, and only a request that is complete in
 * hand and plain (fast-request.ts) is answered here. At the first other request (an error, a
 * refusal, a body still arriving, anything in doubt) the connection, with the bytes read so far
 * put back, goes to node:http for good, and the ingest server answers it as before. Requests on
 * one connection are answered one at a time, in order.
 */
export interface FastPathOptions {
  /** node:http's server: it listens, and takes the connections the fast path passes on. */
  server: Server
  maxBodyBytes: number
  /** How long an idle connection stays open (node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number
  /**
   * Answers a request, with the whole response (status line to body); null passes the request
   * and its connection to node:http (a refusal, or shutting down).
   */
  answer(request: FastRequest): Promise<string> | null
  /** Called once for each answer begun, after its response is written (or cannot be). */
  answered(): void
}

export interface FastPath {
  /** How many requests the fast path answered, and connections it passed to node:http. */
  readonly counts: FastPathCounts
  /** Closes the connections that wait for their next request (none in flight). */
  closeIdle(): void
  /** Closes every connection still here. */
  closeAll(): void
}

export interface FastPathCounts {
  answered: number
  passedOn: number
}

type ConnectionListener = (this: Server, socket: Socket) => void

/** The content type of every answer, on both paths (ingest-server.ts sends node:http's). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

let dateSecond = -1
let dateText = ''
/** A whole JSON response as node:http would write it for a kept-alive connection. */
export function jsonResponse(status: number, body: object, keepAliveTimeoutMs: number): string {
  const text = JSON.stringify(body)
  const second = Math.floor(Date.now() / 1000)
  if (second !== dateSecond) {
    dateSecond = second
    dateText = new Date(second * 1000).toUTCString()
  }
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    `content-type: ${JSON_CONTENT_TYPE}\r\n` +
    `content-length: ${Buffer.byteLength(text)}\r\n` +
    `Date: ${dateText}\r\n` +
    'Connection: keep-alive\r\n' +
    `Keep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n\r\n` +
    text
  )
}

/**
 * Puts the fast path in front of node:http; null (and node:http serves everything, as before)
 * when the server does not look as the fast path expects (another Node, another listener).
 */
export function takeFastPath(options: FastPathOptions): FastPath | null {
  const { server } = options
  // node:http serves a connection through its 'connection' listener; the fast path takes its
  // place and calls it for the connections it passes on.
  const toHttp = server.listeners('connection') as ConnectionListener[]
  if (toHttp.length !== 1 || server.listening) return null
  const httpConnection = toHttp[0]!
  server.removeListener('connection', httpConnection)
  const open = new Set<FastConnection>()
  const counts: FastPathCounts = { answered: 0, passedOn: 0 }
  server.on('connection', (socket: Socket) => {
    open.add(new FastConnection(socket, options, open, counts, httpConnection))
  })
  return {
    counts,
    closeIdle: () => {
      for (const c of open) if (!c.busy) c.close()
    },
    closeAll: () => {
      for (const c of open) c.close()
    },
  }
}

class FastConnection {
  private buffered: Buffer | null = null
  busy = false
  private ended = false

  constructor(
    private readonly socket: Socket,
    private readonly options: FastPathOptions,
    private readonly open: Set<FastConnection>,
    private readonly counts: FastPathCounts,
    private readonly httpConnection: ConnectionListener,
  ) {
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.setTimeout(options.keepAliveTimeoutMs, this.onTimeout)
  }

  close(): void {
    this.socket.destroy()
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk
    if (!this.busy) this.next()
    // A sender that sends ahead of its answers waits, as node:http makes it wait: reading
    // resumes when the answer in flight is written.
    else if (this.buffered.length > this.options.maxBodyBytes + MAX_HEAD_BYTES) this.socket.pause()
  }

  /** The sender sent all it will: answer what is complete, then close our side too. */
  private readonly onEnd = (): void => {
    this.ended = true
    if (!this.busy) this.next()
  }

  private readonly onError = (): void => {
    this.socket.destroy()
  }

  private readonly onClose = (): void => {
    this.open.delete(this)
  }

  /** Idle past the keep-alive timeout: closed, as node:http would. In flight: wait for it. */
  private readonly onTimeout = (): void => {
    if (!this.busy) this.socket.destroy()
  }

  /** Answers the next request if it is complete and plain; else passes the connection on. */
  private next(): void {
    const buffered = this.buffered
    if (!buffered) {
      if (this.ended) this.socket.end()
      return
    }
    const request = parseFastRequest(buffered, 0, this.options.maxBodyBytes)
    const answer = request ? this.options.answer(request) : null
    if (!request || !answer) {
      // node:http never saw this connection's end, so one already half-closed is not passed on:
      // what is left is a request its sender gave up on, or one it cannot wait to be refused.
      if (this.ended) this.socket.destroy()
      else this.passOn()
      return
    }
    this.buffered = request.next < buffered.length ? buffered.subarray(request.next) : null
    this.busy = true
    answer.then(
      (response) => {
        this.busy = false
        if (this.socket.destroyed) return this.options.answered()
        this.counts.answered += 1
        const flushed = this.socket.write(response)
        // Only now: a shutdown waiting for answers in flight may close the socket next.
        this.options.answered()
        if (flushed) {
          this.socket.resume()
          this.next()
        } else {
          // The sender is not reading its answers: read nothing more from it until it does.
          this.socket.pause()
          this.socket.once('drain', () => {
            this.socket.resume()
            this.next()
          })
        }
      },
      // `answer` resolves even when nothing was stored (a 500); were it to fail, no answer is
      // the honest one: the sender retries.
      () => {
        this.socket.destroy()
        this.options.answered()
      },
    )
  }

  /** Gives the connection to node:http, with the bytes read and not yet answered put back. */
  private passOn(): void {
    const { socket } = this
    this.open.delete(this)
    this.counts.passedOn += 1
    socket.removeListener('data', this.onData)
    socket.removeListener('end', this.onEnd)
    socket.removeListener('error', this.onError)
    socket.removeListener('close', this.onClose)
    socket.setTimeout(0)
    socket.removeListener('timeout', this.onTimeout)
    // Paused, so the bytes put back wait for node:http's reader rather than going nowhere.
    socket.pause()
    if (this.buffered) socket.unshift(this.buffered)
    this.buffered = null
    this.httpConnection.call(this.options.server, socket)
    socket.resume()
  }
}
