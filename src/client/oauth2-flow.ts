/**
 * `OAuth2Flow`: the authorization code flow with PKCE, state and nonce handled for you, against
 * one provider. `initiateLogin` makes the authorization URL and the flow state to keep;
 * `finalizeLogin` checks the callback against it, exchanges the code with the verifier, verifies
 * the ID token (OIDC), reads userinfo, and returns a normalized identity with the tokens.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { Pkce } from '../core/pkce.ts'
import { randomToken } from '../core/random.ts'
import { type CallbackInput, validateCallback } from './callback.ts'
import { DiscoveryCache } from './discovery.ts'
import { FLOW_STATE_MAX_TTL_MS, type FlowState } from './flow-state.ts'
import { type HttpOptions, type ResolvedHttpOptions, resolveHttpOptions } from './http.ts'
import { verifyIdToken } from './id-token.ts'
import { type Claims, type Identity, oidcProfile, toIdentity } from './identity.ts'
import { type JwksTiming, remoteJwks } from './jwks.ts'
import type { ProviderConfig } from './provider-config.ts'
import { checkProviderConfig, type ResolvedProvider, resolveProvider } from './resolve-provider.ts'
import { revokeToken, type TokenTypeHint } from './revocation.ts'
import { requestTokens, type TokenSet } from './tokens.ts'
import { checkEndpointUrl } from './urls.ts'
import { fetchUserinfo, getWithToken } from './userinfo.ts'

/** Options of a flow that are not about the provider. */
export interface OAuth2FlowOptions extends HttpOptions {
  readonly clock?: Clock
  /** Leeway for `exp`/`iat`/`nbf`, in seconds (default 30). */
  readonly leewaySeconds?: number
  /** Life of a flow state, at most 10 minutes (the default). */
  readonly flowTtlMs?: number
  readonly jwks?: JwksTiming
}

/** Options of one login. */
export interface InitiateLoginOptions {
  /** Scopes for this login (default: the provider's). */
  readonly scopes?: readonly string[]
  /** Where the app wants to go afterwards; kept in the flow state, not validated here. */
  readonly returnTo?: string
  /** More authorization parameters (`prompt`, `login_hint`, …); the protocol's own are refused. */
  readonly extraParams?: Readonly<Record<string, string>>
}

/** The start of a login: where to send the user, and what to keep for the callback. */
export interface LoginStart {
  readonly url: URL
  readonly flowState: FlowState
}

/** The end of a login. */
export interface LoginResult {
  readonly identity: Identity
  readonly tokens: TokenSet
}

const RESERVED = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'client_secret',
  'code_verifier',
  'request',
  'request_uri',
])
const OIDC_DEFAULT_SCOPES = ['openid', 'profile', 'email']

/**
 * The authorization code flow against one provider, with PKCE (S256) on every login.
 *
 * @example
 * ```ts
 * import { OAuth2Flow } from 'authkestra/client'
 *
 * const flow = new OAuth2Flow({
 *   id: 'acme',
 *   issuer: 'https://id.acme.example',           // endpoints come from discovery
 *   clientId: 'my-app',
 *   redirectUri: 'https://app.example/auth/callback/acme',
 * })
 * const { url, flowState } = await flow.initiateLogin({ returnTo: '/dashboard' })
 * // keep flowState (sealFlowState → cookie), redirect the user to url …
 * const { identity, tokens } = await flow.finalizeLogin(callbackUrl, flowState)
 * ```
 */
export class OAuth2Flow {
  readonly #config: ProviderConfig
  readonly #http: ResolvedHttpOptions
  readonly #clock: Clock
  readonly #leeway: number
  readonly #ttl: number
  readonly #jwksTiming: JwksTiming
  readonly #discovery: DiscoveryCache | undefined
  #jwks: { uri: string; get: ReturnType<typeof remoteJwks> } | undefined

  constructor(config: ProviderConfig, options: OAuth2FlowOptions = {}) {
    checkProviderConfig(config)
    this.#config = config
    this.#http = resolveHttpOptions(options)
    this.#clock = options.clock ?? systemClock
    this.#leeway = options.leewaySeconds ?? 30
    this.#ttl = options.flowTtlMs ?? FLOW_STATE_MAX_TTL_MS
    this.#jwksTiming = options.jwks ?? {}
    if (!(this.#ttl > 0 && this.#ttl <= FLOW_STATE_MAX_TTL_MS)) {
      throw new AuthkestraError('config_invalid', '"flowTtlMs" must be between 1 and 600000')
    }
    if (!(this.#leeway >= 0 && this.#leeway <= 300)) {
      throw new AuthkestraError('config_invalid', '"leewaySeconds" must be between 0 and 300')
    }
    const needsDiscovery =
      config.issuer !== undefined &&
      (config.authorizationEndpoint === undefined || config.tokenEndpoint === undefined)
    this.#discovery = needsDiscovery
      ? new DiscoveryCache(config.issuer as string, config.discovery ?? 'openid-configuration', {
          http: this.#http,
          clock: this.#clock,
          allowInsecureHttp: config.allowInsecureHttp === true,
        })
      : undefined
  }

  /** The provider id. */
  get id(): string {
    return this.#config.id
  }

  /** The provider's display name. */
  get name(): string {
    return this.#config.name ?? this.#config.id
  }

  /** The provider's endpoints and policies (runs discovery when needed). */
  async provider(): Promise<ResolvedProvider> {
    return resolveProvider(this.#config, this.#discovery ? await this.#discovery.get() : undefined)
  }

  #defaultScopes(): readonly string[] {
    return this.#config.scopes ?? (this.#config.issuer !== undefined ? OIDC_DEFAULT_SCOPES : [])
  }

  #separator(): string {
    return this.#config.quirks?.scopeSeparator ?? ' '
  }

  #client(provider: ResolvedProvider) {
    return {
      clientId: this.#config.clientId,
      ...(this.#config.clientSecret === undefined
        ? {}
        : { clientSecret: this.#config.clientSecret }),
      method: provider.clientAuthMethod,
    }
  }

  #keys(provider: ResolvedProvider): ReturnType<typeof remoteJwks> {
    if (!provider.jwksUri) {
      throw new AuthkestraError(
        'config_invalid',
        `provider "${this.id}" has no JWKS URI to verify ID tokens`,
      )
    }
    if (this.#jwks?.uri !== provider.jwksUri.href) {
      this.#jwks = {
        uri: provider.jwksUri.href,
        get: remoteJwks(provider.jwksUri, this.#http, this.#jwksTiming),
      }
    }
    return this.#jwks.get
  }

  /**
   * Starts a login: fresh `state` and `nonce` (256 bits each), a PKCE pair, and the
   * authorization URL carrying `code_challenge` and `code_challenge_method=S256`.
   */
  async initiateLogin(options: InitiateLoginOptions = {}): Promise<LoginStart> {
    const provider = await this.provider()
    const scopes = options.scopes ?? this.#defaultScopes()
    if (
      options.returnTo !== undefined &&
      (typeof options.returnTo !== 'string' || options.returnTo.length > 2048)
    ) {
      throw new AuthkestraError(
        'config_invalid',
        '"returnTo" must be a string of at most 2048 characters',
      )
    }
    const state = randomToken()
    const nonce = randomToken()
    const pkce = this.#config.pkce === 'disabled-unsafe' ? undefined : await Pkce.generate()
    const url = new URL(provider.authorizationEndpoint)
    const params = url.searchParams
    for (const [name, value] of Object.entries({
      ...this.#config.authorizationParams,
      ...options.extraParams,
    })) {
      if (RESERVED.has(name)) {
        throw new AuthkestraError(
          'config_invalid',
          `"${name}" is set by the flow and cannot be overridden`,
        )
      }
      params.set(name, value)
    }
    params.set('response_type', 'code')
    params.set('client_id', this.#config.clientId)
    params.set('redirect_uri', this.#config.redirectUri)
    if (scopes.length > 0) params.set('scope', scopes.join(this.#separator()))
    params.set('state', state)
    if (scopes.includes('openid')) params.set('nonce', nonce)
    if (pkce) {
      params.set('code_challenge', pkce.codeChallenge)
      params.set('code_challenge_method', pkce.codeChallengeMethod)
    }
    const flowState: FlowState = {
      providerId: this.id,
      state,
      nonce,
      ...(pkce ? { codeVerifier: pkce.codeVerifier } : {}),
      redirectUri: this.#config.redirectUri,
      scopes: [...scopes],
      ...(options.returnTo === undefined ? {} : { returnTo: options.returnTo }),
      expiresAt: this.#clock.now() + this.#ttl,
    }
    return { url, flowState }
  }

  /**
   * Finishes a login. Nothing is sent to the provider until the callback has passed every check
   * (shape, `state`, `iss`, `error`); then the code is exchanged with the PKCE verifier.
   */
  async finalizeLogin(callback: CallbackInput, flowState: FlowState): Promise<LoginResult> {
    if (flowState?.providerId !== this.id) {
      throw new AuthkestraError(
        'flow_state_provider_mismatch',
        `flow state does not belong to provider "${this.id}"`,
      )
    }
    if (!(this.#clock.now() < flowState.expiresAt)) {
      throw new AuthkestraError(
        'flow_state_expired',
        'flow state has expired; start the login again',
      )
    }
    const provider = await this.provider()
    const code = validateCallback(callback, {
      state: flowState.state,
      issuer: provider.issuer,
      issRequired: provider.issRequired,
    })
    const grant: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: flowState.redirectUri,
    }
    if (flowState.codeVerifier !== undefined) grant.code_verifier = flowState.codeVerifier
    const isOidc = flowState.scopes.includes('openid')
    const tokens = await this.#grant(grant, provider, isOidc ? { nonce: flowState.nonce } : {})
    const claims = await this.#claims(provider, tokens, isOidc)
    const identity = toIdentity(this.id, claims, this.#config.profile ?? oidcProfile)
    return { identity, tokens }
  }

  /**
   * Uses a refresh token (RFC 6749 §6). An ID token in the response is verified; pass the
   * login's subject as `expectedSubject` to also check it is about the same user (OIDC Core §12.2).
   */
  async refresh(
    refreshToken: string,
    options: { scopes?: readonly string[]; expectedSubject?: string } = {},
  ): Promise<TokenSet> {
    if (typeof refreshToken !== 'string' || refreshToken === '') {
      throw new AuthkestraError('config_invalid', '"refreshToken" must be a non-empty string')
    }
    const provider = await this.provider()
    const grant: Record<string, string> = {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }
    if (options.scopes) grant.scope = options.scopes.join(this.#separator())
    return this.#grant(
      grant,
      provider,
      options.expectedSubject === undefined ? {} : { subject: options.expectedSubject },
    )
  }

  /** Revokes a token (RFC 7009). `unsupported_operation` when the provider has no endpoint. */
  async revoke(token: string, options: { tokenTypeHint?: TokenTypeHint } = {}): Promise<void> {
    const provider = await this.provider()
    if (!provider.revocationEndpoint) {
      throw new AuthkestraError(
        'unsupported_operation',
        `provider "${this.id}" has no revocation endpoint`,
      )
    }
    await revokeToken(provider.revocationEndpoint, token, options.tokenTypeHint, {
      client: this.#client(provider),
      http: this.#http,
    })
  }

  async #grant(
    grant: Record<string, string>,
    provider: ResolvedProvider,
    expect: { readonly nonce?: string; readonly subject?: string },
  ): Promise<TokenSet> {
    const tokens = await requestTokens(grant, {
      tokenEndpoint: provider.tokenEndpoint,
      client: this.#client(provider),
      http: this.#http,
      clock: this.#clock,
      scopeSeparator: this.#config.quirks?.grantedScopeSeparator ?? this.#separator(),
    })
    if (tokens.idToken === undefined) {
      // An openid login (the only grant that passes a nonce) must return an ID token.
      if (expect.nonce !== undefined)
        throw new AuthkestraError(
          'id_token_missing',
          'token response has no "id_token" for an openid login',
        )
      return tokens
    }
    if (provider.issuer === undefined) {
      throw new AuthkestraError(
        'config_invalid',
        `provider "${this.id}" returned an ID token but has no issuer`,
      )
    }
    const idTokenClaims = await verifyIdToken(tokens.idToken, this.#keys(provider), {
      issuer: provider.issuer,
      issuerAliases: this.#config.quirks?.idTokenIssuerAliases ?? [],
      clientId: this.#config.clientId,
      algorithms: provider.idTokenAlgorithms,
      ...expect,
      accessToken: tokens.accessToken,
      clock: this.#clock,
      leewaySeconds: this.#leeway,
    })
    return { ...tokens, idTokenClaims }
  }

  async #claims(provider: ResolvedProvider, tokens: TokenSet, isOidc: boolean): Promise<Claims> {
    let claims: Claims = tokens.idTokenClaims ?? {}
    const api = {
      http: this.#http,
      ...(this.#config.quirks?.apiHeaders ? { headers: this.#config.quirks.apiHeaders } : {}),
    }
    if (provider.userinfoEndpoint && this.#config.fetchUserinfo !== false) {
      const subject = isOidc ? (claims.sub as string) : undefined
      const userinfo = await fetchUserinfo(
        provider.userinfoEndpoint,
        tokens.accessToken,
        subject,
        api,
      )
      claims = { ...claims, ...userinfo }
    }
    if (this.#config.enrichClaims) {
      const insecure = this.#config.allowInsecureHttp === true
      claims = await this.#config.enrichClaims(claims, (url) =>
        getWithToken(
          checkEndpointUrl(url, 'API URL', insecure),
          tokens.accessToken,
          api,
          `${this.id} API`,
        ),
      )
    }
    return claims
  }
}
