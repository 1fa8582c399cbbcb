import { timingSafeEqual } from 'node:crypto'

/** The secret a request presents: a Bearer token, or the password of HTTP Basic. */
export function presentedSecret(authorization: string | undefined): string | null {
  if (!authorization) return null
  const space = authorization.indexOf(' ')
  if (space < 0) return null
  const scheme = authorization.slice(0, space).toLowerCase()
  const value = authorization.slice(space + 1).trim()
  if (scheme === 'bearer') return value || null
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon < 0 ? null : decoded.slice(colon + 1)
  }
  return null
}

/**
 * Checks requests against the shared secret, in time that does not depend on how much of the
 * secret a guess gets right. A guess of another length is refused after the same comparison, so
 * only the token's length could show, as with most constant-time compares. (Hashing both sides
 * hides the length too, but a SHA-256 a request was about 6% of the listener thread's busy time
 * in a profile under load.) `null` (no token configured) admits every request, which `serve`
 * allows on loopback only.
 */
export function makeAuthCheck(
  token: string | null,
): (authorization: string | undefined) => boolean {
  if (token === null) return () => true
  const expected = Buffer.from(token, 'utf8')
  return (authorization) => {
    const secret = presentedSecret(authorization)
    const given = Buffer.from(secret ?? '', 'utf8')
    const sameLength = given.length === expected.length
    const equal = timingSafeEqual(sameLength ? given : expected, expected)
    return equal && sameLength && secret !== null
  }
}
