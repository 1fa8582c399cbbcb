import { randomBytes } from 'node:crypto'

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'

/**
 * The 3-character suffix that makes a 15-character id case-insensitively unique: one character per
 * block of five, whose bits say which characters of the block are upper case.
 */
export function to18(id15: string): string {
  let suffix = ''
  for (let block = 0; block < 3; block += 1) {
    let flags = 0
    for (let i = 0; i < 5; i += 1) {
      const c = id15.charAt(block * 5 + i)
      if (c >= 'A' && c <= 'Z') flags |= 1 << i
    }
    suffix += SUFFIX.charAt(flags)
  }
  return id15 + suffix
}

/** A 15- or 18-character id whose checksum (when present) is right, or null. */
export function normalizeId(value: string): string | null {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(value)) return null
  const full = to18(value.slice(0, 15))
  if (value.length === 18 && full.toUpperCase() !== value.toUpperCase()) return null
  return full
}

/** `prefix` + pod "5g" + reserved "0" + 9 base-62 digits of `n`, as Salesforce ids look. */
export function makeId(prefix: string, n: number): string {
  let digits = ''
  let rest = n
  for (let i = 0; i < 9; i += 1) {
    digits = BASE62.charAt(rest % 62) + digits
    rest = Math.floor(rest / 62)
  }
  return to18(`${prefix}5g0${digits}`)
}

/** An opaque token in the shape of a Salesforce session id: `<orgId15>!<random>`. */
export function makeSessionToken(orgId: string): string {
  return `${orgId.slice(0, 15)}!${randomBytes(48).toString('base64url')}`
}

export function makeRefreshToken(): string {
  return `5Aep861${randomBytes(40).toString('base64url')}`
}
