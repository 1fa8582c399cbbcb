import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiUsage } from './api-usage'
import { Bulk2 } from './bulk2'
import { Bulk2Query } from './bulk2-query'
import { CompositeApi } from './composite'
import type { DmlHooks, ValidationRuleSpec } from './dml'
import { ApiError, NOT_FOUND_RESOURCE, requestLimitExceeded, sessionInvalid } from './errors'
import { Faults } from './faults'
import type { ChosenFailure, FailureSpec, FaultsSnapshot } from './faults'
import { json, parseJsonBody, pathSegments, readBody, send } from './http'
import type { Reply } from './http'
import { makeId } from './ids'
import { inspectPage, inspectView } from './inspect'
import type { InspectStatus, InspectView } from './inspect'
import { Auth } from './oauth'
import type { ConnectedApp, EmulatorUser } from './oauth'
import { RestApi, savesRecords } from './rest'
import { baseOrgSchema, compileSchema, footfallOrgSchema } from './schema'
import type { SchemaSpec } from './schema'
import { seedAccounts } from './seed'
import type { SeedOptions, SeedResult } from './seed'
import { Store } from './store'

export const SF_EMULATOR_DEFAULTS = {
  host: '127.0.0.1',
  username: 'footfall@example.com',
  password: 'footfall-demo',
  clientId: 'footfall-demo-client-id',
  clientSecret: 'footfall-demo-client-secret',
  /** Enterprise Edition's 100,000 a day plus 1,000 per licence, for a small org. */
  dailyApiLimit: 115_000,
  /** Salesforce's default session timeout is two hours. */
  sessionTtlMs: 2 * 60 * 60_000,
  bulkProcessingDelayMs: 250,
} as const

const MIN_VERSION = 20
const MAX_VERSION = 66

export interface SfEmulatorOptions {
  host?: string
  /** 0 (the default) picks a free port. */
  port?: number
  /** Folder of the emulator's SQLite file; null or absent keeps the org in memory. */
  dataDir?: string | null
  users?: EmulatorUser[]
  apps?: ConnectedApp[]
  /** `footfall` (after the admin's setup, the default), `base` (before it), or a schema as data. */
  schema?: 'footfall' | 'base' | SchemaSpec
  dailyApiLimit?: number
  sessionTtlMs?: number
  bulkProcessingDelayMs?: number
  failures?: FailureSpec[]
  latencyMs?: number
  validationRules?: ValidationRuleSpec[]
  seed?: SeedOptions
  /** Source of randomness for percentage faults; tests pass a seeded one. */
  random?: () => number
}

/** What tests and the CLI may do to the org besides the Salesforce API. */
export interface SfEmulatorAdmin {
  expireSessions(): number
  addFailure(spec: FailureSpec): void
  setLatency(ms: number): void
  /** Stops listening for `ms`: clients get ECONNREFUSED, then the port opens again. */
  refuseConnections(ms: number): Promise<void>
  addValidationRule(rule: ValidationRuleSpec): void
  clearFaults(): void
  faults(): FaultsSnapshot
  seedAccounts(options: SeedOptions): SeedResult
  apiUsage(): { used: number; max: number }
  /** Sets the allocation, and/or counts `used` requests as made now (on top of the current). */
  setApiUsage(change: { max?: number; add?: number; reset?: boolean }): void
  issueRefreshToken(username?: string, clientId?: string): string
  registerRefreshToken(token: string, username?: string, clientId?: string): void
  inspect(): InspectView
}

export interface SfEmulator {
  loginUrl: string
  instanceUrl: string
  port: number
  orgId: string
  users: EmulatorUser[]
  apps: ConnectedApp[]
  admin: SfEmulatorAdmin
  close(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function failureReply(chosen: ChosenFailure): Reply {
  const reply = (status: number, errorCode: string, message: string): Reply =>
    json(status, [{ message: chosen.message ?? message, errorCode }])
  switch (chosen.error) {
    case 'SERVER_UNAVAILABLE':
      return reply(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable. Try again later.')
    case 'UNKNOWN_EXCEPTION':
      return reply(
        500,
        'UNKNOWN_EXCEPTION',
        `An unexpected error occurred. Please include this ErrorId if you contact support: ${Math.floor(Math.random() * 1e9)}-${Math.floor(Math.random() * 1e5)} (${-Math.floor(Math.random() * 1e9)})`,
      )
    default:
      return reply(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.')
  }
}

/**
 * A failing login: Salesforce's login servers answer an outage with an HTML page (jsforce then
 * names the error `ERROR_HTTP_<status>`) and too many logins with `login rate exceeded`.
 */
function tokenFailureReply(chosen: ChosenFailure): Reply {
  if (chosen.error === 'REQUEST_LIMIT_EXCEEDED') {
    return json(400, {
      error: 'invalid_grant',
      error_description: chosen.message ?? 'login rate exceeded',
    })
  }
  const status = chosen.error === 'SERVER_UNAVAILABLE' ? 503 : 500
  const title = status === 503 ? 'Service Unavailable' : 'Internal Server Error'
  return {
    status,
    text: `<html><head><title>${title}</title></head><body><h1>${chosen.message ?? title}</h1></body></html>`,
    contentType: 'text/html',
  }
}

function schemaSpec(option: SfEmulatorOptions['schema']): SchemaSpec {
  if (option === undefined || option === 'footfall') return footfallOrgSchema()
  if (option === 'base') return baseOrgSchema()
  return option
}

/** Starts the emulated org on a real HTTP port; jsforce talks to it as to Salesforce. */
export async function startSfEmulator(options: SfEmulatorOptions = {}): Promise<SfEmulator> {
  const host = options.host ?? SF_EMULATOR_DEFAULTS.host
  const users = options.users ?? [
    { username: SF_EMULATOR_DEFAULTS.username, password: SF_EMULATOR_DEFAULTS.password },
  ]
  const apps = options.apps ?? [
    { clientId: SF_EMULATOR_DEFAULTS.clientId, clientSecret: SF_EMULATOR_DEFAULTS.clientSecret },
  ]
  if (users.length === 0 || apps.length === 0)
    throw new Error('the emulator needs a user and a connected app')
  const schema = compileSchema(schemaSpec(options.schema))
  const store = new Store(schema, options.dataDir ?? null)
  const orgId = makeId('00D', 1)
  let baseUrl = ''
  const auth = new Auth(store, {
    users,
    apps,
    orgId,
    loginUrl: () => baseUrl,
    instanceUrl: () => baseUrl,
    sessionTtlMs: options.sessionTtlMs ?? SF_EMULATOR_DEFAULTS.sessionTtlMs,
  })
  const usage = new ApiUsage(store, options.dailyApiLimit ?? SF_EMULATOR_DEFAULTS.dailyApiLimit)
  const faults = new Faults(options.random)
  for (const f of options.failures ?? []) faults.addFailure(f)
  faults.latencyMs = options.latencyMs ?? 0
  faults.validationRules = [...(options.validationRules ?? [])]
  const rest = new RestApi(schema, store, usage)
  const bulk = new Bulk2(schema, store, {
    processingDelayMs: options.bulkProcessingDelayMs ?? SF_EMULATOR_DEFAULTS.bulkProcessingDelayMs,
  })
  const bulkQuery = new Bulk2Query(
    schema,
    store,
    options.bulkProcessingDelayMs ?? SF_EMULATOR_DEFAULTS.bulkProcessingDelayMs,
  )
  if (options.seed) seedAccounts(schema, store, options.seed)

  let port = options.port ?? 0
  let refusingUntil: number | null = null
  let refuseTimer: NodeJS.Timeout | null = null
  let closed = false

  const admin: SfEmulatorAdmin = {
    expireSessions: () => auth.expireSessions(),
    addFailure: (spec) => faults.addFailure(spec),
    setLatency: (ms) => {
      faults.latencyMs = Math.max(0, ms)
    },
    refuseConnections: (ms) => refuse(ms),
    addValidationRule: (rule) => {
      new RegExp(rule.pattern) // a bad pattern fails here, not on a later save
      faults.validationRules.push(rule)
    },
    clearFaults: () => faults.clear(),
    faults: () => faults.snapshot(refusingUntil),
    seedAccounts: (seed) => seedAccounts(schema, store, seed),
    apiUsage: () => ({ used: usage.used(), max: usage.max }),
    setApiUsage: ({ max, add, reset }) => {
      if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
        throw new Error('max must be a whole number above 0')
      }
      if (add !== undefined && !(Number.isInteger(add) && add >= 0)) {
        throw new Error('add must be a whole number, 0 or more')
      }
      if (reset) usage.reset()
      if (max !== undefined) usage.setAllocation(max)
      if (add !== undefined) usage.add(add)
    },
    issueRefreshToken: (username = users[0]!.username, clientId = apps[0]!.clientId) =>
      auth.issueRefreshToken(username, clientId),
    registerRefreshToken: (token, username = users[0]!.username, clientId = apps[0]!.clientId) =>
      auth.registerRefreshToken(token, username, clientId),
    inspect: () => inspectView(schema, store),
  }

  const inspectStatus = (): InspectStatus => {
    const f = faults.snapshot(refusingUntil)
    return {
      apiUsed: usage.used(),
      apiMax: usage.max,
      faults: [
        ...f.failures.map(
          (x) =>
            `${x.error}${x.count !== undefined ? ` next ${x.count}` : ''}${x.percent !== undefined ? ` ${x.percent}%` : ''}${x.method ? ` ${x.method}` : ''}${x.path ? ` ${x.path}` : ''}`,
        ),
        ...(f.latencyMs > 0 ? [`latency ${f.latencyMs} ms`] : []),
        ...f.validationRules.map((r) => `rule on ${r.object}.${r.field} /${r.pattern}/`),
      ],
    }
  }

  /** The failure an API request gets, and the per-record hooks its saves consult. */
  const hooksFor = (chosen: ChosenFailure | null): DmlHooks => ({
    rules: () => faults.validationRules,
    lockFails: () => faults.recordFails(chosen),
  })
  const composite = new CompositeApi(rest, store, {
    minVersion: MIN_VERSION,
    maxVersion: MAX_VERSION,
    chooseFault: (method, path, writes) => faults.choose(method, path, writes),
    failureReply,
    hooksFor,
  })

  async function handleData(
    req: IncomingMessage,
    url: URL,
    headers: Record<string, string>,
  ): Promise<Reply> {
    const path = url.pathname
    if (path === '/services/data' || path === '/services/data/') {
      return json(
        200,
        Array.from({ length: MAX_VERSION - MIN_VERSION + 1 }, (_, i) => ({
          label: `API ${MIN_VERSION + i}`,
          url: `/services/data/v${MIN_VERSION + i}.0`,
          version: `${MIN_VERSION + i}.0`,
        })),
      )
    }
    const m = /^\/services\/data\/v(\d+)\.0(\/.*)?$/.exec(path)
    if (!m || Number(m[1]) < MIN_VERSION || Number(m[1]) > MAX_VERSION) throw NOT_FOUND_RESOURCE()
    const version = `${m[1]}.0`
    const session = auth.session(req.headers.authorization)
    if (!session) return json(401, sessionInvalid().body())
    if (!usage.take()) return json(403, requestLimitExceeded().body())
    headers['sforce-limit-info'] = `api-usage=${usage.used()}/${usage.max}`
    const method = req.method ?? 'GET'
    const sub = m[2] ?? '/'
    if ((sub === '/composite' || sub === '/composite/') && method === 'POST') {
      // Faults meant for the composite call itself; its subrequests draw theirs inside.
      const chosen = faults.choose(method, path, false)
      if (chosen) return failureReply(chosen)
      return composite.handle(await readBody(req))
    }
    const writes =
      savesRecords(method, sub) || (method === 'PATCH' && /^\/jobs\/ingest\/[^/]+$/.test(sub))
    const chosen = faults.choose(method, path, writes)
    if (chosen && chosen.error !== 'UNABLE_TO_LOCK_ROW') return failureReply(chosen)
    const body = (): Promise<Buffer> => readBody(req)
    if (sub === '/jobs/query' || sub.startsWith('/jobs/query/')) {
      const parts = pathSegments(sub).slice(2)
      return bulkQuery.handle(method, parts, url.searchParams, body, version, session.userId)
    }
    if (sub.startsWith('/jobs/ingest')) {
      const parts = pathSegments(sub).slice(2)
      return bulk.handle(method, parts, body, version, session.userId, hooksFor(chosen))
    }
    return rest.handle({
      method,
      path: sub,
      query: url.searchParams,
      headers: req.headers,
      version,
      body,
      hooks: hooksFor(chosen),
    })
  }

  async function handleAdmin(req: IncomingMessage, url: URL, res: ServerResponse): Promise<Reply> {
    const route = `${req.method} ${url.pathname.replace(/\/$/, '')}`
    const body = async (): Promise<Record<string, unknown>> => {
      const buf = await readBody(req)
      return buf.length === 0 ? {} : (parseJsonBody(buf) as Record<string, unknown>)
    }
    try {
      switch (route) {
        case 'GET /__admin/state':
          return json(200, {
            loginUrl: baseUrl,
            orgId,
            apiUsage: admin.apiUsage(),
            faults: admin.faults(),
            records: Object.fromEntries([...schema.objects.keys()].map((o) => [o, store.count(o)])),
          })
        case 'GET /__admin/inspect':
          return json(200, admin.inspect())
        case 'POST /__admin/faults/expire-sessions':
          return json(200, { expired: admin.expireSessions() })
        case 'POST /__admin/faults/failures':
          admin.addFailure((await body()) as unknown as FailureSpec)
          return json(200, admin.faults())
        case 'POST /__admin/faults/latency':
          admin.setLatency(Number((await body()).ms ?? 0))
          return json(200, admin.faults())
        case 'POST /__admin/faults/refuse-connections': {
          const ms = Number((await body()).ms ?? 0)
          // Answer first: the listener closes once this response is on its way.
          res.once('finish', () => {
            refuse(ms).catch(() => undefined)
          })
          return json(200, { refusingForMs: ms })
        }
        case 'POST /__admin/faults/validation-rules':
          admin.addValidationRule((await body()) as unknown as ValidationRuleSpec)
          return json(200, admin.faults())
        case 'DELETE /__admin/faults':
          admin.clearFaults()
          return json(200, admin.faults())
        case 'POST /__admin/seed': {
          const b = await body()
          return json(
            200,
            admin.seedAccounts({
              customerIds: Array.isArray(b.customerIds) ? b.customerIds.map(String) : [],
              unmatchedShare: Number(b.unmatchedShare ?? 0),
            }),
          )
        }
        case 'POST /__admin/api-usage': {
          const b = await body()
          admin.setApiUsage({
            ...(b.max !== undefined ? { max: Number(b.max) } : {}),
            ...(b.add !== undefined ? { add: Number(b.add) } : {}),
            reset: b.reset === true,
          })
          return json(200, admin.apiUsage())
        }
        case 'POST /__admin/refresh-tokens': {
          const b = await body()
          return json(200, {
            refresh_token: admin.issueRefreshToken(
              typeof b.username === 'string' ? b.username : undefined,
              typeof b.clientId === 'string' ? b.clientId : undefined,
            ),
          })
        }
        default:
          return json(404, { error: 'not_found', message: `no admin route ${route}` })
      }
    } catch (error) {
      if (error instanceof ApiError) throw error
      return json(400, { error: 'bad_request', message: (error as Error).message })
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator')
    const headers: Record<string, string> = {}
    let reply: Reply
    try {
      if (url.pathname.startsWith('/__admin/')) {
        reply = await handleAdmin(req, url, res)
      } else {
        if (faults.latencyMs > 0) await sleep(faults.latencyMs)
        const tokenFault =
          url.pathname === '/services/oauth2/token' && req.method === 'POST'
            ? faults.choose('POST', url.pathname, false, true)
            : null
        if (tokenFault) {
          reply = tokenFailureReply(tokenFault)
        } else if (url.pathname === '/services/oauth2/token' && req.method === 'POST') {
          const form = new URLSearchParams((await readBody(req)).toString('utf8'))
          // RFC 6749 lets a client send its id and secret as HTTP Basic instead of in the form.
          const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')
          if (basic) {
            const [id = '', ...secret] = Buffer.from(basic[1]!, 'base64')
              .toString('utf8')
              .split(':')
            if (!form.has('client_id')) form.set('client_id', id)
            if (!form.has('client_secret')) form.set('client_secret', secret.join(':'))
          }
          const answer = auth.token(form)
          reply = {
            status: answer.status,
            json: answer.body,
            headers: { 'cache-control': 'no-cache,must-revalidate,max-age=0,no-store,private' },
          }
        } else if (url.pathname === '/services/oauth2/revoke' && req.method === 'POST') {
          const form = new URLSearchParams((await readBody(req)).toString('utf8'))
          reply = auth.revoke(form.get('token') ?? '')
            ? { status: 200 }
            : {
                status: 400,
                text: 'error=unsupported_token_type&error_description=this token type is not supported',
              }
        } else if (url.pathname.startsWith('/id/') && req.method === 'GET') {
          reply = identity(url, req)
        } else if (url.pathname.startsWith('/services/data')) {
          reply = await handleData(req, url, headers)
        } else if (
          req.method === 'GET' &&
          (url.pathname === '/' || url.pathname === '/__inspect')
        ) {
          reply = {
            status: 200,
            text: inspectPage(admin.inspect(), inspectStatus()),
            contentType: 'text/html; charset=utf-8',
          }
        } else {
          reply = json(404, NOT_FOUND_RESOURCE().body())
        }
      }
    } catch (error) {
      if (error instanceof ApiError) {
        reply = json(error.status, error.body())
      } else {
        // A bug in the emulator, not a Salesforce answer: say so plainly and keep serving.
        reply = json(500, [
          {
            message: `emulator error: ${(error as Error).stack ?? String(error)}`,
            errorCode: 'UNKNOWN_EXCEPTION',
          },
        ])
      }
    }
    // Drain an unread body so keep-alive connections stay usable.
    if (!req.complete) req.resume()
    if (!res.headersSent) send(res, reply, headers)
  }

  function identity(url: URL, req: IncomingMessage): Reply {
    const token = url.searchParams.get('oauth_token')
    const session = auth.session(token ? `Bearer ${token}` : req.headers.authorization)
    if (!session) return { status: 403, text: 'Bad_OAuth_Token' }
    const [, , org, user] = url.pathname.split('/')
    if (org !== orgId || user !== session.userId) return { status: 403, text: 'Bad_Id' }
    return json(200, {
      id: auth.identityUrl(session.userId),
      asserted_user: true,
      user_id: session.userId,
      organization_id: orgId,
      username: session.username,
      nick_name: session.username.split('@')[0],
      display_name: session.username,
      email: session.username,
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      urls: {
        rest: `${baseUrl}/services/data/v{version}/`,
        sobjects: `${baseUrl}/services/data/v{version}/sobjects/`,
        query: `${baseUrl}/services/data/v{version}/query/`,
        profile: `${baseUrl}/${session.userId}`,
      },
    })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, json(500, [{ message: String(error), errorCode: 'UNKNOWN_EXCEPTION' }]), {})
      else res.destroy()
    })
  })

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        port = (server.address() as AddressInfo).port
        resolve()
      })
    })

  async function refuse(ms: number): Promise<void> {
    if (closed || refusingUntil !== null) return
    refusingUntil = Date.now() + ms
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    refuseTimer = setTimeout(() => {
      refuseTimer = null
      refusingUntil = null
      if (!closed) listen().catch(() => undefined)
    }, ms)
    // Clients drop their pooled keep-alive sockets once the close reaches them; until then a
    // request may still go down a dying socket (ECONNRESET instead of ECONNREFUSED).
    await sleep(Math.min(50, ms))
  }

  try {
    await listen()
  } catch (error) {
    store.close()
    throw error
  }
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  return {
    loginUrl: baseUrl,
    instanceUrl: baseUrl,
    port,
    orgId,
    users,
    apps,
    admin,
    close: async () => {
      if (closed) return
      closed = true
      if (refuseTimer) clearTimeout(refuseTimer)
      bulk.close()
      bulkQuery.close()
      if (server.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      }
      store.close()
    },
  }
}
