import { createSign } from 'node:crypto'
import { Connection } from 'jsforce'
import type { TokenResponse } from 'jsforce'
import { subrequestOutcome } from './collection-requests'
import type {
  CollectionOutcome,
  CollectionRequest,
  CollectionResult,
  CompositeSubresult,
} from './collection-requests'
import type { SalesforceSettings } from './settings'

/**
 * The sync engine's only door to Salesforce: a jsforce connection logged in with the configured
 * OAuth flow, plus a count of every API request made through it (the org's allowance is shared
 * with its other integrations, so each call is accounted for). jsforce refreshes an expired
 * session itself and replays the request; it retries GET on 5xx but never POST/PATCH, so the
 * engine owns those retries.
 */

export interface SfErrorInfo {
  code: string
  message: string
  fields: string[]
}

/** The error code of anything jsforce or the network threw. */
export function errorInfo(error: unknown): SfErrorInfo {
  const e = error as {
    errorCode?: string
    name?: string
    code?: string
    message?: string
    cause?: { code?: string }
    data?: { fields?: string[] }
  }
  const code = e.cause?.code ?? e.code ?? e.errorCode ?? e.name ?? 'UNKNOWN'
  const normalized = /^ERROR_HTTP_(\d{3})$/.exec(code)?.[1] ?? code
  return {
    code: normalized,
    message: e.message ?? String(error),
    fields: Array.isArray(e.data?.fields) ? e.data.fields : [],
  }
}

export interface BulkOutcome {
  /** Per input record, in input order: the record id, or the error. */
  results: ({ ok: true; id: string } | { ok: false; error: SfErrorInfo })[]
  calls: number
}

export interface OrgUsage {
  used: number
  max: number
}

function jwtAssertion(settings: SalesforceSettings): string {
  const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const head = b64({ alg: 'RS256' })
  const claims = b64({
    iss: settings.clientId,
    sub: settings.username,
    aud: settings.loginUrl,
    exp: Math.floor(Date.now() / 1000) + 180,
  })
  const signature = createSign('RSA-SHA256')
    .update(`${head}.${claims}`)
    .sign(settings.jwtPrivateKey ?? '', 'base64url')
  return `${head}.${claims}.${signature}`
}

/**
 * A keep-alive socket the server closed while idle fails the next request sent on it with a
 * reset before the server reads it. jsforce retries GETs itself; for our writes one immediate
 * retry is safe, as each is idempotent (updates by id, upserts by external id, a new bulk job).
 */
async function onceMoreOnReset<T>(send: () => Promise<T>, onRetry: () => void): Promise<T> {
  try {
    return await send()
  } catch (error) {
    const code = errorInfo(error).code
    if (code !== 'ECONNRESET' && code !== 'EPIPE') throw error
    onRetry()
    return send()
  }
}

export class SfSession {
  calls = 0
  private readonly countRetry = (): void => {
    this.calls += 1
  }
  private constructor(
    readonly conn: Connection,
    readonly settings: SalesforceSettings,
  ) {}

  /** Logs in: JWT bearer with a key, else username-password, else client credentials. */
  static async login(settings: SalesforceSettings): Promise<SfSession> {
    const oauth2 = {
      loginUrl: settings.loginUrl,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret ?? undefined,
      redirectUri: `${settings.loginUrl}/services/oauth2/success`,
    }
    const tokenParams = (): { grant_type: string; [name: string]: string } =>
      settings.jwtPrivateKey
        ? {
            grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            assertion: jwtAssertion(settings),
          }
        : { grant_type: 'client_credentials' }
    // For the flows without a refresh token, a fresh token is simply requested again.
    type Refresh = (
      conn: Connection,
      callback: (error: Error | null, token?: string, res?: TokenResponse) => void,
    ) => void
    const refreshFn: Refresh = (conn, callback) => {
      conn.oauth2.requestToken(tokenParams()).then(
        (res: TokenResponse) => callback(null, res.access_token, res),
        (error: Error) => callback(error),
      )
    }
    const usesPassword = !settings.jwtPrivateKey && settings.username !== null
    const conn = new Connection({
      oauth2,
      version: settings.apiVersion,
      ...(usesPassword ? {} : { refreshFn: refreshFn as never }),
    })
    if (usesPassword) await conn.login(settings.username ?? '', settings.password ?? '')
    else await conn.authorize(tokenParams())
    return new SfSession(conn, settings)
  }

  private path(rest: string): string {
    return `/services/data/v${this.settings.apiVersion}${rest}`
  }

  /** The org's usage as last reported in `Sforce-Limit-Info`, if any response carried it. */
  usage(): OrgUsage | null {
    const u = this.conn.limitInfo?.apiUsage
    return u ? { used: u.used, max: u.limit } : null
  }

  async limits(): Promise<OrgUsage> {
    this.calls += 1
    const res = await this.conn.request<{ DailyApiRequests: { Max: number; Remaining: number } }>(
      this.path('/limits'),
    )
    return {
      used: res.DailyApiRequests.Max - res.DailyApiRequests.Remaining,
      max: res.DailyApiRequests.Max,
    }
  }

  /** Runs a query and follows `nextRecordsUrl` to the end, counting each page. */
  async queryAll<T>(soql: string): Promise<T[]> {
    const records: T[] = []
    this.calls += 1
    let page = await this.conn.request<{ records: T[]; done: boolean; nextRecordsUrl?: string }>(
      this.path(`/query?q=${encodeURIComponent(soql)}`),
    )
    records.push(...page.records)
    while (!page.done && page.nextRecordsUrl) {
      this.calls += 1
      page = await this.conn.request(page.nextRecordsUrl)
      records.push(...page.records)
    }
    return records
  }

  async describe(object: string): Promise<{
    fields: {
      name: string
      type: string
      length: number
      externalId: boolean
      updateable: boolean
      createable: boolean
    }[]
  }> {
    this.calls += 1
    return this.conn.request(this.path(`/sobjects/${object}/describe`))
  }

  /** One sObject Collections request on its own: one API call. */
  async collection(request: CollectionRequest): Promise<CollectionResult[]> {
    this.calls += 1
    return onceMoreOnReset(
      () =>
        this.conn.request<CollectionResult[]>({
          method: request.method,
          url: this.path(request.url),
          ...(request.body
            ? {
                body: JSON.stringify(request.body),
                headers: { 'content-type': 'application/json' },
              }
            : {}),
        }),
      this.countRetry,
    )
  }

  /**
   * Up to five collections requests in one Composite call, which Salesforce counts as one API
   * call. allOrNone false: each request succeeds or fails on its own, as when sent alone. A
   * failure of the call itself (401 refreshed by jsforce, 503, the daily limit) is thrown.
   */
  async composite(requests: CollectionRequest[]): Promise<CollectionOutcome[]> {
    this.calls += 1
    const body = JSON.stringify({
      allOrNone: false,
      // In the order given (API 48.0+; the default from 49.0 collates). The requests touch
      // different records, so collating could only make them faster; order keeps runs readable.
      ...(Number(this.settings.apiVersion) >= 48 ? { collateSubrequests: false } : {}),
      compositeRequest: requests.map((r, i) => ({
        method: r.method,
        url: this.path(r.url),
        referenceId: `write${i}`,
        ...(r.body ? { body: r.body } : {}),
      })),
    })
    const answer = await onceMoreOnReset(
      () =>
        this.conn.request<{ compositeResponse?: CompositeSubresult[] }>({
          method: 'POST',
          url: this.path('/composite'),
          body,
          headers: { 'content-type': 'application/json' },
        }),
      this.countRetry,
    )
    const byReference = new Map((answer.compositeResponse ?? []).map((r) => [r.referenceId, r]))
    return requests.map((_, i) => subrequestOutcome(byReference.get(`write${i}`)))
  }

  /**
   * A Bulk API 2.0 ingest job, end to end. Results come back keyed by `keyField` (a column of
   * the input: Id for updates, the external id for upserts) and are returned in input order.
   */
  async bulk(
    object: string,
    operation: 'update' | 'upsert',
    records: Record<string, unknown>[],
    keyField: string,
    pollIntervalMs: number,
    timeoutMs: number,
  ): Promise<BulkOutcome> {
    const startCalls = this.calls
    const job = this.conn.bulk2.createJob({
      object,
      operation,
      ...(operation === 'upsert' ? { externalIdFieldName: keyField } : {}),
    })
    this.calls += 1
    await job.open()
    this.calls += 1
    await job.uploadData(records)
    this.calls += 1
    await job.close()
    const deadline = Date.now() + timeoutMs
    for (;;) {
      this.calls += 1
      const info = await job.check()
      if (info.state === 'JobComplete') break
      if (info.state === 'Failed' || info.state === 'Aborted') {
        throw Object.assign(
          new Error(`bulk job ${info.state}: ${info.errorMessage ?? 'no message'}`),
          {
            errorCode: 'BULK_JOB_FAILED',
          },
        )
      }
      if (Date.now() > deadline) {
        throw Object.assign(new Error(`bulk job still ${info.state} after ${timeoutMs} ms`), {
          errorCode: 'BULK_JOB_TIMEOUT',
        })
      }
      await new Promise((r) => setTimeout(r, pollIntervalMs))
    }
    this.calls += 3
    const all = await job.getAllResults()
    const byKey = new Map<string, { ok: true; id: string } | { ok: false; error: SfErrorInfo }>()
    const column = (row: object): string => String((row as Record<string, unknown>)[keyField])
    for (const row of all.successfulResults) {
      byKey.set(column(row), { ok: true, id: String(row.sf__Id) })
    }
    for (const row of all.failedResults) {
      const text = String(row.sf__Error)
      const colon = text.indexOf(':')
      const code = colon > 0 ? text.slice(0, colon) : 'UNKNOWN_EXCEPTION'
      const rest = colon > 0 ? text.slice(colon + 1) : text
      const fields = /:([\w,]+) --$/.exec(rest)?.[1]?.split(',') ?? []
      byKey.set(column(row), {
        ok: false,
        error: { code, message: rest.replace(/:[\w,]+ --$/, ''), fields },
      })
    }
    const unprocessed = {
      code: 'UNPROCESSED',
      message: 'the bulk job did not process this record',
      fields: [],
    }
    return {
      results: records.map(
        (r) => byKey.get(String(r[keyField])) ?? { ok: false, error: unprocessed },
      ),
      calls: this.calls - startCalls,
    }
  }
}
