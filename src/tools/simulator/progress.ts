/**
 * The live progress line on stderr: redrawn in place on a terminal, a plain line every few seconds
 * otherwise (CI logs, `2> file`), so that a log does not fill with carriage returns.
 */

export interface ProgressSnapshot {
  simNowMs: number
  sent: number
  acknowledged: number
  retried: number
  inFlight: number
  waiting: number
  blockedCustomers: number
  eventsPerSecond: number
  lastFailure: string | null
}

export function formatProgress(s: ProgressSnapshot): string {
  const sim = new Date(s.simNowMs).toISOString().slice(0, 19).replace('T', ' ')
  const parts = [
    `sim ${sim}Z`,
    `sent ${s.sent}`,
    `acked ${s.acknowledged}`,
    `retried ${s.retried}`,
    `in flight ${s.inFlight}`,
    `waiting ${s.waiting}`,
    `${s.eventsPerSecond.toFixed(1)} ev/s`,
  ]
  if (s.blockedCustomers > 0) {
    parts.push(`${s.blockedCustomers} customer${s.blockedCustomers === 1 ? '' : 's'} in retry`)
  }
  if (s.lastFailure) parts.push(`last failure ${s.lastFailure}`)
  return parts.join(' | ')
}

export interface ProgressLine {
  start(): void
  stop(): void
}

export function progressLine(
  snapshot: () => ProgressSnapshot,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressLine {
  const tty = stream.isTTY === true
  let timer: NodeJS.Timeout | null = null
  let width = 0
  const draw = (): void => {
    const text = formatProgress(snapshot())
    if (tty) {
      const shown = text.slice(0, Math.max(20, (stream.columns || 120) - 1))
      stream.write(`\r${shown.padEnd(width)}`)
      width = shown.length
    } else {
      stream.write(`${text}\n`)
    }
  }
  return {
    start() {
      timer = setInterval(draw, tty ? 250 : 5_000)
      timer.unref()
    },
    stop() {
      if (timer) clearInterval(timer)
      timer = null
      draw()
      if (tty) stream.write('\n')
    },
  }
}
