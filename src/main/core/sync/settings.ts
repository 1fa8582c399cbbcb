import type { BackoffPolicy } from './backoff'
import { DEFAULT_BACKOFF } from './backoff'

/** How Footfall reaches the org. Secrets stay in memory and are never logged. */
export interface SalesforceSettings {
  loginUrl: string
  apiVersion: string
  clientId: string
  clientSecret: string | null
  username: string | null
  password: string | null
  /** PEM private key of the connected app's certificate, for the JWT bearer flow. */
  jwtPrivateKey: string | null
}

export interface SyncConfig {
  intervalMs: number
  /** Share of the org's daily API allocation left for its other integrations. */
  reserveShare: number
  /** More records of one kind than this in a run go through Bulk API 2.0. */
  bulkThreshold: number
  /** Most records of one kind a run takes on (the rest wait for the next run). */
  maxRecordsPerRun: number
  /** How long a customer→Account match is trusted before it is looked up again. */
  matchTtlMs: number
  /** Unmatched customers re-checked per run, oldest check first. */
  unmatchedRecheck: number
  /** An unmatched customer is looked up again at most this often. */
  unmatchedRecheckAfterMs: number
  backoff: BackoffPolicy
  bulkPollIntervalMs: number
  bulkTimeoutMs: number
}

export const SYNC_DEFAULTS: SyncConfig = {
  intervalMs: 30_000,
  reserveShare: 0.2,
  bulkThreshold: 2_000,
  maxRecordsPerRun: 200_000,
  matchTtlMs: 60 * 60_000,
  unmatchedRecheck: 1_000,
  unmatchedRecheckAfterMs: 5 * 60_000,
  backoff: DEFAULT_BACKOFF,
  bulkPollIntervalMs: 1_000,
  bulkTimeoutMs: 10 * 60_000,
}

export const DEFAULT_API_VERSION = '62.0'

/** A description of the settings that is safe to log: no secret, only whether it is set. */
export function describeSettings(s: SalesforceSettings): string {
  const grant = s.jwtPrivateKey
    ? 'JWT bearer'
    : s.username
      ? 'username-password'
      : 'client credentials'
  return `${s.loginUrl} (API v${s.apiVersion}, ${grant}${s.username ? ` as ${s.username}` : ''})`
}
