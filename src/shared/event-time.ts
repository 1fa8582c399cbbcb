/**
 * Readers for the two time formats of the inbound stream. Pure functions: the ingest path, the
 * processing rules and the simulator all read time the same way.
 */

// ISO-8601 date-time as the sender writes it: date, 'T', hh:mm[:ss[.fff]], optional offset.
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

export interface ParsedTimestamp {
  /** Milliseconds since the epoch; a timestamp without offset is read as UTC. */
  epochMs: number
  /** False when the sender gave no offset (a data-quality alert in processing). */
  hasOffset: boolean
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Days in a month of the proleptic Gregorian calendar (month 1-12), as Date.UTC counts them. */
function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!
}

// The ingest path reads each timestamp twice (the schema's check, then the stored columns):
// the last answer is kept for the second read.
let lastText: string | null = null
let lastParsed: ParsedTimestamp | null = null

/** Reads an ISO-8601 timestamp, or returns null when it is not one (including impossible dates). */
export function parseTimestamp(text: string): ParsedTimestamp | null {
  if (text !== lastText) {
    lastParsed = readTimestamp(text)
    lastText = text
  }
  return lastParsed && { epochMs: lastParsed.epochMs, hasOffset: lastParsed.hasOffset }
}

function readTimestamp(text: string): ParsedTimestamp | null {
  const m = ISO_DATE_TIME.exec(text.trim())
  if (!m) return null
  const [, y, mo, d, h, mi, s, frac, offset] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = s === undefined ? 0 : Number(s)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null
  if (hour > 23 || minute > 59 || second > 59) return null
  const ms = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000)
  let epochMs = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  if (offset !== undefined && offset.toUpperCase() !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1
    const digits = offset.slice(1).replace(':', '')
    const offH = Number(digits.slice(0, 2))
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
    if (offH > 23 || offM > 59) return null
    epochMs -= sign * (offH * 60 + offM) * 60_000
  }
  return { epochMs, hasOffset: offset !== undefined }
}

const ISO_DURATION =
  /^P(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i
const CLOCK_DURATION = /^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$/
const PLAIN_SECONDS = /^\d+(?:\.\d+)?$/

const num = (part: string | undefined): number =>
  part === undefined ? 0 : Number(part.replace(',', '.'))

/**
 * Reads `time_elapsed` in the three forms EVENTS.md accepts: seconds (a number, or a numeric
 * string), an ISO-8601 duration (`PT21M18.75S`) or `HH:MM:SS(.fff)`. Returns seconds, or null
 * when the value is missing or unreadable (processing then derives TIS from timestamps).
 */
export function parseTimeElapsed(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null
  if (typeof value !== 'string') return null
  const text = value.trim()
  if (PLAIN_SECONDS.test(text)) return Number(text)
  const clock = CLOCK_DURATION.exec(text)
  if (clock) return num(clock[1]) * 3600 + num(clock[2]) * 60 + num(clock[3])
  const iso = ISO_DURATION.exec(text)
  // "P" or "PT" alone match the pattern but say nothing.
  if (iso && /\d/.test(text)) {
    return num(iso[1]) * 86_400 + num(iso[2]) * 3600 + num(iso[3]) * 60 + num(iso[4])
  }
  return null
}
