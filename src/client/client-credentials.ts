/**
 * `ClientCredentialsFlow`: service-to-service tokens (RFC 6749 §4.4) with the client's
 * registered authentication method, done the way a busy service needs it:
 *
 * - **cached** per scope set until shortly before `expires_in` (`refreshBeforeSeconds`, default
 *   30; a token without `expires_in` is kept at most 60 s);
 * - **single flight**: concurrent callers for one scope set share one token request, and a
 *   failed request is not cached (the next call asks again);
 * - **`authorizedFetch`** sends `Authorization: Bearer` and, on a 401 from the resource server,
 *   drops the cached token and retries once with a fresh one (a token revoked early), never more.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { OAuth2Flow, type OAuth2FlowOptions } from './oauth2-flow.ts'
import type { ProviderConfig } from './provider-config.ts'
import type { TokenSet } from './tokens.ts'

/** Options of {@link ClientCredentialsFlow}. */
export interface ClientCredentialsOptions extends OAuth2FlowOptions {
  /** Ask for a new token this many seconds before the cached one expires (default 30). */
  readonly refreshBeforeSeconds?: number
}

/** Longest a token whose response had no `expires_in` is reused. */
const NO_EXPIRY_TTL_MS = 60_000

interface Cached {
  readonly tokens: TokenSet
  readonly until: number
}

/**
 * Client credentials tokens over one provider.
 *
 * @example
 * ```ts
 * const service = new ClientCredentialsFlow({
 *   id: 'corp', issuer: 'https://id.example', clientId: 'billing', clientSecret: process.env.SECRET,
 * })
 * const response = await service.authorizedFetch('https://api.example/invoices', {}, { scopes: ['invoices:read'] })
 * ```
 */
export class ClientCredentialsFlow {
  /** The underlying flow. */
  readonly flow: OAuth2Flow
  readonly #clock: Clock
  readonly #marginMs: number
  readonly #cache = new Map<string, Cached>()
  readonly #inFlight = new Map<string, Promise<TokenSet>>()

  constructor(provider: ProviderConfig | OAuth2Flow, options: ClientCredentialsOptions = {}) {
    this.flow = provider instanceof OAuth2Flow ? provider : new OAuth2Flow(provider, options)
    this.#clock = options.clock ?? systemClock
    const margin = options.refreshBeforeSeconds ?? 30
    if (!Number.isInteger(margin) || margin < 0 || margin > 3600)
      throw new AuthkestraError(
        'config_invalid',
        '"refreshBeforeSeconds" must be an integer from 0 to 3600',
      )
    this.#marginMs = margin * 1000
  }

  /** A valid token for `scopes`: the cached one, or a new one (one request for all callers). */
  async token(options: { scopes?: readonly string[] } = {}): Promise<TokenSet> {
    const scopes = [...new Set(options.scopes ?? [])].sort()
    const key = scopes.join(' ')
    const cached = this.#cache.get(key)
    if (cached && cached.until > this.#clock.now()) return cached.tokens
    let pending = this.#inFlight.get(key)
    if (!pending) {
      pending = this.flow
        .clientCredentials({ scopes })
        .then((tokens) => {
          const now = this.#clock.now()
          const until =
            tokens.expiresAt === undefined
              ? now + NO_EXPIRY_TTL_MS
              : Math.max(now, tokens.expiresAt - this.#marginMs)
          this.#cache.set(key, { tokens, until })
          return tokens
        })
        .finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, pending)
    }
    return pending
  }

  /** Forgets the cached token of `scopes` (all of them without an argument). */
  invalidate(scopes?: readonly string[]): void {
    if (scopes === undefined) this.#cache.clear()
    else this.#cache.delete([...new Set(scopes)].sort().join(' '))
  }

  /**
   * `fetch` with the token of `scopes` as `Authorization: Bearer`; on a 401, once, a fresh token
   * and the request again. A body that can be sent only once (a stream) is not retried.
   */
  async authorizedFetch(
    input: string | URL,
    init: RequestInit = {},
    options: { scopes?: readonly string[]; fetch?: typeof fetch } = {},
  ): Promise<Response> {
    const send = options.fetch ?? fetch
    const attempt = async () => {
      const { accessToken } = await this.token(options)
      const headers = new Headers(init.headers)
      headers.set('authorization', `Bearer ${accessToken}`)
      return send(input, { ...init, headers })
    }
    const first = await attempt()
    const replayable =
      init.body === undefined || init.body === null || typeof init.body === 'string'
    if (first.status !== 401 || !replayable) return first
    await first.body?.cancel()
    this.invalidate(options.scopes)
    return attempt()
  }
}
