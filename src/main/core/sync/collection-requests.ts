import type { SfErrorInfo } from './sf-session'

/**
 * sObject Collections requests as data, so that the engine can send one alone or several inside
 * one Composite call (SALESFORCE.md; REST API Developer Guide, "Composite"): Salesforce counts a
 * composite call as one API call whatever it carries.
 */

/** Salesforce's cap on records in one sObject Collections request. */
export const COLLECTION_SIZE = 200
/** Salesforce's cap on sObject Collections (and query) subrequests in one composite call. */
export const COLLECTIONS_PER_COMPOSITE = 5

export interface CollectionRequest {
  method: 'PATCH' | 'DELETE'
  /** Below `/services/data/vNN.0`. */
  url: string
  body?: { allOrNone: boolean; records: Record<string, unknown>[] }
}

/** One record's result, in input order; the REST API names the error code `statusCode`. */
export interface CollectionResult {
  id?: string
  success: boolean
  created?: boolean
  errors: { statusCode: string; message: string; fields?: string[] }[]
}

/** A collections request's answer: each record's result, or the error that failed it whole. */
export type CollectionOutcome =
  { ok: true; results: CollectionResult[] } | { ok: false; error: SfErrorInfo }

/** Updates by id, or upserts on an external id; at most 200 records of one object. */
export function saveRequest(
  object: string,
  records: Record<string, unknown>[],
  externalIdField?: string,
): CollectionRequest {
  return {
    method: 'PATCH',
    url: externalIdField
      ? `/composite/sobjects/${object}/${externalIdField}`
      : '/composite/sobjects',
    body: {
      allOrNone: false,
      records: records.map((r) => ({ attributes: { type: object }, ...r })),
    },
  }
}

/** Deletes up to 200 records by id. */
export function deleteRequest(ids: string[]): CollectionRequest {
  return {
    method: 'DELETE',
    url: `/composite/sobjects?allOrNone=false&ids=${ids.map(encodeURIComponent).join(',')}`,
  }
}

export interface CompositeSubresult {
  body: unknown
  httpStatusCode: number
  referenceId: string
}

/**
 * A composite subrequest's answer as the direct call's would have been: 2xx carries the records'
 * results; anything else failed the whole request, with Salesforce's error array as its body.
 */
export function subrequestOutcome(answer: CompositeSubresult | undefined): CollectionOutcome {
  if (!answer) {
    return {
      ok: false,
      error: {
        code: 'UNKNOWN_EXCEPTION',
        message: 'the composite answer has no result for this request',
        fields: [],
      },
    }
  }
  if (answer.httpStatusCode < 300 && Array.isArray(answer.body)) {
    return { ok: true, results: answer.body as CollectionResult[] }
  }
  const first = (Array.isArray(answer.body) ? answer.body[0] : answer.body) as
    { errorCode?: unknown; message?: unknown; fields?: unknown } | null | undefined
  return {
    ok: false,
    error: {
      // Without an error code, the status says what kind of failure it was (5xx: retry).
      code: typeof first?.errorCode === 'string' ? first.errorCode : String(answer.httpStatusCode),
      message: typeof first?.message === 'string' ? first.message : `HTTP ${answer.httpStatusCode}`,
      fields: Array.isArray(first?.fields) ? first.fields.map(String) : [],
    },
  }
}
