import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** What one request got: an HTTP answer, or a failure that a retry may cure. */
export type PostResult =
  { kind: 'answered'; status: number; answer: string | null } | { kind: 'failed'; reason: string }

export interface Transport {
  post(body: string): Promise<PostResult>
  close(): void
}

/** Where events go: a base URL gets `/events`; a URL that already names a path is used as is. */
export function eventsUrl(target: string): URL {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    throw new Error(`'${target}' is not a URL (for example http://127.0.0.1:8787)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`'${target}' is not an http(s) URL`)
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/events'
  return url
}

/**
 * One event per request, over kept-alive connections (the real integrator does the same; a new
 * TCP connection per event would measure the handshake, not the listener). The answer body is
 * read only to record stored/duplicate/quarantined in the manifest; the real sender ignores it.
 */
export function httpTransport(options: {
  url: URL
  token: string | null
  timeoutMs: number
  maxSockets: number
}): Transport {
  const { url, token, timeoutMs } = options
  const https = url.protocol === 'https:'
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets })
    : new HttpAgent({ keepAlive: true, maxSockets: options.maxSockets })
  const request = https ? httpsRequest : httpRequest
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== null) headers.authorization = `Bearer ${token}`

  return {
    post(body) {
      return new Promise<PostResult>((resolve) => {
        let settled = false
        const finish = (result: PostResult): void => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve(result)
        }
        const req = request(url, {
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        })
        // One timer for the whole exchange: a listener that accepts and then stalls is a timeout.
        const timer = setTimeout(() => {
          finish({ kind: 'failed', reason: 'timeout' })
          req.destroy()
        }, timeoutMs)
        req.on('error', (error: NodeJS.ErrnoException) => {
          finish({ kind: 'failed', reason: error.code ?? error.message })
        })
        req.on('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('error', (error: NodeJS.ErrnoException) => {
            finish({ kind: 'failed', reason: error.code ?? error.message })
          })
          res.on('end', () => {
            let answer: string | null = null
            try {
              const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
              if (parsed !== null && typeof parsed === 'object' && 'status' in parsed) {
                const status = parsed.status
                answer = typeof status === 'string' ? status : null
              }
            } catch {
              answer = null
            }
            finish({ kind: 'answered', status: res.statusCode ?? 0, answer })
          })
        })
        req.end(body)
      })
    },
    close() {
      agent.destroy()
    },
  }
}
