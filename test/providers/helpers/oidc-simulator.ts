/**
 * A simulated OpenID Provider for the provider tests, on the loopback server of
 * {@link useLocalProvider}: discovery at `<issuer>/.well-known/openid-configuration`, a JWKS,
 * the authorize step (PKCE-bound codes that remember the `nonce`), the token endpoint
 * (authorization_code and refresh_token grants, ID tokens signed with the provider's key,
 * rotating refresh tokens), userinfo and revocation. Every URL is the provider's real https one;
 * the harness's `fetch` sends them to the loopback server.
 *
 * A provider test configures what its provider documents — the issuer (with a path for
 * Keycloak realms or Entra tenants), where each endpoint lives (often another host than the
 * issuer), which client authentication the token endpoint accepts, the claims of the ID token and
 * of userinfo, extra token-response fields — and overrides {@link OidcSimulator.errorReply} when
 * its errors are not RFC 6749 §5.2 JSON.
 */
import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { accessTokenHash } from '../../../src/client/id-token.ts'
import {
  bearerToken,
  opaqueToken,
  parseBasicAuth,
  type RecordedRequest,
  type Reply,
} from './local-provider-server.ts'
import { type ClientRegistration, ProviderSimulator } from './simulator-harness.ts'

/** The provider's endpoints, as absolute https URLs. */
export interface OidcEndpoints {
  readonly authorization: string
  readonly token: string
  readonly jwks: string
  readonly userinfo?: string
  readonly revocation?: string
  readonly endSession?: string
}

/** Client authentication methods a simulated token endpoint can accept. */
export type SimulatedClientAuth = 'client_secret_basic' | 'client_secret_post'

/** What a provider documents about its OpenID Provider. */
export interface OidcSimulatorSettings {
  readonly issuer: string
  readonly endpoints: OidcEndpoints
  /** Accepted at the token endpoint (and listed in discovery). */
  readonly clientAuth: readonly SimulatedClientAuth[]
  /** ID token signature (default RS256, what most providers use). */
  readonly alg?: 'RS256' | 'ES256'
  /** Extra or replaced discovery fields. */
  readonly discovery?: Readonly<Record<string, unknown>>
  /** Lifetime of access tokens, `expires_in` (default 3600). */
  readonly expiresIn?: number
  /** Whether refresh tokens rotate on use (default true). */
  readonly rotateRefreshTokens?: boolean
}

/** One grant the simulated provider issued. */
export interface OidcGrant {
  readonly accessToken: string
  refreshToken: string
  readonly scopes: readonly string[]
  revoked: boolean
}

/** A simulated OpenID Provider; see the module comment. */
export class OidcSimulator extends ProviderSimulator {
  readonly settings: OidcSimulatorSettings
  /** The user's claims in ID tokens (besides iss, aud, exp, iat, nonce, at_hash). */
  idTokenClaims: Record<string, unknown> = {}
  /** The userinfo response (`undefined`: userinfo answers 404). */
  userinfoClaims: Record<string, unknown> | undefined
  /** Extra fields of every token response. */
  tokenExtras: Record<string, unknown> = {}
  grants: OidcGrant[] = []
  readonly #nonces = new Map<string, string | null>()
  readonly #key = generateKeyPair('RS256', { extractable: true })
  #es: ReturnType<typeof generateKeyPair> | undefined
  readonly #kid = randomUUID()

  constructor(client: ClientRegistration, settings: OidcSimulatorSettings) {
    super(client)
    this.settings = settings
  }

  /** Every origin the provider's URLs use: what the harness's `fetch` rewrites. */
  get origins(): string[] {
    const urls = [this.settings.issuer, ...Object.values(this.settings.endpoints)]
    return [...new Set(urls.map((u) => new URL(u).origin))]
  }

  override reset(): void {
    super.reset()
    this.grants = []
    this.#nonces.clear()
  }

  /** The live grant holding this access token, if any. */
  liveAccessToken(token: string): OidcGrant | undefined {
    return this.grants.find((g) => g.accessToken === token && !g.revoked)
  }

  /** The provider's error answer (RFC 6749 §5.2 JSON by default). */
  errorReply(status: number, error: string, description: string): Reply {
    return { status, json: { error, error_description: description } }
  }

  /** Signs claims with the provider's key, as an ID token would be (for forged-token tests). */
  async sign(claims: Record<string, unknown>): Promise<string> {
    const { privateKey } = await this.#keyPair()
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.#alg(), kid: this.#kid, typ: 'JWT' })
      .sign(privateKey)
  }

  readonly handle = async (req: RecordedRequest): Promise<Reply> => {
    const at = `https://${req.host}${req.path}`
    const { endpoints, issuer } = this.settings
    if (req.method === 'GET' && at === `${issuer}/.well-known/openid-configuration`) {
      return { json: this.#discovery() }
    }
    if (req.method === 'GET' && at === endpoints.jwks) return { json: await this.#jwks() }
    if (req.method === 'GET' && at === endpoints.authorization) return this.#authorize(req)
    if (req.method === 'POST' && at === endpoints.token) return this.#token(req)
    if (at === endpoints.userinfo) return this.#userinfo(req)
    if (req.method === 'POST' && at === endpoints.revocation) return this.#revoke(req)
    return { status: 404, json: { error: 'not_found' } }
  }

  #alg(): 'RS256' | 'ES256' {
    return this.settings.alg ?? 'RS256'
  }

  #keyPair(): ReturnType<typeof generateKeyPair> {
    if (this.#alg() === 'RS256') return this.#key
    this.#es ??= generateKeyPair('ES256', { extractable: true })
    return this.#es
  }

  async #jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK((await this.#keyPair()).publicKey)
    return { keys: [{ ...jwk, kid: this.#kid, alg: this.#alg(), use: 'sig' }] }
  }

  #discovery(): Record<string, unknown> {
    const { endpoints, issuer } = this.settings
    return {
      issuer,
      authorization_endpoint: endpoints.authorization,
      token_endpoint: endpoints.token,
      jwks_uri: endpoints.jwks,
      ...(endpoints.userinfo ? { userinfo_endpoint: endpoints.userinfo } : {}),
      ...(endpoints.revocation ? { revocation_endpoint: endpoints.revocation } : {}),
      ...(endpoints.endSession ? { end_session_endpoint: endpoints.endSession } : {}),
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.#alg()],
      token_endpoint_auth_methods_supported: this.settings.clientAuth,
      code_challenge_methods_supported: ['S256'],
      ...this.settings.discovery,
    }
  }

  #authorize(req: RecordedRequest): Reply {
    const q = req.query
    if (q.get('client_id') !== this.client.clientId) {
      return this.errorReply(400, 'invalid_client', 'unknown client_id')
    }
    if (q.get('redirect_uri') !== this.client.redirectUri) {
      return this.errorReply(400, 'invalid_request', 'redirect_uri is not registered')
    }
    if (q.get('response_type') !== 'code') {
      return this.redirectBack(req, { error: 'unsupported_response_type' })
    }
    const reply = this.approve(req, 'The user denied the request', ' ')
    const code = new URL(reply.headers?.location ?? '').searchParams.get('code')
    if (code !== null) this.#nonces.set(code, q.get('nonce'))
    return reply
  }

  /** The client authentication of a token or revocation request, with a method it accepts. */
  #authenticated(req: RecordedRequest): boolean {
    const basic = parseBasicAuth(req.headers.authorization)
    const accepts = this.settings.clientAuth
    if (basic !== undefined) {
      if (!accepts.includes('client_secret_basic') || req.form.has('client_secret')) return false
      return (
        basic.clientId === this.client.clientId && basic.clientSecret === this.client.clientSecret
      )
    }
    if (!accepts.includes('client_secret_post')) return false
    return (
      req.form.get('client_id') === this.client.clientId &&
      req.form.get('client_secret') === this.client.clientSecret
    )
  }

  async #token(req: RecordedRequest): Promise<Reply> {
    if (!this.#authenticated(req)) {
      return this.errorReply(401, 'invalid_client', 'client authentication failed')
    }
    const form = req.form
    switch (form.get('grant_type')) {
      case 'authorization_code': {
        const code = form.get('code')
        const result = await this.redeem(form)
        if (!result.ok) return this.errorReply(400, 'invalid_grant', result.reason)
        return this.#issue(result.grant.scopes, this.#nonces.get(code ?? '') ?? null)
      }
      case 'refresh_token': {
        const grant = this.grants.find(
          (g) => g.refreshToken === form.get('refresh_token') && !g.revoked,
        )
        if (!grant) return this.errorReply(400, 'invalid_grant', 'unknown refresh token')
        if (this.settings.rotateRefreshTokens === false)
          return this.#issue(grant.scopes, null, grant)
        grant.revoked = true
        return this.#issue(grant.scopes, null)
      }
      default:
        return this.errorReply(400, 'unsupported_grant_type', 'grant_type is not supported')
    }
  }

  async #issue(scopes: readonly string[], nonce: string | null, kept?: OidcGrant): Promise<Reply> {
    const grant: OidcGrant = {
      accessToken: opaqueToken('at_'),
      refreshToken: kept?.refreshToken ?? opaqueToken('rt_'),
      scopes,
      revoked: false,
    }
    if (kept) kept.revoked = true
    this.grants.push(grant)
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      access_token: grant.accessToken,
      expires_in: this.settings.expiresIn ?? 3600,
      refresh_token: grant.refreshToken,
      scope: scopes.join(' '),
      ...this.tokenExtras,
    }
    if (scopes.includes('openid')) {
      const now = Math.floor(Date.now() / 1000)
      body.id_token = await this.sign({
        iss: this.settings.issuer,
        aud: this.client.clientId,
        iat: now,
        exp: now + 600,
        ...(nonce === null ? {} : { nonce }),
        at_hash: await accessTokenHash(grant.accessToken, this.#alg()),
        ...this.idTokenClaims,
      })
    }
    return { json: body }
  }

  #userinfo(req: RecordedRequest): Reply {
    const token = bearerToken(req.headers)
    if (token === undefined || this.liveAccessToken(token) === undefined) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        json: { error: 'invalid_token' },
      }
    }
    if (this.userinfoClaims === undefined) return { status: 404, json: { error: 'not_found' } }
    return { json: this.userinfoClaims }
  }

  #revoke(req: RecordedRequest): Reply {
    if (!this.#authenticated(req)) {
      return this.errorReply(401, 'invalid_client', 'client authentication failed')
    }
    const token = req.form.get('token')
    for (const g of this.grants) {
      if (g.accessToken === token || g.refreshToken === token) g.revoked = true
    }
    return { json: {} }
  }
}
