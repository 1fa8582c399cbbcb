import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError, jsonParserError } from './errors'

/** What a route answers; the server adds the headers every Salesforce response carries. */
export interface Reply {
  status: number
  /** Serialized as JSON unless `text` is given. */
  json?: unknown
  text?: string
  contentType?: string
  headers?: Record<string, string>
}

export const json = (status: number, body: unknown): Reply => ({ status, json: body })
export const noContent = (): Reply => ({ status: 204 })

/** Bulk uploads may be large (Salesforce allows 150 MB a job); anything above is refused. */
const MAX_BODY_BYTES = 150 * 1024 * 1024

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(
        413,
        'REQUEST_ENTITY_TOO_LARGE',
        `request body exceeds ${MAX_BODY_BYTES} bytes`,
      )
    }
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}

/** Parses a JSON body; a broken one is Salesforce's JSON_PARSER_ERROR, not a crash. */
export function parseJsonBody(buf: Buffer): unknown {
  const text = buf.toString('utf8')
  if (text.trim() === '') throw jsonParserError('No content to map due to end-of-input')
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw jsonParserError(`Unexpected character in JSON body: ${(error as Error).message}`)
  }
}

export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw jsonParserError(
      `Cannot deserialize instance of ${what} from ${Array.isArray(value) ? 'START_ARRAY' : 'VALUE'} token`,
    )
  }
  return value as Record<string, unknown>
}

export function send(
  res: ServerResponse,
  reply: Reply,
  extraHeaders: Record<string, string>,
): void {
  const headers: Record<string, string | number> = { ...extraHeaders, ...(reply.headers ?? {}) }
  let payload: string | undefined
  if (reply.text !== undefined) {
    payload = reply.text
    headers['content-type'] = reply.contentType ?? 'text/plain; charset=UTF-8'
  } else if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json)
    headers['content-type'] = reply.contentType ?? 'application/json;charset=UTF-8'
  }
  if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload)
  res.writeHead(reply.status, headers)
  res.end(payload)
}

/** Splits a URL path into decoded segments; a broken %-escape is a missing resource, not a crash. */
export function pathSegments(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent)
  } catch {
    throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
  }
}
