import type { ValidationRuleSpec } from './dml'

/** The failures Salesforce gives a sync engine that a retry may cure (SALESFORCE.md). */
export type FaultError =
  'UNABLE_TO_LOCK_ROW' | 'SERVER_UNAVAILABLE' | 'UNKNOWN_EXCEPTION' | 'REQUEST_LIMIT_EXCEEDED'

export const FAULT_ERRORS: readonly FaultError[] = [
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'UNKNOWN_EXCEPTION',
  'REQUEST_LIMIT_EXCEEDED',
]

/**
 * Fail some requests: the next `count`, or `percent` of them at random (or both: the next `count`
 * requests, each with probability `percent`). `method` and `path` (a substring of the URL path)
 * narrow which requests it applies to; the token endpoint fails only when `path` names it
 * (`/services/oauth2/token`). UNABLE_TO_LOCK_ROW only hits requests that write records,
 * and fails `recordPercent` of their records (all by default), each with its own error.
 */
export interface FailureSpec {
  error: FaultError
  count?: number
  percent?: number
  method?: string
  path?: string
  recordPercent?: number
  /**
   * The message instead of the usual one, e.g. `ConcurrentPerOrgLongTxn Limit exceeded.` for the
   * concurrent kind of REQUEST_LIMIT_EXCEEDED, which a sync engine backs off from and retries.
   */
  message?: string
}

export interface FaultsSnapshot {
  failures: FailureSpec[]
  latencyMs: number
  refusingUntil: number | null
  validationRules: ValidationRuleSpec[]
}

export interface ChosenFailure {
  error: FaultError
  recordPercent: number
  message?: string
}

export class Faults {
  private failures: (FailureSpec & { remaining: number | null })[] = []
  latencyMs = 0
  validationRules: ValidationRuleSpec[] = []

  constructor(private readonly random: () => number = Math.random) {}

  addFailure(spec: FailureSpec): void {
    if (!FAULT_ERRORS.includes(spec.error))
      throw new Error(`unknown fault error ${String(spec.error)}`)
    if (spec.count === undefined && spec.percent === undefined) {
      throw new Error(
        'a failure needs `count` (next N requests) or `percent` (a share of requests)',
      )
    }
    this.failures.push({ ...spec, remaining: spec.count ?? null })
  }

  clear(): void {
    this.failures = []
    this.latencyMs = 0
    this.validationRules = []
  }

  /**
   * The failure this request gets, if any; a chosen `count` failure is used up. `writes` says
   * whether the request saves records (only those can fail a row lock).
   */
  choose(
    method: string,
    path: string,
    writes: boolean,
    onlyNamedPath = false,
  ): ChosenFailure | null {
    for (const f of this.failures) {
      if (f.remaining !== null && f.remaining <= 0) continue
      // The token endpoint fails only for failures that name it, so that a plain "fail the next
      // request" never stops jsforce from logging in again.
      if (onlyNamedPath && !f.path) continue
      if (f.method && f.method.toUpperCase() !== method.toUpperCase()) continue
      if (f.path && !path.includes(f.path)) continue
      if (f.error === 'UNABLE_TO_LOCK_ROW' && !writes) continue
      if (f.percent !== undefined && this.random() * 100 >= f.percent) continue
      if (f.remaining !== null) f.remaining -= 1
      return {
        error: f.error,
        recordPercent: f.recordPercent ?? 100,
        ...(f.message ? { message: f.message } : {}),
      }
    }
    return null
  }

  /** Whether one record of a request under a lock failure fails. */
  recordFails(chosen: ChosenFailure | null): boolean {
    return chosen?.error === 'UNABLE_TO_LOCK_ROW' && this.random() * 100 < chosen.recordPercent
  }

  snapshot(refusingUntil: number | null): FaultsSnapshot {
    return {
      failures: this.failures
        .filter((f) => f.remaining === null || f.remaining > 0)
        .map(({ remaining, ...spec }) => ({
          ...spec,
          ...(remaining !== null ? { count: remaining } : {}),
        })),
      latencyMs: this.latencyMs,
      refusingUntil,
      validationRules: this.validationRules,
    }
  }
}
