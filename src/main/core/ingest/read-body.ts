import type { IncomingMessage } from 'node:http'

export type BodyResult =
  | { kind: 'body'; bytes: Buffer }
  | { kind: 'too_large' }
  | { kind: 'timeout' }
  | { kind: 'aborted' }

/** One body being read: its request, what arrived so far, and when it is out of time. */
class BodyRead {
  private readonly chunks: Buffer[] = []
  private size = 0
  private settled = false

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    readonly deadline: number,
    private readonly reads: BodyReads,
    private readonly resolve: (result: BodyResult) => void,
  ) {
    req.on('data', this.onData)
    req.once('end', this.onEnd)
    req.once('error', this.onAbort)
    req.once('close', this.onClose)
  }

  private readonly onData = (chunk: Buffer): void => {
    this.size += chunk.length
    if (this.size > this.maxBytes) this.finish({ kind: 'too_large' })
    else this.chunks.push(chunk)
  }
  private readonly onEnd = (): void => {
    this.finish({ kind: 'body', bytes: Buffer.concat(this.chunks, this.size) })
  }
  private readonly onAbort = (): void => this.finish({ kind: 'aborted' })
  private readonly onClose = (): void => {
    if (!this.req.complete) this.finish({ kind: 'aborted' })
  }

  finish(result: BodyResult): void {
    if (this.settled) return
    this.settled = true
    this.reads.delete(this)
    this.req.off('data', this.onData)
    if (result.kind !== 'body') this.req.pause()
    this.resolve(result)
  }
}

/**
 * Reads request bodies up to `maxBytes` each, within `timeoutMs` of the call. Nothing touches
 * the store while a body arrives, so a slow or half-sent body costs one socket and never holds a
 * commit. One sweep timer serves every body in flight (a timer a request was a measurable part of
 * the listener's work); a body out of time is answered at most a sweep late.
 */
export class BodyReads {
  private readonly inFlight = new Set<BodyRead>()
  private sweep: NodeJS.Timeout | null = null
  private readonly sweepEveryMs: number

  constructor(
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
  ) {
    this.sweepEveryMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)))
  }

  read(req: IncomingMessage): Promise<BodyResult> {
    return new Promise((resolve) => {
      const read = new BodyRead(req, this.maxBytes, Date.now() + this.timeoutMs, this, resolve)
      this.inFlight.add(read)
      this.sweep ??= setInterval(this.expire, this.sweepEveryMs).unref()
    })
  }

  delete(read: BodyRead): void {
    this.inFlight.delete(read)
  }

  private readonly expire = (): void => {
    const now = Date.now()
    for (const read of this.inFlight) if (read.deadline <= now) read.finish({ kind: 'timeout' })
    if (this.inFlight.size === 0 && this.sweep) {
      clearInterval(this.sweep)
      this.sweep = null
    }
  }
}
