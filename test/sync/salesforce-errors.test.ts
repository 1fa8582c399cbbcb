import { describe, expect, it } from 'vitest'
import { backoffDelayMs } from '../../src/main/core/sync/backoff'
import { classifySfError } from '../../src/main/core/sync/salesforce-errors'

describe('classifySfError (the table in SALESFORCE.md)', () => {
  it.each([
    ['UNABLE_TO_LOCK_ROW', '', 'transient'],
    ['SERVER_UNAVAILABLE', '', 'transient'],
    ['UNKNOWN_EXCEPTION', '', 'transient'],
    ['REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded', 'transient'],
    ['REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', 'daily_limit'],
    ['INVALID_SESSION_ID', 'Session expired or invalid', 'session'],
    ['ECONNREFUSED', '', 'transient'],
    ['503', '', 'transient'],
  ])('%s (%s) is retryable: %s', (code, message, kind) => {
    const c = classifySfError(code, message)
    expect(c.kind).toBe(kind)
    expect(c.retryable).toBe(true)
    expect(c.maxAttempts).toBeGreaterThan(1)
  })

  it.each([
    'DUPLICATE_VALUE',
    'INVALID_FIELD',
    'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    'REQUIRED_FIELD_MISSING',
    'STRING_TOO_LONG',
    'MALFORMED_ID',
    'NOT_FOUND',
    'SOMETHING_NEW',
  ])('%s needs a person: not retryable, with advice', (code) => {
    const c = classifySfError(code)
    expect(c).toMatchObject({ kind: 'record', retryable: false, maxAttempts: 1 })
    expect(c.advice).toMatch(/\w{4,}/)
  })

  it('tells the admin what to do for a missing field', () => {
    expect(classifySfError('INVALID_FIELD').advice).toContain('add the field')
  })

  it('treats a refused login as configuration', () => {
    expect(classifySfError('invalid_grant')).toMatchObject({ kind: 'config', retryable: false })
  })
})

describe('backoffDelayMs', () => {
  const policy = { baseMs: 1000, capMs: 60_000 }
  it('doubles per attempt within jitter bounds, and caps', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(500)
    expect(backoffDelayMs(1, policy, () => 1)).toBe(1000)
    expect(backoffDelayMs(4, policy, () => 1)).toBe(8000)
    expect(backoffDelayMs(4, policy, () => 0)).toBe(4000)
    expect(backoffDelayMs(30, policy, () => 1)).toBe(60_000)
  })
})
