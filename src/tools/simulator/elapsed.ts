/**
 * `time_elapsed` in the three forms EVENTS.md accepts. The assessment left the unit open, so the
 * simulator can send each form (or a mix) to prove the ingest and processing read them all.
 */

export const ELAPSED_FORMS = ['seconds', 'iso', 'clock'] as const
export type ElapsedForm = (typeof ELAPSED_FORMS)[number]
/** What `--elapsed-format` accepts: one form, or `mixed` (each exit picks one). */
export const ELAPSED_FORMATS = [...ELAPSED_FORMS, 'mixed'] as const
export type ElapsedFormat = (typeof ELAPSED_FORMATS)[number]

/** Seconds with at most three decimals and no trailing zeros ("18.75", "7", "0.5"). */
function secondsText(ms: number): string {
  const whole = Math.floor(ms / 1000)
  const frac = ms % 1000
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`
}

/**
 * Writes a whole number of milliseconds in the given form:
 * seconds → 1278.75, iso → "PT21M18.75S", clock → "00:21:18.750".
 */
export function formatElapsed(ms: number, form: ElapsedForm): number | string {
  const total = Math.max(0, Math.round(ms))
  switch (form) {
    case 'seconds':
      return total / 1000
    case 'iso': {
      const h = Math.floor(total / 3_600_000)
      const m = Math.floor((total % 3_600_000) / 60_000)
      const rest = total % 60_000
      let text = 'PT'
      if (h > 0) text += `${h}H`
      if (m > 0) text += `${m}M`
      if (rest > 0 || (h === 0 && m === 0)) text += `${secondsText(rest)}S`
      return text
    }
    case 'clock': {
      const h = Math.floor(total / 3_600_000)
      const m = Math.floor((total % 3_600_000) / 60_000)
      const s = Math.floor((total % 60_000) / 1000)
      const frac = total % 1000
      const two = (n: number): string => String(n).padStart(2, '0')
      return `${two(h)}:${two(m)}:${two(s)}${frac === 0 ? '' : `.${String(frac).padStart(3, '0')}`}`
    }
  }
}
