/**
 * What the OP's extension grants are given and give back: custom grants (RFC 6749 §4.5) and the
 * Token Exchange policy (RFC 8693). Types only; `config.ts` re-exports them.
 *
 * @module
 */
/** What a custom grant's handler is told: the authenticated client and the request. */
export interface CustomGrantRequest {
  readonly grantType: string
  readonly client: {
    readonly clientId: string
    /** It authenticated with a secret (false: a public client, identified only). */
    readonly confidential: boolean
    /** The extra scopes it is registered with (beyond `openid profile email offline_access`). */
    readonly scopes: readonly string[]
  }
  /** `scope` as asked (RFC 6749 §3.3), duplicates dropped; undefined when absent. */
  readonly requestedScopes: readonly string[] | undefined
  /** A form parameter of the request (each appears at most once), e.g. `assertion`. */
  param(name: string): string | undefined
}

/**
 * What a custom grant issues, through the same code as the built-in grants. With `account`,
 * `sub` is an account of this OP: `openid` brings an ID token, and `offline_access` (for a client
 * registered for `refresh_token`) a refresh token. Without, OpenID Connect scopes are refused.
 */
export interface CustomGrantResult {
  readonly sub: string
  /** Each a scope the client may have; the OP refuses any other (`invalid_scope`). */
  readonly scopes: readonly string[]
  readonly account?: boolean
  /** When the user authenticated, in seconds since the epoch (ID token `auth_time`; default now). */
  readonly authTime?: number
}

/** A custom grant's handler: throw a `GrantError` to refuse; any other throw is a 500. */
export type CustomGrantHandler = (
  request: CustomGrantRequest,
) => CustomGrantResult | Promise<CustomGrantResult>

/**
 * A custom grant: its handler, confidential clients only; or, to let public clients use it
 * too (the grant's own parameters then carry all the proof), `{ handler, publicClients: true }`.
 */
export type CustomGrant =
  | CustomGrantHandler
  | { readonly handler: CustomGrantHandler; readonly publicClients?: boolean }

/** A token presented to a token exchange, checked: what the policy decides on. */
export interface ExchangedToken {
  /** `urn:ietf:params:oauth:token-type:access_token`, `…:refresh_token`, `…:id_token`, `…:jwt`. */
  readonly tokenType: string
  readonly issuer: string
  readonly sub: string
  /** The client it was issued to (`client_id`, or the ID token's `azp`/`aud`), when known. */
  readonly clientId?: string
  readonly scopes: readonly string[]
  /** The verified claims (for a refresh token: none). */
  readonly claims: Readonly<Record<string, unknown>>
}

/** What the `tokenExchange.policy` is asked (RFC 8693 §2.1). */
export interface TokenExchangeRequest {
  /** The authenticated client asking. */
  readonly clientId: string
  readonly subject: ExchangedToken
  /** With `actor_token`: delegation, the new token's `act` names it. */
  readonly actor?: ExchangedToken
  /** `audience` and `resource` values, as sent. */
  readonly audience: readonly string[]
  readonly resource: readonly string[]
  /** The scopes of the new token: those asked for, or else the subject's. */
  readonly scopes: readonly string[]
}

/** The policy's answer: allow (the new token's `aud` from `audience`/`resource`), or refuse. */
export type TokenExchangeDecision =
  | { readonly allow: true }
  | { readonly allow: false; readonly reason: string }

/** Options of Token Exchange. */
export interface TokenExchangeOptions {
  /** Decides every exchange; without one every exchange is refused (`invalid_target`). */
  readonly policy?: (
    request: TokenExchangeRequest,
  ) => TokenExchangeDecision | Promise<TokenExchangeDecision>
  /** Other issuers whose JWTs (`…:token-type:jwt`) may be exchanged, with their public keys. */
  readonly trustedIssuers?: readonly {
    readonly issuer: string
    readonly jwks: { readonly keys: readonly Readonly<Record<string, unknown>>[] }
    /** The `aud` their JWTs must carry (default: this OP's issuer). */
    readonly audience?: string
  }[]
}
