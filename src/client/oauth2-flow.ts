/**
 * `OAuth2Flow`: the authorization code flow with PKCE, state and nonce handled for you, against
 * one provider. `initiateLogin` makes the authorization URL and the flow state to keep;
 * `finalizeLogin` checks the callback against it, exchanges the code with the verifier, verifies
 * the ID token (OIDC), reads userinfo, and returns a normalized identity with the tokens.
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import {
  type InitiateLoginOptions,
  type LoginStart,
  scopesToAsk,
  startLogin,
} from './authorization-request.ts'
import { type CallbackInput, validateCallback } from './callback.ts'
import {
  DEVICE_CODE_GRANT_TYPE,
  type DeviceAuthorization,
  requestDeviceAuthorization,
} from './device-authorization.ts'
import { type DiscoveryCache, discoveryOf } from './discovery.ts'
import { callResource, type ResourceInit } from './dpop.ts'
import { endSessionUrl } from './end-session.ts'
import { applySecurityProfile } from './fapi2.ts'
import {
  type LoginResult,
  type OAuth2FlowOptions,
  type RefreshOptions,
  resolveFlowOptions,
} from './flow-options.ts'
import type { FlowState } from './flow-state.ts'
import type { ResolvedHttpOptions } from './http.ts'
import { type Identity, oidcProfile, toIdentity } from './identity.ts'
import { collectClaims } from './login-claims.ts'
import { type LogoutTokenClaims, verifyLogoutToken } from './logout-token.ts'
import { pushAuthorizationRequest } from './par.ts'
import { ProviderCalls } from './provider-calls.ts'
import type { ProviderConfig } from './provider-config.ts'
import {
  checkProviderConfig,
  isScopeToken,
  type ResolvedProvider,
  resolveProvider,
} from './resolve-provider.ts'
import { checkResources, resourceField } from './resource-indicators.ts'
import { revokeToken, type TokenTypeHint } from './revocation.ts'
import { type TokenExchangeOptions, tokenExchangeParams } from './token-exchange.ts'
import type { TokenSet } from './tokens.ts'

export type { InitiateLoginOptions, LoginStart } from './authorization-request.ts'
export type { LoginResult, OAuth2FlowOptions, RefreshOptions } from './flow-options.ts'

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
  readonly #ttl: number
  readonly #discovery: DiscoveryCache | undefined
  readonly #calls: ProviderCalls

  constructor(given: ProviderConfig, options: OAuth2FlowOptions = {}) {
    const config = applySecurityProfile(given)
    checkProviderConfig(config)
    this.#config = config
    const resolved = resolveFlowOptions(options)
    this.#http = resolved.http
    this.#clock = resolved.clock
    this.#ttl = resolved.flowTtlMs
    this.#calls = new ProviderCalls(config, {
      http: resolved.http,
      clock: resolved.clock,
      leewaySeconds: resolved.leewaySeconds,
      jwks: resolved.jwks,
      backoff: resolved.backoff,
    })
    this.#discovery = discoveryOf(config, {
      http: this.#http,
      clock: this.#clock,
      backoff: resolved.backoff,
    })
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

  /**
   * Starts a login: fresh `state` and `nonce` (256 bits each), a PKCE pair, and the
   * authorization URL carrying `code_challenge` and `code_challenge_method=S256`; or, when the
   * provider has a PAR endpoint (RFC 9126), those pushed there and a URL with only `client_id`
   * and `request_uri`. With DPoP the push carries a proof of a new key, kept in the flow state
   * for the token exchange (RFC 9449 §10.1).
   */
  async initiateLogin(options: InitiateLoginOptions = {}): Promise<LoginStart> {
    const provider = await this.provider()
    return startLogin(this.#config, provider, options, {
      clock: this.#clock,
      ttlMs: this.#ttl,
      push: async (endpoint, params) =>
        pushAuthorizationRequest(endpoint, params, {
          client: this.#calls.client(provider),
          http: this.#http,
          clock: this.#clock,
          dpop: await this.#calls.dpop(),
        }),
    })
  }

  /**
   * Finishes a login. Nothing is sent to the provider until the callback has passed every check
   * (path, shape, `state`, `iss`, `error`); then the code is exchanged with the PKCE verifier.
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
    if (flowState.codeVerifier === undefined && this.#config.pkce !== 'disabled-unsafe') {
      // A flow state without a verifier for a PKCE provider would silently downgrade the login.
      throw new AuthkestraError('flow_state_malformed', 'flow state has no PKCE verifier')
    }
    const provider = await this.provider()
    const code = validateCallback(callback, {
      state: flowState.state,
      issuer: provider.issuer,
      issRequired: provider.issRequired,
      redirectUri: flowState.redirectUri,
    })
    const grant: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: flowState.redirectUri,
      ...resourceField(flowState.resources),
    }
    if (flowState.codeVerifier !== undefined) grant.code_verifier = flowState.codeVerifier
    const isOidc = flowState.scopes.includes('openid')
    const expect = {
      ...(isOidc ? { nonce: flowState.nonce } : {}),
      ...(flowState.maxAge === undefined ? {} : { maxAge: flowState.maxAge }),
      ...(flowState.acrValues === undefined ? {} : { acrValues: flowState.acrValues }),
    }
    // The key of a DPoP push, which the code may be bound to; else a new one (with DPoP on).
    const tokens = await this.#calls.grant(grant, provider, expect, flowState.dpopKey)
    if (isOidc && tokens.idTokenClaims === undefined) {
      throw new AuthkestraError(
        'id_token_missing',
        'token response has no "id_token" for an openid login',
      )
    }
    const forResource = flowState.resources !== undefined
    return { identity: await this.#identity(provider, tokens, forResource), tokens }
  }

  /**
   * Uses a refresh token (RFC 6749 §6). Pass the previous {@link TokenSet} and a refreshed ID
   * token must be about the same user and authentication (`sub`, `auth_time`; OIDC Core §12.2);
   * with a bare refresh token string, give `expectedSubject` for the same check.
   */
  async refresh(previous: TokenSet | string, options: RefreshOptions = {}): Promise<TokenSet> {
    const refreshToken = typeof previous === 'string' ? previous : previous?.refreshToken
    if (typeof refreshToken !== 'string' || refreshToken === '') {
      throw new AuthkestraError('config_invalid', 'a refresh token is required')
    }
    const original = typeof previous === 'string' ? undefined : previous.idTokenClaims
    const subject = options.expectedSubject ?? (original?.sub as string | undefined)
    const authTime = original?.auth_time
    const provider = await this.provider()
    const grant: Record<string, string> = {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...resourceField(checkResources(options.resource, 'resource')),
    }
    if (options.scopes)
      grant.scope = options.scopes.join(this.#config.quirks?.scopeSeparator ?? ' ')
    // A DPoP session refreshes with its key (a public client's refresh token is bound to it).
    const key = options.dpopKey ?? (typeof previous === 'string' ? undefined : previous.dpopKey)
    return this.#calls.grant(
      grant,
      provider,
      {
        ...(subject === undefined ? {} : { subject }),
        ...(typeof authTime === 'number' ? { authTime } : {}),
      },
      key,
    )
  }

  /**
   * Starts a device authorization (RFC 8628 §3.1): codes for the person to enter elsewhere. The
   * scopes default as for a login. `unsupported_operation` when the provider has no
   * `device_authorization_endpoint`. {@link DeviceFlow} polls it for you.
   */
  async startDeviceAuthorization(
    options: { scopes?: readonly string[] } = {},
  ): Promise<DeviceAuthorization> {
    const provider = await this.provider()
    if (!provider.deviceAuthorizationEndpoint)
      throw new AuthkestraError(
        'unsupported_operation',
        `provider "${this.id}" has no device authorization endpoint`,
      )
    const scopes = scopesToAsk(this.#config, options.scopes)
    return requestDeviceAuthorization(provider.deviceAuthorizationEndpoint, scopes, {
      client: this.#calls.client(provider),
      http: this.#http,
      clock: this.#clock,
      scopeSeparator: this.#config.quirks?.scopeSeparator ?? ' ',
    })
  }

  /**
   * Polls once (RFC 8628 §3.4): the tokens, with the ID token verified and the identity when
   * `openid` was asked for, or `token_error` with `oauthError` `authorization_pending`,
   * `slow_down`, `access_denied` or `expired_token`. {@link DeviceFlow.poll} loops over it.
   */
  async redeemDeviceCode(
    authorization: Pick<DeviceAuthorization, 'deviceCode' | 'scopes'>,
  ): Promise<{ tokens: TokenSet; identity?: Identity }> {
    const provider = await this.provider()
    const tokens = await this.#calls.grant(
      { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: authorization.deviceCode },
      provider,
      {},
    )
    if (!authorization.scopes.includes('openid')) return { tokens }
    if (tokens.idTokenClaims === undefined)
      throw new AuthkestraError('id_token_missing', 'token response has no "id_token" for openid')
    return { tokens, identity: await this.#identity(provider, tokens) }
  }

  /**
   * Calls a protected resource with the access token of `tokens` (RFC 6750 §2.1, RFC 9449 §7):
   * `Authorization: Bearer`, or for a DPoP-bound token `Authorization: DPoP` and a fresh proof
   * with the token's `ath`, retried once when the resource server asks for a nonce
   * (`use_dpop_nonce`, §9). Returns the resource server's response as is.
   *
   * @example
   * ```ts
   * const response = await flow.fetchProtectedResource(tokens, 'https://api.example/orders')
   * ```
   */
  async fetchProtectedResource(
    tokens: Pick<TokenSet, 'accessToken' | 'tokenType' | 'dpopKey'>,
    url: string | URL,
    init: ResourceInit = {},
  ): Promise<Response> {
    return callResource(tokens.accessToken, url, init, this.#http, this.#calls.dpopOf(tokens))
  }

  /** The identity of a login's tokens: verified ID token claims, userinfo, the profile mapper. */
  async #identity(provider: ResolvedProvider, tokens: TokenSet, forResource = false) {
    const dpop = this.#calls.dpopOf(tokens)
    const claims = await collectClaims(
      this.#config,
      provider,
      tokens,
      this.#http,
      dpop,
      forResource,
    )
    return toIdentity(this.id, provider.issuer, claims, this.#config.profile ?? oidcProfile)
  }

  /**
   * The client credentials grant (RFC 6749 §4.4): a token for this client itself, with `scopes`
   * (none: the provider's default). {@link ClientCredentialsFlow} caches it for you.
   */
  async clientCredentials(
    options: { scopes?: readonly string[]; resource?: string } = {},
  ): Promise<TokenSet> {
    const scopes = options.scopes ?? []
    if (!scopes.every(isScopeToken))
      throw new AuthkestraError('config_invalid', '"scopes" must be scope tokens (RFC 6749 §3.3)')
    const provider = await this.provider()
    const resource = resourceField(checkResources(options.resource, 'resource'))
    const grant: Record<string, string> = { grant_type: 'client_credentials', ...resource }
    if (scopes.length > 0) grant.scope = scopes.join(this.#config.quirks?.scopeSeparator ?? ' ')
    return this.#calls.grant(grant, provider, {})
  }

  /**
   * Token Exchange (RFC 8693 §2.1): trades `subjectToken` (and, for delegation, `actorToken`)
   * for a new token for `audience`/`resource`, authenticated as this client. Types default to
   * access tokens. The answer's `issued_token_type` is in `raw`; errors are `token_error`.
   */
  async tokenExchange(options: TokenExchangeOptions): Promise<TokenSet> {
    const grant = tokenExchangeParams(options)
    return this.#calls.grant(grant, await this.provider(), {})
  }

  /** The callback URL registered at the provider (`redirect_uri`), if any. */
  get redirectUri(): string | undefined {
    return this.#config.redirectUri
  }

  /** The `post_logout_redirect_uri` registered at the provider, if any. */
  get postLogoutRedirectUri(): string | undefined {
    return this.#config.postLogoutRedirectUri
  }

  /**
   * The RP-Initiated Logout request for this provider (see `end-session.ts`), or undefined when
   * the app set no `postLogoutRedirectUri` or the provider has no `end_session_endpoint`.
   */
  async endSessionUrl(options: {
    state: string
    idTokenHint?: string | undefined
  }): Promise<URL | undefined> {
    const postLogoutRedirectUri = this.#config.postLogoutRedirectUri
    if (postLogoutRedirectUri === undefined) return undefined
    const provider = await this.provider()
    if (!provider.endSessionEndpoint) return undefined
    return endSessionUrl(provider.endSessionEndpoint, {
      clientId: this.#config.clientId,
      postLogoutRedirectUri,
      ...options,
    })
  }

  /** Whether the app registered this engine's back-channel logout URI at the provider. */
  get backchannelLogout(): boolean {
    return this.#config.backchannelLogout === true
  }

  /** Whether the app registered this engine's front-channel logout URI at the provider. */
  get frontchannelLogout(): boolean {
    return this.#config.frontchannelLogout === true
  }

  /**
   * Validates a back-channel logout token from this provider (see `logout-token.ts`); throws
   * `logout_token_invalid`. The replay check on its `jti` is the caller's.
   */
  async verifyLogoutToken(token: string): Promise<LogoutTokenClaims> {
    const provider = await this.provider()
    if (provider.issuer === undefined)
      throw new AuthkestraError('config_invalid', `provider "${this.id}" has no issuer`)
    return verifyLogoutToken(
      token,
      this.#calls.keys(provider),
      this.#calls.jwtChecks(provider, provider.issuer),
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
      client: this.#calls.client(provider),
      http: this.#http,
    })
  }
}
