import type { IncomingMessage } from 'node:http'

export type BodyResult =
  | { kind: 'body'; bytes: Buffer }
  | { kind: 'too_large' }
  | { kind: 'timeout' }
  | { kind: 'aborted' }

/** One body being read: what arrived so far, and when it is out of time. */
interface BodyRead {
  readonly req: IncomingMessage
  readonly reads: BodyReads
  readonly deadline: number
  readonly resolve: (result: BodyResult) => void
  chunks: Buffer[]
  size: number
  settled: boolean
}

// The listeners are shared, not made for each request: the read rides on the request itself.
// (Four closures a request, each named by the TypeScript loader, were a visible part of the
// listener's profile.)
const READ = Symbol('footfall.bodyRead')
type Reading = IncomingMessage & { [READ]: BodyRead }

function onData(this: Reading, chunk: Buffer): void {
  const read = this[READ]
  read.size += chunk.length
  if (read.size > read.reads.maxBytes) finish(read, { kind: 'too_large' })
  else read.chunks.push(chunk)
}
function onEnd(this: Reading): void {
  const read = this[READ]
  finish(read, { kind: 'body', bytes: Buffer.concat(read.chunks, read.size) })
}
function onError(this: Reading): void {
  finish(this[READ], { kind: 'aborted' })
}
function onClose(this: Reading): void {
  if (!this.complete) finish(this[READ], { kind: 'aborted' })
}

function finish(read: BodyRead, result: BodyResult): void {
  if (read.settled) return
  read.settled = true
  read.reads.inFlight.delete(read)
  read.req.off('data', onData)
  if (result.kind !== 'body') read.req.pause()
  read.resolve(result)
}

/**
 * Reads request bodies up to `maxBytes` each, within `timeoutMs` of the call. Nothing touches
 * the store while a body arrives, so a slow or half-sent body costs one socket and never holds a
 * commit. One sweep timer serves every body in flight (a timer a request was a measurable part of
 * the listener's work); a body out of time is answered at most a sweep late.
 */
export class BodyReads {
  readonly inFlight = new Set<BodyRead>()
  private sweep: NodeJS.Timeout | null = null
  private readonly sweepEveryMs: number

  constructor(
    readonly maxBytes: number,
    private readonly timeoutMs: number,
  ) {
    this.sweepEveryMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)))
  }

  read(req: IncomingMessage): Promise<BodyResult> {
    return new Promise((resolve) => {
      const read: BodyRead = {
        req,
        reads: this,
        deadline: Date.now() + this.timeoutMs,
        resolve,
        chunks: [],
        size: 0,
        settled: false,
      }
      ;(req as Reading)[READ] = read
      this.inFlight.add(read)
      // `on`, not `once` (which wraps each listener anew): `finish` runs once whatever fires.
      req.on('data', onData)
      req.on('end', onEnd)
      req.on('error', onError)
      req.on('close', onClose)
      this.sweep ??= setInterval(this.expire, this.sweepEveryMs).unref()
    })
  }

  private readonly expire = (): void => {
    const now = Date.now()
    for (const read of this.inFlight) if (read.deadline <= now) finish(read, { kind: 'timeout' })
    if (this.inFlight.size === 0 && this.sweep) {
      clearInterval(this.sweep)
      this.sweep = null
    }
  }
}
