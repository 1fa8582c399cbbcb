import { createHmac, createPublicKey, verify, X509Certificate } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { makeId, makeRefreshToken, makeSessionToken } from './ids'
import type { Store } from './store'

export interface EmulatorUser {
  username: string
  password: string
}

/** A connected app: its consumer key and secret, and the certificate for the JWT bearer flow. */
export interface ConnectedApp {
  clientId: string
  clientSecret: string
  /** PEM certificate or public key that verifies JWT assertions; without it, JWT is refused. */
  jwtPublicKey?: string
  /** The user the client credentials flow runs as; default the first user. */
  runAsUsername?: string
}

export interface Session {
  username: string
  userId: string
  clientId: string
}

export interface TokenAnswer {
  status: number
  body: Record<string, string>
}

export interface AuthOptions {
  users: EmulatorUser[]
  apps: ConnectedApp[]
  orgId: string
  loginUrl: () => string
  instanceUrl: () => string
  sessionTtlMs: number
}

const oauthError = (error: string, description: string, status = 400): TokenAnswer => ({
  status,
  body: { error, error_description: description },
})

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** Salesforce allows this much clock skew on a JWT's `exp`. */
const JWT_SKEW_MS = 3 * 60_000

function publicKeyOf(pem: string): KeyObject {
  return pem.includes('BEGIN CERTIFICATE')
    ? new X509Certificate(pem).publicKey
    : createPublicKey(pem)
}

/** The token endpoint and the sessions it hands out; tokens are kept in the emulator's database. */
export class Auth {
  private readonly jwtKeys = new Map<string, KeyObject>()

  constructor(
    private readonly store: Store,
    private readonly options: AuthOptions,
  ) {
    for (const app of options.apps) {
      if (app.jwtPublicKey) this.jwtKeys.set(app.clientId, publicKeyOf(app.jwtPublicKey))
    }
  }

  userId(username: string): string | null {
    const index = this.options.users.findIndex((u) => u.username === username)
    return index < 0 ? null : makeId('005', index + 1)
  }

  identityUrl(userId: string): string {
    return `${this.options.loginUrl()}/id/${this.options.orgId}/${userId}`
  }

  /** `POST /services/oauth2/token`, form-encoded, answered with Salesforce's bodies. */
  token(form: URLSearchParams): TokenAnswer {
    const grant = form.get('grant_type')
    switch (grant) {
      case 'password':
        return this.passwordGrant(form)
      case 'client_credentials':
        return this.clientCredentialsGrant(form)
      case 'refresh_token':
        return this.refreshGrant(form)
      case JWT_GRANT:
        return this.jwtGrant(form)
      case null:
      case '':
        return oauthError('unsupported_grant_type', 'grant type not supported')
      default:
        return oauthError('unsupported_grant_type', 'grant type not supported')
    }
  }

  /** Checks client id and secret as Salesforce does: unknown id first, then the secret. */
  private app(form: URLSearchParams, needSecret: boolean): ConnectedApp | TokenAnswer {
    const app = this.options.apps.find((a) => a.clientId === form.get('client_id'))
    if (!app) return oauthError('invalid_client_id', 'client identifier invalid')
    const secret = form.get('client_secret')
    if ((needSecret || secret !== null) && secret !== app.clientSecret) {
      return oauthError('invalid_client', 'invalid client credentials')
    }
    return app
  }

  private passwordGrant(form: URLSearchParams): TokenAnswer {
    const app = this.app(form, true)
    if ('status' in app) return app
    const user = this.options.users.find((u) => u.username === form.get('username'))
    if (!user || user.password !== form.get('password')) {
      return oauthError('invalid_grant', 'authentication failure')
    }
    return this.issue(user.username, app, false)
  }

  private clientCredentialsGrant(form: URLSearchParams): TokenAnswer {
    const app = this.app(form, true)
    if ('status' in app) return app
    const username = app.runAsUsername ?? this.options.users[0]?.username
    if (!username || !this.userId(username)) {
      return oauthError('invalid_grant', 'no client credentials user enabled')
    }
    return this.issue(username, app, false)
  }

  private refreshGrant(form: URLSearchParams): TokenAnswer {
    const app = this.app(form, false)
    if ('status' in app) return app
    const row = this.store.db
      .prepare("SELECT username, client_id FROM tokens WHERE token = ? AND kind = 'refresh'")
      .get(form.get('refresh_token') ?? '') as { username: string; client_id: string } | undefined
    if (!row || row.client_id !== app.clientId || !this.userId(row.username)) {
      return oauthError('invalid_grant', 'expired access/refresh token')
    }
    return this.issue(row.username, app, false)
  }

  private jwtGrant(form: URLSearchParams): TokenAnswer {
    const assertion = form.get('assertion') ?? ''
    const parts = assertion.split('.')
    if (parts.length !== 3) return oauthError('invalid_grant', 'invalid assertion')
    let header: { alg?: string }
    let claims: { iss?: string; sub?: string; aud?: string | string[]; exp?: number }
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as typeof header
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims
    } catch {
      return oauthError('invalid_grant', 'invalid assertion')
    }
    if (header.alg !== 'RS256') return oauthError('invalid_grant', 'invalid assertion')
    const app = this.options.apps.find((a) => a.clientId === claims.iss)
    if (!app) return oauthError('invalid_client_id', 'client identifier invalid')
    const key = this.jwtKeys.get(app.clientId)
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`)
    if (!key || !verify('RSA-SHA256', signed, key, Buffer.from(parts[2]!, 'base64url'))) {
      return oauthError('invalid_grant', 'invalid assertion')
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    const accepted = [
      this.options.loginUrl(),
      'https://login.salesforce.com',
      'https://test.salesforce.com',
    ]
    if (!audiences.some((a) => typeof a === 'string' && accepted.includes(a.replace(/\/$/, '')))) {
      return oauthError('invalid_grant', 'audience is invalid')
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 + JWT_SKEW_MS < Date.now()) {
      return oauthError('invalid_grant', 'expired authorization code')
    }
    if (!claims.sub || !this.userId(claims.sub)) {
      return oauthError('invalid_grant', "user hasn't approved this consumer")
    }
    return this.issue(claims.sub, app, false)
  }

  private issue(username: string, app: ConnectedApp, withRefresh: boolean): TokenAnswer {
    const userId = this.userId(username)!
    const accessToken = makeSessionToken(this.options.orgId)
    // Dead sessions are only dead weight in the file.
    this.store.db
      .prepare("DELETE FROM tokens WHERE kind = 'access' AND expires_ms <= ?")
      .run(Date.now())
    this.store.db
      .prepare(
        'INSERT INTO tokens (token, kind, username, client_id, expires_ms) VALUES (?, ?, ?, ?, ?)',
      )
      .run(accessToken, 'access', username, app.clientId, Date.now() + this.options.sessionTtlMs)
    const id = this.identityUrl(userId)
    const issuedAt = String(Date.now())
    const body: Record<string, string> = {
      access_token: accessToken,
      ...(withRefresh ? { refresh_token: this.issueRefreshToken(username, app.clientId) } : {}),
      signature: createHmac('sha256', app.clientSecret)
        .update(id + issuedAt)
        .digest('base64'),
      scope: withRefresh ? 'refresh_token api' : 'api',
      instance_url: this.options.instanceUrl(),
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    }
    return { status: 200, body }
  }

  /**
   * A refresh token, as the web-server flow would have left with an integration after a person
   * authorized it once. The emulator has no browser flow; tests and demos get one from here.
   */
  issueRefreshToken(username: string, clientId: string): string {
    if (!this.userId(username)) throw new Error(`no user ${username}`)
    if (!this.options.apps.some((a) => a.clientId === clientId))
      throw new Error(`no app ${clientId}`)
    const token = makeRefreshToken()
    this.store.db
      .prepare(
        'INSERT INTO tokens (token, kind, username, client_id, expires_ms) VALUES (?, ?, ?, ?, NULL)',
      )
      .run(token, 'refresh', username, clientId)
    return token
  }

  /** Registers a refresh token chosen by the operator (the CLI's demo token), idempotently. */
  registerRefreshToken(token: string, username: string, clientId: string): void {
    this.store.db
      .prepare(
        "INSERT OR REPLACE INTO tokens (token, kind, username, client_id, expires_ms) VALUES (?, 'refresh', ?, ?, NULL)",
      )
      .run(token, username, clientId)
  }

  /** The session of an `Authorization: Bearer` header, or null (Salesforce answers 401). */
  session(authorization: string | undefined): Session | null {
    const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(authorization ?? '')
    if (!m) return null
    const row = this.store.db
      .prepare(
        "SELECT username, client_id, expires_ms FROM tokens WHERE token = ? AND kind = 'access'",
      )
      .get(m[1]!.trim()) as { username: string; client_id: string; expires_ms: number } | undefined
    if (!row || row.expires_ms <= Date.now()) return null
    const userId = this.userId(row.username)
    return userId ? { username: row.username, userId, clientId: row.client_id } : null
  }

  /** Ends every session (a fault to inject): the next request of each client gets a 401. */
  expireSessions(): number {
    return this.store.db.prepare("DELETE FROM tokens WHERE kind = 'access'").run().changes
  }

  /** Revokes a token (`POST /services/oauth2/revoke`); a refresh token takes its sessions too. */
  revoke(token: string): boolean {
    const row = this.store.db
      .prepare('SELECT kind, username, client_id FROM tokens WHERE token = ?')
      .get(token) as { kind: string; username: string; client_id: string } | undefined
    if (!row) return false
    this.store.db.prepare('DELETE FROM tokens WHERE token = ?').run(token)
    return true
  }
}
