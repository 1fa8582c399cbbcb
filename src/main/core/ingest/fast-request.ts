/**
 * The one request the listener's fast path answers itself (fast-path.ts): a complete
 * `POST /events HTTP/1.1` with a Host, a Content-Length body already in hand, and nothing that
 * asks for more of HTTP than that. Anything else, or anything in doubt, is not parsed here: the
 * connection goes to node:http, which answers it as before (errors, 401, 413, chunked bodies,
 * `Expect`, slow senders). So this parser only has to be right about what it accepts.
 */
export interface FastRequest {
  /** Where the next request on the connection starts. */
  next: number
  authorization: string | undefined
  contentType: string | null
  body: Buffer
}

const REQUEST_LINE = 'POST /events HTTP/1.1\r\n'
/** node:http's default limit on a request's head (--max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024
// RFC 9110: a field name is a token; a value has no control characters but HTAB.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
const DIGITS = /^[0-9]{1,15}$/

/** Cuts optional whitespace (SP, HTAB) from both ends, as HTTP does around field values. */
function trimOws(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start += 1
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end -= 1
  return value.slice(start, end)
}

/**
 * The request at `start` of `buf` if the fast path can answer it; null hands it (and the
 * connection) to node:http: incomplete, another method or path or version, a malformed or
 * oversized head, no Host, a body of no or unusual length, `Transfer-Encoding`, `Expect`,
 * `Upgrade`, a `Connection` other than keep-alive, or a field it reads given twice.
 */
export function parseFastRequest(
  buf: Buffer,
  start: number,
  maxBodyBytes: number,
): FastRequest | null {
  const headEnd = buf.indexOf('\r\n\r\n', start, 'latin1')
  if (headEnd < 0 || headEnd + 4 - start > MAX_HEAD_BYTES) return null
  // Through the CRLF of the last field line, so every line ends in CRLF.
  const head = buf.toString('latin1', start, headEnd + 2)
  if (!head.startsWith(REQUEST_LINE)) return null
  let length = -1
  let host = false
  let authorization: string | undefined
  let contentType: string | null = null
  for (let at = REQUEST_LINE.length; at < head.length;) {
    const eol = head.indexOf('\r\n', at)
    const line = head.slice(at, eol)
    at = eol + 2
    const colon = line.indexOf(':')
    if (colon <= 0) return null
    const name = line.slice(0, colon)
    const value = trimOws(line.slice(colon + 1))
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return null
    switch (name.toLowerCase()) {
      case 'host':
        if (host) return null
        host = true
        break
      case 'content-length':
        if (length >= 0 || !DIGITS.test(value)) return null
        length = Number(value)
        break
      case 'authorization':
        if (authorization !== undefined) return null
        authorization = value
        break
      case 'content-type':
        if (contentType !== null) return null
        contentType = value
        break
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return null
        break
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return null
    }
  }
  if (!host || length < 1 || length > maxBodyBytes) return null
  const bodyStart = headEnd + 4
  const next = bodyStart + length
  if (next > buf.length) return null
  return { next, authorization, contentType, body: buf.subarray(bodyStart, next) }
}
