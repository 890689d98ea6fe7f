/**
 * What every call to one provider's back end needs, kept per `OAuth2Flow`: the client's
 * authentication, the provider's JWKS (one cache per `jwks_uri`), the checks its ID and logout
 * tokens must pass, and a grant at the token endpoint whose ID token, if any, is verified.
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { type DpopKey, generateDpopKey } from '../dpop/key.ts'
import { type ClientAssertionKey, clientAssertionKey } from './client-assertion.ts'
import type { ClientCredentials } from './client-auth.ts'
import type { DpopContext } from './dpop.ts'
import { checkSenderConstrained } from './fapi2.ts'
import type { ResolvedHttpOptions } from './http.ts'
import { type IdTokenExpectations, verifyIdToken } from './id-token.ts'
import { type JwksTiming, remoteJwks } from './jwks.ts'
import type { ProviderConfig } from './provider-config.ts'
import type { BackoffPolicy } from './remote-cache.ts'
import type { ResolvedProvider } from './resolve-provider.ts'
import { requestTokens, type TokenSet } from './tokens.ts'

/** The flow options a provider's calls use. */
export interface ProviderCallOptions {
  readonly http: ResolvedHttpOptions
  readonly clock: Clock
  readonly leewaySeconds: number
  readonly jwks: JwksTiming
  readonly backoff: BackoffPolicy
}

/** The ID-token expectations a grant may add (the rest come from the provider). */
export type GrantExpectations = Pick<
  IdTokenExpectations,
  'nonce' | 'subject' | 'authTime' | 'maxAge' | 'acrValues'
>

/**
 * Calls to one provider.
 *
 * @example
 * ```ts
 * const calls = new ProviderCalls(config, resolveFlowOptions({}))
 * const tokens = await calls.grant({ grant_type: 'client_credentials' }, provider, {})
 * ```
 */
export class ProviderCalls {
  readonly #config: ProviderConfig
  readonly #options: ProviderCallOptions
  #jwks: { uri: string; get: ReturnType<typeof remoteJwks> } | undefined
  /** The DPoP nonces this provider's servers handed out, by origin (RFC 9449 §8). */
  readonly #nonces = new Map<string, string>()
  /** The `private_key_jwt` signing key, checked and imported once. */
  #assertionKey: ClientAssertionKey | undefined

  constructor(config: ProviderConfig, options: ProviderCallOptions) {
    this.#config = config
    this.#options = options
  }

  /**
   * The client's credentials, with the method the provider takes; for `private_key_jwt`, the
   * key (imported once) and the assertions' `aud`: the issuer, else the token endpoint.
   */
  client(provider: ResolvedProvider): ClientCredentials {
    const { clientPrivateKey, clientKeyId } = this.#config
    if (provider.clientAuthMethod === 'private_key_jwt' && clientPrivateKey !== undefined)
      this.#assertionKey ??= clientAssertionKey(clientPrivateKey, clientKeyId)
    return {
      clientId: this.#config.clientId,
      ...(this.#config.clientSecret === undefined
        ? {}
        : { clientSecret: this.#config.clientSecret }),
      method: provider.clientAuthMethod,
      ...(this.#assertionKey === undefined || provider.clientAuthMethod !== 'private_key_jwt'
        ? {}
        : {
            assertion: {
              key: this.#assertionKey,
              audience: provider.issuer ?? provider.tokenEndpoint.href,
              clock: this.#options.clock,
            },
          }),
    }
  }

  /** The provider's keys; `config_invalid` when it has no JWKS URI. */
  keys(provider: ResolvedProvider): ReturnType<typeof remoteJwks> {
    if (!provider.jwksUri) {
      throw new AuthkestraError(
        'config_invalid',
        `provider "${this.#config.id}" has no JWKS URI to verify ID tokens`,
      )
    }
    if (this.#jwks?.uri !== provider.jwksUri.href) {
      const { http, clock, jwks, backoff } = this.#options
      const get = remoteJwks(provider.jwksUri, http, { ...jwks, ...backoff }, clock)
      this.#jwks = { uri: provider.jwksUri.href, get }
    }
    return this.#jwks.get
  }

  /** What the provider's ID and logout tokens are checked against. */
  jwtChecks(provider: ResolvedProvider, issuer: string) {
    return {
      issuer,
      issuerAliases: this.#config.quirks?.idTokenIssuerAliases ?? [],
      clientId: this.#config.clientId,
      trustedAudiences: this.#config.trustedAudiences ?? [],
      algorithms: provider.idTokenAlgorithms,
      clock: this.#options.clock,
      leewaySeconds: this.#options.leewaySeconds,
    }
  }

  /**
   * The DPoP context of a request: `key`, else a new key when the provider is configured for
   * DPoP, else none.
   */
  async dpop(key?: DpopKey): Promise<DpopContext | undefined> {
    const option = this.#config.dpop
    if (key === undefined && (option === undefined || option === false)) return undefined
    const signing =
      key ??
      (await generateDpopKey(
        typeof option === 'object'
          ? {
              ...(option.alg === undefined ? {} : { alg: option.alg }),
              ...(option.extractable === undefined ? {} : { extractable: option.extractable }),
            }
          : {},
      ))
    return { key: signing, nonces: this.#nonces, clock: this.#options.clock }
  }

  /** The DPoP context of requests made with `tokens` (none for a bearer token). */
  dpopOf(tokens: Pick<TokenSet, 'tokenType' | 'dpopKey'>): DpopContext | undefined {
    if (tokens.tokenType !== 'DPoP' || tokens.dpopKey === undefined) return undefined
    return { key: tokens.dpopKey, nonces: this.#nonces, clock: this.#options.clock }
  }

  /**
   * Runs a grant; an ID token in the response is verified against `expect`. With DPoP, the
   * request proves `dpopKey` (or a new key, see {@link ProviderCalls.dpop}).
   */
  async grant(
    grant: Record<string, string> | URLSearchParams,
    provider: ResolvedProvider,
    expect: GrantExpectations,
    dpopKey?: DpopKey,
  ): Promise<TokenSet> {
    const tokens = await requestTokens(grant, {
      dpop: await this.dpop(dpopKey),
      tokenEndpoint: provider.tokenEndpoint,
      client: this.client(provider),
      http: this.#options.http,
      clock: this.#options.clock,
      scopeSeparator:
        this.#config.quirks?.grantedScopeSeparator ?? this.#config.quirks?.scopeSeparator ?? ' ',
    })
    checkSenderConstrained(this.#config, tokens)
    if (tokens.idToken === undefined) return tokens
    if (provider.issuer === undefined) {
      throw new AuthkestraError(
        'config_invalid',
        `provider "${this.#config.id}" returned an ID token but has no issuer`,
      )
    }
    const idTokenClaims = await verifyIdToken(tokens.idToken, this.keys(provider), {
      ...this.jwtChecks(provider, provider.issuer),
      accessToken: tokens.accessToken,
      ...expect,
    })
    return { ...tokens, idTokenClaims }
  }
}
