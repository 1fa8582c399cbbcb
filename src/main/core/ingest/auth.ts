import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

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
 * Checks requests against the shared secret. Both sides are hashed first so the comparison is
 * constant-time whatever the lengths; `null` (no token configured) admits every request, which
 * `serve` allows on loopback only.
 */
export function makeAuthCheck(
  token: string | null,
): (authorization: string | undefined) => boolean {
  if (token === null) return () => true
  const expected = digest(token)
  return (authorization) => {
    const secret = presentedSecret(authorization)
    return timingSafeEqual(digest(secret ?? ''), expected) && secret !== null
  }
}
