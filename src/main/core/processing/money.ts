/**
 * Money without binary floating-point drift: amounts are integers of micro-units (1e-6 of the
 * currency), summed exactly, and rounded to cents once, at the end (PROCESSING.md). A price has
 * at most a few decimals, so converting it to micros is exact after rounding; a fractional
 * quantity (0.5 kg) rounds the product to the micro, far below a cent.
 */
export const MICROS_PER_UNIT = 1_000_000
const MICROS_PER_CENT = 10_000

export function toMicros(amount: number): number {
  return Math.round(amount * MICROS_PER_UNIT)
}

/** Line amount = quantity × unit_price − the sum of the line's discounts, in micros. */
export function lineMicros(
  quantity: number,
  unitPrice: number,
  discounts: readonly number[],
): number {
  let micros = Math.round(quantity * toMicros(unitPrice))
  for (const d of discounts) micros -= toMicros(d)
  return micros
}

/** Rounds micros to whole cents, half away from zero (a refund rounds like a sale). */
export function microsToCents(micros: number): number {
  const sign = micros < 0 ? -1 : 1
  const abs = Math.abs(micros)
  const cents = Math.floor(abs / MICROS_PER_CENT)
  const rest = abs - cents * MICROS_PER_CENT
  return sign * (rest * 2 >= MICROS_PER_CENT ? cents + 1 : cents)
}

/** Cents as a decimal number for DTOs and Salesforce (exact for any realistic amount). */
export function centsToAmount(cents: number): number {
  return cents / 100
}
