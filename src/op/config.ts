/**
 * The OP's configuration: what `createOp` takes, checked once at start with messages that name the
 * field, and the resolved form the endpoints read.
 *
 * @module
 */

import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { Secret } from '../core/keyring.ts'
import type { DpopAlgorithm } from '../dpop/key.ts'
import type { Mfa } from '../mfa/create-mfa.ts'
import type { ClientAssertionAlgorithm } from './client-keys.ts'
import type { OpDevsigOptions } from './devsig.ts'
import type { OpCaptchaOptions } from './endpoints/interaction/captcha.ts'
import type { OpProfile } from './fapi2.ts'
import type { CustomGrant, TokenExchangeOptions } from './grant-options.ts'
import type { OpRateLimitOptions } from './limits.ts'
import type { RefreshRotation } from './refresh-policy.ts'
import type { OpResource } from './resources.ts'
import type { SigningAlg } from './signing-algs.ts'
import type { GrantTypeName, OpStore } from './store/types.ts'

export type {
  CustomGrant,
  CustomGrantHandler,
  CustomGrantRequest,
  CustomGrantResult,
  ExchangedToken,
  TokenExchangeDecision,
  TokenExchangeOptions,
  TokenExchangeRequest,
} from './grant-options.ts'

/** A client as configured (RFC 7591 metadata names). */
export interface OpClientConfig {
  readonly client_id: string
  /** Absent for public clients. Stored hashed; use ≥ 32 random characters. */
  readonly client_secret?: string | undefined
  readonly redirect_uris: readonly string[]
  /** Default: `client_secret_basic` with a secret, `none` without. */
  readonly token_endpoint_auth_method?:
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'none'
    | 'private_key_jwt'
    | undefined
  /**
   * `private_key_jwt` (OIDC Core §9): the client's public keys, inline (`{ keys: [...] }`, no
   * private or symmetric key). Exactly one of `jwks` and `jwks_uri`.
   */
  readonly jwks?: { readonly keys: readonly Readonly<Record<string, unknown>>[] } | undefined
  /** `private_key_jwt`: where the client publishes its keys (https; http on loopback). */
  readonly jwks_uri?: string | undefined
  /** `private_key_jwt` (OIDC Registration §2): the only `alg` its assertions may use. */
  readonly token_endpoint_auth_signing_alg?: ClientAssertionAlgorithm | undefined
  /**
   * Default: `authorization_code` and `refresh_token`. The Device Authorization Grant is
   * `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4); a custom grant is listed by
   * the URI it has in the OP's `grants`.
   */
  readonly grant_types?: readonly (GrantTypeName | (string & {}))[] | undefined
  /** Extra scopes (space-separated) the client may ask for, e.g. `"api:read api:write"`. */
  readonly scope?: string | undefined
  /** `native` enables the RFC 8252 §7.3 loopback port rule on its redirect URIs. */
  readonly application_type?: 'web' | 'native' | undefined
  /** A first-party client: no consent page. */
  readonly skip_consent?: boolean | undefined
  readonly client_name?: string | undefined
  /** RP-Initiated Logout 1.0 §3.1: where the end-session endpoint may send the user back. */
  readonly post_logout_redirect_uris?: readonly string[] | undefined
  /** Back-Channel Logout 1.0 §2.2: where the OP POSTs a logout token when a session ends. */
  readonly backchannel_logout_uri?: string | undefined
  /** Back-Channel Logout 1.0 §2.2: the client needs `sid` in logout tokens (default false). */
  readonly backchannel_logout_session_required?: boolean | undefined
  /**
   * Front-Channel Logout 1.0 §2: the page the OP loads in an iframe when a session the client
   * used ends; same scheme, host and port as one of its `redirect_uris`.
   */
  readonly frontchannel_logout_uri?: string | undefined
  /** Front-Channel Logout 1.0 §2: add `iss` and `sid` to that URL (default false). */
  readonly frontchannel_logout_session_required?: boolean | undefined
  /** Accept `code_challenge_method=plain` for this legacy client. RFC 9700 §2.1.1 says S256. */
  readonly pkce_plain?: 'allow-unsafe' | undefined
  /** An API (resource server): may introspect access tokens issued to other clients. */
  readonly resource_server?: boolean | undefined
  /** RFC 9449 §5.2: the client always sends DPoP proofs; token requests without one are refused. */
  readonly dpop_bound_access_tokens?: boolean | undefined
  /**
   * RFC 9126 §6: the client must push its authorization requests (PAR); the authorization
   * endpoint refuses any other request of it.
   */
  readonly require_pushed_authorization_requests?: boolean | undefined
  /**
   * RFC 8707: the `resources` of the OP this client may name with `resource`. Absent: none (a
   * token for an API is only issued to a client listed for it).
   */
  readonly allowed_resources?: readonly string[] | undefined
  /**
   * OIDC Registration 1.0 §2: the algorithm of its ID tokens (and back-channel logout tokens);
   * one of the OP's `signingAlgs`. Default: the OP's default (the first of `signingAlgs`).
   */
  readonly id_token_signed_response_alg?: SigningAlg | undefined
  /**
   * Refresh-token policy (no registered name exists): `rotate` (reuse revokes the family),
   * `rotate-with-grace` (a rotated token still works for `refresh_token_grace_seconds`), or
   * `none` (FAPI 2.0 §5.3.2.1; confidential or DPoP-bound clients only). Default: the OP's
   * `refreshTokens.rotation`, itself `rotate` by default.
   */
  readonly refresh_token_rotation?: RefreshRotation | undefined
  /** With `rotate-with-grace`: 1 to 60 seconds (default: the OP's, itself 10). */
  readonly refresh_token_grace_seconds?: number | undefined
}

/** A built-in account. */
export interface OpAccountConfig {
  readonly username: string
  readonly password: string
  /** Subject identifier (default: a stable value derived from the username). */
  readonly sub?: string | undefined
  /** OpenID Connect claims (`name`, `email`, `email_verified`, …). */
  readonly claims?: Readonly<Record<string, unknown>> | undefined
}

/** An account as the app's own hooks return it. */
export interface OpAccount {
  readonly sub: string
  readonly claims: Readonly<Record<string, unknown>>
}

/** Lifetimes in seconds. */
export interface OpTtl {
  /** Authorization code, at most 60 (default 60). */
  readonly code?: number
  /** Access token (default 600). */
  readonly accessToken?: number
  /** ID token (default 600). */
  readonly idToken?: number
  /** Refresh-token family, absolute (default 30 days); rotation never extends it. */
  readonly refreshToken?: number
  /** A login/consent in progress (default 600). */
  readonly interaction?: number
  /** The OP's login session (default 8 hours). */
  readonly session?: number
  /** A device authorization, from its request to its approval (default 600, at most 1800). */
  readonly deviceCode?: number
}

/** Where the OP reports what operators should know. Never receives secrets. */
export interface OpLogger {
  /** With it, a line per answer: method, path and status (never the query, a body or a cookie). */
  debug?(message: string): void
  /** Decisions operators audit (each token exchange allowed); refusals go to `warn`. */
  info?(message: string): void
  warn(message: string): void
  error(message: string, error?: unknown): void
}

/** DPoP (RFC 9449) at the token and userinfo endpoints. */
export interface OpDpopOptions {
  /**
   * `'required'`: every proof must carry a current server nonce (§8): a client without one gets
   * `use_dpop_nonce` and the nonce in `DPoP-Nonce`. Default `'off'`.
   */
  readonly nonce?: 'required' | 'off'
  /** The secret nonces are made from (≥ 32 bytes), the same on every instance. */
  readonly nonceSecret?: string
  /** Proof algorithms accepted (default ES256, PS256, EdDSA, RS256, ES384). */
  readonly algorithms?: readonly DpopAlgorithm[]
  /** How old a proof's `iat` may be, seconds (default 60; 300 with nonces). */
  readonly proofMaxAgeSeconds?: number
  /** How far ahead of the OP's clock a proof's `iat` may be, 0 to 60 seconds (default 5). */
  readonly clockToleranceSeconds?: number
}

/** Pushed Authorization Requests (RFC 9126). */
export interface OpParOptions {
  /** Every client must push its authorization requests (RFC 9126 §5). Default false. */
  readonly required?: boolean
  /** How long a `request_uri` lives, 5 to 600 seconds (default 60; it is also used once). */
  readonly requestUriTtlSeconds?: number
}

/** The OP-wide refresh-token policy. */
export interface OpRefreshTokenOptions {
  /** Default `rotate`. `none` here applies only to clients that qualify (see the client field). */
  readonly rotation?: RefreshRotation
  /** Seconds of `rotate-with-grace`, 1 to 60 (default 10). */
  readonly graceSeconds?: number
}

/** How `private_key_jwt` client assertions are checked (see docs/private-key-jwt.md). */
export interface OpClientAssertionOptions {
  /** Accepted `alg`s (default ES256, PS256, EdDSA, RS256, ES384); `none` and `HS*` never. */
  readonly algorithms?: readonly ClientAssertionAlgorithm[]
  /** Longest `exp - iat` (or `exp - now` without `iat`), seconds, 10 to 3600 (default 300). */
  readonly maxLifetimeSeconds?: number
  /** Clock skew allowed on `exp`, `nbf` and `iat`, seconds, 0 to 60 (default 5). */
  readonly clockToleranceSeconds?: number
  /** Fetching of clients' `jwks_uri` documents. */
  readonly jwksUri?: {
    /** Per fetch (default 5000 ms). */
    readonly timeoutMs?: number
    /** Largest document (default 64 KiB). */
    readonly maxBytes?: number
    /** How long a fetched set is used (default 300 s). */
    readonly cacheSeconds?: number
    /** An unknown `kid` refetches at most this often per client (default 30 s). */
    readonly minRefetchSeconds?: number
  }
  /** The `fetch` used for `jwks_uri` (default the global one). */
  readonly fetch?: typeof fetch
}

/** Options of `createOp`. */
export interface OpConfig {
  /** The issuer identifier; its path is where the OP is mounted (`https://app.example/oidc`). */
  readonly issuer: string
  /**
   * `'fapi2'`: the FAPI 2.0 Security Profile. The OP refuses to start with a configuration that
   * cannot meet it (naming each problem), and fills in the profile's defaults: confidential
   * `private_key_jwt` clients only, PAR required, DPoP-bound tokens only, PS256/ES256/EdDSA only,
   * no refresh-token rotation, 10 s of clock skew. See docs/fapi2.md.
   */
  readonly profile?: OpProfile
  readonly clients?: readonly OpClientConfig[]
  /** Built-in accounts (passwords hashed with scrypt at start). */
  readonly accounts?: readonly OpAccountConfig[]
  /** Default: an in-memory store (with a warning: nothing survives a restart). */
  readonly store?: OpStore
  /**
   * The secret (≥ 32 bytes; a list rotates: the first seals, all open) the OP seals its
   * interaction cookies and MACs its CSRF tokens with, through HKDF-derived keys. The same on
   * every instance. Omitted: a random key kept in the store (record kind `sealKey`).
   */
  readonly secret?: Secret | readonly Secret[]
  /**
   * Deprecated: use `signingAlgs`. The only signing algorithm (exactly one key, as before).
   * Cannot be combined with `signingAlgs`.
   */
  readonly signingAlg?: SigningAlg
  /**
   * The algorithms the OP signs with, one current key each, all in the JWKS and discovery; the
   * first signs access tokens and the ID tokens of clients without
   * `id_token_signed_response_alg`. Default `['ES256', 'RS256']` (OIDC Discovery 1.0 §3 requires
   * RS256 to be available). Keys other than the first's are made on first need.
   */
  readonly signingAlgs?: readonly SigningAlg[]
  /** The OP-wide refresh-token policy, for clients that set none (see `docs/signing-and-refresh.md`). */
  readonly refreshTokens?: OpRefreshTokenOptions
  /** Scopes beyond `openid profile email offline_access` that clients may be allowed. */
  readonly scopes?: readonly string[]
  readonly ttl?: OpTtl
  /** Replaces the built-in password check; return the subject, or null to refuse. */
  readonly authenticate?: (username: string, password: string) => Promise<string | null>
  /** Replaces the built-in account lookup (claims for ID tokens and userinfo). */
  readonly findAccount?: (sub: string) => Promise<OpAccount | undefined>
  /** The app's own login/consent page; the OP redirects there with `?uid=` (see `op.interactions`). */
  readonly interactionUrl?: string
  /**
   * Every authorization is granted to this user without a form or consent. Only for automated
   * tests of apps (the dev IdP's `--auto-login`); never in production.
   */
  readonly dangerouslyAutoLogin?: string
  /** `aud` of access tokens (default: the issuer). */
  readonly accessTokenAudience?: string
  /**
   * RFC 8707: the protected resources (APIs) clients may ask tokens for with `resource`; such a
   * token has the resource as `aud` (see `docs/resource-indicators.md`).
   */
  readonly resources?: readonly OpResource[]
  readonly clock?: Clock
  readonly logger?: OpLogger
  /** How back-channel logout notifications are delivered (Back-Channel Logout 1.0 §2.5). */
  readonly backchannelLogout?: BackchannelLogoutOptions
  /** The Device Authorization Grant (RFC 8628), for clients registered for it. */
  readonly deviceFlow?: DeviceFlowOptions
  /**
   * Second factors and passkeys (`createMfa` from `authkestra/mfa`): an account with a factor
   * must pass it after the password, passkeys sign in without one, `/account` enrolls them, and
   * tokens carry `amr` and `acr`. Without it, logins are password-only (`amr: ["pwd"]`).
   */
  readonly mfa?: Mfa
  /** Pushed Authorization Requests (RFC 9126): always offered; these options tighten them. */
  readonly par?: OpParOptions
  /** DPoP (RFC 9449): accepted from every client; these options tighten it. */
  readonly dpop?: OpDpopOptions
  /**
   * Device-bound request signatures (docs/devsig.md): devices enrol keys at
   * `{issuer}/devsig/challenge` and `{issuer}/devsig/enroll` and get attestations for APIs
   * guarded by `devsig()`. Off without it.
   */
  readonly devsig?: OpDevsigOptions
  /** `private_key_jwt` client assertions (RFC 7523 §3): algorithms, lifetime, `jwks_uri` fetching. */
  readonly clientAssertion?: OpClientAssertionOptions
  /** Token Exchange (RFC 8693), for clients registered for it: who may exchange what. */
  readonly tokenExchange?: TokenExchangeOptions
  /**
   * Extension grants (RFC 6749 §4.5), by their absolute-URI `grant_type`, for the clients
   * registered for them. The client is authenticated before a handler runs.
   */
  readonly grants?: Readonly<Record<string, CustomGrant>>
  /**
   * Rate limits on password attempts, token requests, user-code entry and stored interactions:
   * each a `{ limit, windowSeconds }` rule (or `'off-unsafe'`), counted in the store's
   * `rateLimits` so that every instance shares them. See docs/abuse-resistance.md.
   */
  readonly rateLimits?: OpRateLimitOptions
  /**
   * The reverse proxies in front of the OP (addresses, CIDR ranges, `loopback`, `private`):
   * `X-Forwarded-For` is read only from them, to find the client address limits count under.
   * Default none: the socket's peer is the client.
   */
  readonly trustedProxies?: readonly string[]
  /**
   * A bot check (Turnstile, hCaptcha, reCAPTCHA v3 from `authkestra/captcha`) on the built-in
   * login page, always or after failed attempts; verified before the password (docs/captcha.md).
   */
  readonly captcha?: OpCaptchaOptions
}

/** Options of the Device Authorization Grant. */
export interface DeviceFlowOptions {
  /** Seconds a device must wait between polls, 1 to 60 (default 5, RFC 8628 §3.2). */
  readonly interval?: number
  /**
   * Failed user-code entries allowed per client address in 10 minutes (default 20): guessing is
   * hopeless against 20⁸ codes that live 10 minutes, and this keeps it so. It is the default of
   * the `rateLimits.deviceEntryPerIp` rule (this many per 600 s, refilled one by one).
   */
  readonly maxFailedEntries?: number
}

/** Delivery of back-channel logout tokens: never in the way of the user's response. */
export interface BackchannelLogoutOptions {
  /** Per attempt (default 5000 ms). */
  readonly timeoutMs?: number
  /** Attempts per client, retrying network errors, timeouts and 5xx only (default 3). */
  readonly attempts?: number
  /** Told of every delivery that failed for good (also logged as a warning). */
  readonly onFailure?: (failure: BackchannelFailure) => void
}

/** A logout token a client did not accept. No token or secret in it. */
export interface BackchannelFailure {
  readonly clientId: string
  readonly uri: string
  readonly attempts: number
  /** The last HTTP status, when the client answered at all. */
  readonly status?: number
  /** What went wrong, for operators. */
  readonly reason: string
}

/** TTLs with defaults applied. */
export type ResolvedTtl = Required<OpTtl>

/** Standard scopes the OP always knows. */
export const STANDARD_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const

/** The standard scopes as a set: OpenID Connect scopes, which describe a user. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(STANDARD_SCOPES)

export function configError(message: string): AuthkestraError {
  return new AuthkestraError('config_invalid', message)
}

/** Fills TTL defaults and checks bounds. */
export function resolveTtl(ttl: OpTtl = {}): ResolvedTtl {
  const out: ResolvedTtl = {
    code: ttl.code ?? 60,
    accessToken: ttl.accessToken ?? 600,
    idToken: ttl.idToken ?? 600,
    refreshToken: ttl.refreshToken ?? 30 * 86_400,
    interaction: ttl.interaction ?? 600,
    session: ttl.session ?? 8 * 3600,
    deviceCode: ttl.deviceCode ?? 600,
  }
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isInteger(value) || value <= 0)
      throw configError(`"ttl.${name}" must be a positive integer`)
  }
  if (out.code > 60) throw configError('"ttl.code" must be at most 60 seconds')
  if (out.deviceCode > 1800) throw configError('"ttl.deviceCode" must be at most 1800 seconds')
  return out
}
