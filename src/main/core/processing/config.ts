/** The settings the rules depend on (PROCESSING.md). Results are a function of these too. */
export interface ProcessingConfig {
  /** A visit with no event for longer than this before "now" is closed as abandoned. */
  abandonAfterMs: number
  /** The deployment's currency; lines in another one are left out of spend and brands. */
  currency: string
  /** The window of "visits in the last 30 days". */
  recentWindowMs: number
}

export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS

export const PROCESSING_DEFAULTS: ProcessingConfig = {
  abandonAfterMs: 12 * HOUR_MS,
  currency: 'USD',
  recentWindowMs: 30 * DAY_MS,
}

/** time_elapsed and the timestamps may disagree by this much before it is an alert. */
export const TIS_TOLERANCE_MS = 60_000

export const TOP_BRANDS = 5
