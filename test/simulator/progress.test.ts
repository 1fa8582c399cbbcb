import { describe, expect, it } from 'vitest'
import { formatProgress, progressLine } from '../../src/tools/simulator/index'
import type { ProgressSnapshot } from '../../src/tools/simulator/index'

const snapshot: ProgressSnapshot = {
  simNowMs: Date.parse('2026-11-21T12:34:56Z'),
  sent: 120,
  acknowledged: 117,
  retried: 4,
  inFlight: 3,
  waiting: 9,
  blockedCustomers: 1,
  eventsPerSecond: 41.25,
  lastFailure: '500',
}

/** A stand-in for stderr that keeps what is written; only `isTTY`, `columns` and `write` are used. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const out = {
    isTTY,
    columns: 200,
    text: '',
    write(chunk: string) {
      out.text += chunk
      return true
    },
  }
  return out as unknown as NodeJS.WriteStream & { text: string }
}

describe('the progress line', () => {
  it('shows sent, acknowledged, retried, in flight and events/s', () => {
    const line = formatProgress(snapshot)
    expect(line).toBe(
      'sim 2026-11-21 12:34:56Z | sent 120 | acked 117 | retried 4 | in flight 3 | waiting 9 | 41.3 ev/s | 1 customer in retry | last failure 500',
    )
  })

  it('redraws in place on a terminal and writes plain lines otherwise', () => {
    const tty = stream(true)
    const ttyLine = progressLine(() => snapshot, tty)
    ttyLine.start()
    ttyLine.stop()
    expect(tty.text.startsWith('\r')).toBe(true)
    expect(tty.text.endsWith('\n')).toBe(true)

    const log = stream(false)
    const logLine = progressLine(() => snapshot, log)
    logLine.start()
    logLine.stop()
    expect(log.text).not.toContain('\r')
    expect(log.text).toBe(`${formatProgress(snapshot)}\n`)
  })
})
