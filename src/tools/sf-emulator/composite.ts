import type { DmlHooks } from './dml'
import { ApiError, jsonParserError } from './errors'
import type { ChosenFailure } from './faults'
import { asObject, json, parseJsonBody, pathSegments } from './http'
import type { Reply } from './http'
import { savesRecords } from './rest'
import type { RestApi } from './rest'
import type { Store, UnitOfWork } from './store'

/** Salesforce's caps on one composite request (REST API Developer Guide, "Composite"). */
export const COMPOSITE_SUBREQUEST_LIMIT = 25
/** Of those, how many may be sObject Collections or query (Query, QueryAll, query more) ones. */
export const COMPOSITE_COLLECTION_OR_QUERY_LIMIT = 5

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
/** Subrequests inherit these from the top-level request and may not set them. */
const INHERITED_HEADERS = new Set(['accept', 'authorization', 'content-type'])
const REFERENCE_ID = /^[A-Za-z0-9_]+$/
/** `@{refId.field}`, `@{refId.records[0].Id}`: a value of an earlier subrequest's answer. */
const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}/g

const ROLLED_BACK_MESSAGE =
  'The transaction was rolled back since another operation in the same transaction failed.'

/** What the composite handler needs from the server around it. */
export interface CompositeContext {
  minVersion: number
  maxVersion: number
  /** The fault a subrequest draws, as if it were a request of its own. */
  chooseFault(method: string, path: string, writes: boolean): ChosenFailure | null
  /** A drawn fault that is not a row lock fails the whole composite request with this answer. */
  failureReply(chosen: ChosenFailure): Reply
  hooksFor(chosen: ChosenFailure | null): DmlHooks
}

interface Subrequest {
  method: string
  url: string
  referenceId: string
  body: unknown
  headers: Record<string, string>
  /** An sObject Collections or query subrequest (the kind limited to five). */
  limited: boolean
  isCollection: boolean
  fault: ChosenFailure | null
}

interface SubrequestResult {
  body: unknown
  httpHeaders: Record<string, string>
  httpStatusCode: number
  referenceId: string
}

const invalidInput = (message: string): ApiError => new ApiError(400, 'INVALID_API_INPUT', message)

const halted = (referenceId: string, message: string): SubrequestResult => ({
  body: [{ errorCode: 'PROCESSING_HALTED', message }],
  httpHeaders: {},
  httpStatusCode: 400,
  referenceId,
})

/**
 * `POST /services/data/vNN.0/composite`: up to 25 subrequests in one call, run in order in one
 * transaction, answered together. The server counts the whole request as one API call. Faults
 * apply as Salesforce's do: a row lock fails records inside a subrequest's answer, while an
 * outage, a spent limit or an expired session fail the whole request at the top level.
 */
export class CompositeApi {
  constructor(
    private readonly rest: RestApi,
    private readonly store: Store,
    private readonly context: CompositeContext,
  ) {}

  async handle(raw: Buffer): Promise<Reply> {
    const request = asObject(parseJsonBody(raw), 'CompositeRequest')
    const allOrNone = request.allOrNone ?? false
    if (typeof allOrNone !== 'boolean') {
      throw jsonParserError(
        `Cannot deserialize instance of boolean from ${JSON.stringify(allOrNone)}`,
      )
    }
    const subrequests = this.parse(request.compositeRequest)
    // Every subrequest draws its fault before any runs: an outage fails the request as a whole.
    for (const sub of subrequests) {
      const path = new URL(sub.url, 'http://composite').pathname
      sub.fault = this.context.chooseFault(
        sub.method,
        path,
        savesRecords(sub.method, this.below(path)),
      )
      if (sub.fault && sub.fault.error !== 'UNABLE_TO_LOCK_ROW')
        return this.context.failureReply(sub.fault)
    }
    return json(200, { compositeResponse: await this.run(subrequests, allOrNone) })
  }

  /** Checks the whole body before anything runs: a malformed request changes nothing. */
  private parse(value: unknown): Subrequest[] {
    if (!Array.isArray(value) || value.length === 0) {
      throw invalidInput('compositeRequest is required and must be a non-empty list of subrequests')
    }
    if (value.length > COMPOSITE_SUBREQUEST_LIMIT) {
      throw new ApiError(
        400,
        'LIMIT_EXCEEDED',
        `A composite request can have at most ${COMPOSITE_SUBREQUEST_LIMIT} subrequests; this one has ${value.length}`,
      )
    }
    const seen = new Set<string>()
    const subrequests = value.map((item): Subrequest => {
      const sub = asObject(item, 'CompositeSubrequest')
      const { method, url, referenceId } = sub
      if (typeof method !== 'string' || !METHODS.has(method)) {
        throw invalidInput(
          `Invalid method ${JSON.stringify(method)}: use GET, POST, PUT, PATCH or DELETE`,
        )
      }
      if (typeof referenceId !== 'string' || !REFERENCE_ID.test(referenceId)) {
        throw invalidInput(
          `Invalid referenceId ${JSON.stringify(referenceId)}: it is required and may contain only letters, numbers and underscores`,
        )
      }
      if (seen.has(referenceId)) throw invalidInput(`Duplicate referenceId ${referenceId}`)
      seen.add(referenceId)
      if (typeof url !== 'string') throw invalidInput(`Subrequest ${referenceId} has no url`)
      const headers: Record<string, string> = {}
      if (sub.httpHeaders !== undefined) {
        for (const [name, v] of Object.entries(asObject(sub.httpHeaders, 'httpHeaders'))) {
          if (INHERITED_HEADERS.has(name.toLowerCase())) {
            throw invalidInput(`Subrequest ${referenceId} may not set the ${name} header`)
          }
          headers[name.toLowerCase()] = String(v)
        }
      }
      const below = this.below(url.split('?')[0] ?? '')
      const parts = pathSegments(below)
      const isCollection = parts[0] === 'composite' && parts[1] === 'sobjects'
      const isQuery = parts[0] === 'query' || parts[0] === 'queryAll'
      if (!isCollection && !isQuery && parts[0] !== 'sobjects') {
        throw invalidInput(
          `The composite resource does not support ${url}: use sObject, sObject Collections, Query or QueryAll resources`,
        )
      }
      return {
        method,
        url,
        referenceId,
        body: sub.body,
        headers,
        limited: isCollection || isQuery,
        isCollection,
        fault: null,
      }
    })
    const limited = subrequests.filter((s) => s.limited).length
    if (limited > COMPOSITE_COLLECTION_OR_QUERY_LIMIT) {
      throw new ApiError(
        400,
        'LIMIT_EXCEEDED',
        `A composite request can have at most ${COMPOSITE_COLLECTION_OR_QUERY_LIMIT} sObject Collections or query subrequests; this one has ${limited}`,
      )
    }
    return subrequests
  }

  /** The path below `/services/data/vNN.0` of a subrequest url; anything else is refused. */
  private below(url: string): string {
    const m = /^\/services\/data\/v(\d+)\.0(\/[^?]*)?$/.exec(url.split('?')[0] ?? '')
    const version = Number(m?.[1])
    if (!m || version < this.context.minVersion || version > this.context.maxVersion) {
      throw invalidInput(`Subrequest url ${url} is not a /services/data/vNN.0 resource`)
    }
    return m[2] ?? '/'
  }

  private async run(subrequests: Subrequest[], allOrNone: boolean): Promise<SubrequestResult[]> {
    const tx = this.store.begin()
    const results: SubrequestResult[] = []
    const byReference = new Map<string, SubrequestResult>()
    let failed: number | null = null
    try {
      for (const sub of subrequests) {
        if (failed !== null && allOrNone) {
          results.push(halted(sub.referenceId, ROLLED_BACK_MESSAGE))
          continue
        }
        const resolved = resolveReferences(sub, byReference)
        const result =
          'unresolved' in resolved
            ? halted(sub.referenceId, resolved.unresolved)
            : await this.runOne(resolved, tx, allOrNone)
        results.push(result)
        byReference.set(sub.referenceId, result)
        if (failed === null && isFailure(sub, result)) failed = results.length - 1
      }
    } catch (error) {
      tx.rollback()
      throw error
    }
    if (failed === null || !allOrNone) {
      tx.commit()
      return results
    }
    tx.rollback()
    return results.map((r, i) => (i === failed ? r : halted(r.referenceId, ROLLED_BACK_MESSAGE)))
  }

  private async runOne(
    sub: Subrequest,
    tx: UnitOfWork,
    allOrNone: boolean,
  ): Promise<SubrequestResult> {
    const url = new URL(sub.url, 'http://composite')
    const version = /^\/services\/data\/v(\d+\.0)/.exec(url.pathname)![1]!
    let reply: Reply
    try {
      reply = await this.rest.handle({
        method: sub.method,
        path: this.below(url.pathname),
        query: url.searchParams,
        headers: sub.headers,
        version,
        body: () =>
          Promise.resolve(Buffer.from(sub.body === undefined ? '' : JSON.stringify(sub.body))),
        hooks: this.context.hooksFor(sub.fault),
        tx,
        forceAllOrNone: allOrNone,
      })
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      reply = json(error.status, error.body())
    }
    const body: unknown = reply.json ?? null
    const id = body !== null && typeof body === 'object' ? (body as { id?: unknown }).id : undefined
    return {
      body,
      // A created record's answer says where it lives, as the direct call's Location header does.
      httpHeaders:
        reply.status === 201 && typeof id === 'string' && url.pathname.includes('/sobjects/')
          ? { Location: `/services/data/v${version}/sobjects/${url.pathname.split('/')[5]}/${id}` }
          : {},
      httpStatusCode: reply.status,
      referenceId: sub.referenceId,
    }
  }
}

/**
 * Under allOrNone, a subrequest fails when it answers an error, or when it is a collection with a
 * record that failed (the composite's allOrNone makes the collection all-or-none too).
 */
function isFailure(sub: Subrequest, result: SubrequestResult): boolean {
  if (result.httpStatusCode >= 400) return true
  return (
    sub.isCollection &&
    Array.isArray(result.body) &&
    result.body.some((r) => (r as { success?: unknown } | null)?.success === false)
  )
}

/** Replaces `@{ref.path}` in the url and body with values of earlier answers. */
function resolveReferences(
  sub: Subrequest,
  answers: Map<string, SubrequestResult>,
): Subrequest | { unresolved: string } {
  const state: { missing: string | null } = { missing: null }
  const valueOf = (refId: string, path: string): unknown => {
    const answer = answers.get(refId)
    let value: unknown = answer && answer.httpStatusCode < 400 ? answer.body : undefined
    for (const step of path.match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? []) {
      if (value === null || typeof value !== 'object') {
        value = undefined
        break
      }
      const key = step.startsWith('.') ? step.slice(1) : Number(step.slice(1, -1))
      value = (value as Record<string | number, unknown>)[key]
    }
    if (value === undefined || value === null) {
      state.missing ??= `Invalid reference specified. No value for ${refId}${path} found in ${refId}.`
    }
    return value
  }
  const inText = (text: string): unknown => {
    const whole = new RegExp(`^${REFERENCE.source}$`).exec(text)
    // A reference that is the whole value keeps its type (a number stays a number).
    if (whole) return valueOf(whole[1]!, whole[2]!)
    return text.replace(REFERENCE, (_m, refId: string, path: string) =>
      String(valueOf(refId, path)),
    )
  }
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return inText(value)
    if (Array.isArray(value)) return value.map(walk)
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]))
    }
    return value
  }
  const url = sub.url.replace(REFERENCE, (_m, refId: string, path: string) =>
    String(valueOf(refId, path)),
  )
  const body = walk(sub.body)
  return state.missing !== null ? { unresolved: state.missing } : { ...sub, url, body }
}
