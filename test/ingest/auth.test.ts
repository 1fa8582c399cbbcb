import { describe, expect, it } from 'vitest'
import { makeAuthCheck, presentedSecret } from '../../src/main/core/ingest/auth'

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

describe('the ingest token check', () => {
  const check = makeAuthCheck('s3cret-token')

  it('admits the token as Bearer (any case of the scheme) or as the Basic password', () => {
    expect(check('Bearer s3cret-token')).toBe(true)
    expect(check('bearer s3cret-token')).toBe(true)
    expect(check(basic('integrator', 's3cret-token'))).toBe(true)
    expect(check(basic('', 's3cret-token'))).toBe(true)
  })

  it('refuses a wrong token of the same length, a prefix, a longer one, and no token', () => {
    expect(check('Bearer s3cret-tokeN')).toBe(false)
    expect(check('Bearer s3cret-toke')).toBe(false)
    expect(check('Bearer s3cret-token-and-more')).toBe(false)
    expect(check('Bearer ')).toBe(false)
    expect(check('Bearer')).toBe(false)
    expect(check(undefined)).toBe(false)
    expect(check('')).toBe(false)
    expect(check(basic('s3cret-token', 'wrong'))).toBe(false)
    expect(check('Digest s3cret-token')).toBe(false)
  })

  it('compares bytes, not characters: a multi-byte token is checked whole', () => {
    const utf8 = makeAuthCheck('tökén')
    expect(utf8('Bearer tökén')).toBe(true)
    expect(utf8('Bearer tokén')).toBe(false)
  })

  it('admits everything when no token is configured (serve allows that on loopback only)', () => {
    expect(makeAuthCheck(null)(undefined)).toBe(true)
  })

  it('reads the presented secret from either scheme', () => {
    expect(presentedSecret('Bearer  abc ')).toBe('abc')
    expect(presentedSecret(basic('u', 'p:w'))).toBe('p:w')
    expect(presentedSecret('Basic !!!')).toBeNull()
  })
})
