/**
 * `OpStore`: everything the embedded OpenID Provider keeps, as records of a few kinds behind six
 * async methods. Secrets never reach the store in clear: codes, refresh tokens and sessions are
 * stored under the SHA-256 of their value; client secrets and passwords as hashes.
 *
 * A database store implements the same six methods (see `authkestra/stores/*`); `consume` and
 * `revokeFamily` must be atomic.
 *
 * @module
 */
import type { PkceMethod } from '../../core/pkce.ts'
import type { RateLimitStore } from '../../core/rate-limit.ts'

/** The grant type URN of the Device Authorization Grant (RFC 8628 §3.4). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** The grant type URN of Token Exchange (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** The grant types a client may be registered for. */
export type GrantTypeName =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  | typeof DEVICE_CODE_GRANT
  | typeof TOKEN_EXCHANGE_GRANT

/** A registered client. */
export interface ClientRecord {
  readonly clientId: string
  /** SHA-256 (base64url) of the client secret; absent for public clients. */
  readonly secretHash?: string
  readonly tokenEndpointAuthMethod:
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'none'
    | 'private_key_jwt'
  /** `private_key_jwt`: the client's public keys (`jwks`), checked at registration. */
  readonly jwks?: {
    readonly keys: readonly (Readonly<Record<string, unknown>> & { kty: string })[]
  }
  /** `private_key_jwt`: where its keys are published (`jwks_uri`). */
  readonly jwksUri?: string
  /** `token_endpoint_auth_signing_alg`: the only `alg` its assertions may use. */
  readonly tokenEndpointAuthSigningAlg?: string
  readonly redirectUris: readonly string[]
  /** RP-Initiated Logout 1.0 §3.1: where a logout may return to (exact match). */
  readonly postLogoutRedirectUris?: readonly string[]
  /** Back-Channel Logout 1.0 §2.2: where logout tokens go. */
  readonly backchannelLogoutUri?: string
  /** The client needs `sid` in its logout tokens. */
  readonly backchannelLogoutSessionRequired?: boolean
  /** Front-Channel Logout 1.0 §2: the page loaded in an iframe at logout. */
  readonly frontchannelLogoutUri?: string
  /** Add `iss` and `sid` to the front-channel URL. */
  readonly frontchannelLogoutSessionRequired?: boolean
  /** Built-in grant types, and the URIs of custom grants (RFC 6749 §4.5) the OP has. */
  readonly grantTypes: readonly (GrantTypeName | (string & {}))[]
  /** Extra scopes this client may ask for (beyond `openid profile email offline_access`). */
  readonly scopes: readonly string[]
  /** `'native'` clients get the RFC 8252 loopback port rule on redirect URIs. */
  readonly applicationType: 'web' | 'native'
  /** First-party client: no consent page. */
  readonly skipConsent: boolean
  /** Accept `code_challenge_method=plain` (legacy clients only; RFC 9700 says S256). */
  readonly allowPlainPkce: boolean
  /** May introspect access tokens issued to other clients (an API that serves them). */
  readonly resourceServer: boolean
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: token requests must carry a DPoP proof. */
  readonly dpopBoundAccessTokens?: boolean
  /** RFC 9126 §6 `require_pushed_authorization_requests`: authorization requests must be pushed. */
  readonly requirePushedAuthorizationRequests?: boolean
  /** RFC 8707: the OP's resources this client may name (`allowed_resources`); absent: none. */
  readonly allowedResources?: readonly string[]
  /** OIDC Registration 1.0 §2: signs its ID and logout tokens (absent: the OP's default alg). */
  readonly idTokenSignedResponseAlg?: 'ES256' | 'RS256' | 'PS256' | 'EdDSA'
  /** Refresh-token policy (absent: `rotate`, reuse revokes the family); see `refresh-policy.ts`. */
  readonly refreshTokenRotation?: 'rotate-with-grace' | 'none'
  /** With `rotate-with-grace`: seconds a rotated token may still be presented (1 to 60). */
  readonly refreshTokenGraceSeconds?: number
  readonly name: string
}

/** A user of the built-in account system. */
export interface AccountRecord {
  readonly sub: string
  readonly username: string
  /** PHC string from `hashPassword`. */
  readonly passwordHash?: string
  /** OpenID Connect claims (`name`, `email`, `email_verified`, …). */
  readonly claims: Readonly<Record<string, unknown>>
}

/** The validated authorization request an interaction is working on. */
export interface AuthorizationRequest {
  readonly clientId: string
  readonly redirectUri: string
  readonly scopes: readonly string[]
  readonly state?: string
  readonly nonce?: string
  readonly codeChallenge?: string
  readonly codeChallengeMethod?: PkceMethod
  readonly prompt: readonly ('none' | 'login' | 'consent')[]
  readonly maxAge?: number
  readonly loginHint?: string
  /** `acr_values`, or the `claims` request's `id_token.acr` values, in order of preference. */
  readonly acrValues?: readonly string[]
  /** The `claims` request asked for `acr` as essential: unmet, the request fails. */
  readonly acrEssential?: boolean
  /** RFC 9449 §10 `dpop_jkt`: the code may only be redeemed with a proof of this key. */
  readonly dpopJkt?: string
  /** RFC 8707 §2: the resources (`resource`) the grant is for; absent or empty: the OP's own. */
  readonly resources?: readonly string[]
  /**
   * The device authorization this interaction decides (Device Authorization Grant): its record
   * id and its user code as shown, spent already (so the consent page can show it for the person
   * to compare with the device). No redirect (`redirectUri` is empty); the user always confirms.
   */
  readonly device?: { readonly id: string; readonly userCode: string }
}

/** A login or consent in progress (a browser between the authorization request and the code). */
export interface InteractionRecord {
  readonly request: AuthorizationRequest
  /** Seconds since the epoch; the interaction dies `ttl.interaction` after this. */
  readonly createdAt: number
  /** Failed password attempts in this interaction; it ends after five. */
  readonly failedLogins?: number
  /** Set once the user has logged in during this interaction. */
  readonly accountId?: string
  readonly authTime?: number
  /** The OP session the user is signed in with (set with `accountId`). */
  readonly sid?: string
  /** The methods the user authenticated with (RFC 8176), set with `accountId`. */
  readonly amr?: readonly string[]
  /**
   * A first step passed and a second factor is due (the account has one, or the request's `acr`
   * needs one): who, and the methods so far. Nothing is signed in until it passes.
   */
  readonly partial?: {
    readonly accountId: string
    readonly amr: readonly string[]
    /** A step-up of this OP session: it is upgraded in place (same `sid`, no logout). */
    readonly sid?: string
  }
}

/** An OP login session (the `ak_op_session` cookie). */
export interface SessionRecord {
  readonly accountId: string
  /** Seconds since the epoch. */
  readonly authTime: number
  /**
   * The session's public id, the `sid` of its ID tokens (Front-/Back-Channel Logout §1.1, §2.1);
   * not the cookie's secret. A record without one (stored before 0.3) is not a live session.
   */
  readonly sid?: string
  /** The methods of the login (RFC 8176); absent for sessions stored before 0.4 (a password). */
  readonly amr?: readonly string[]
}

/** A validated end-session request awaiting the user's confirmation. */
export interface LogoutRequestRecord {
  readonly clientId?: string
  readonly postLogoutRedirectUri?: string
  readonly state?: string
  /** The OP session it was made in: only that session may confirm it. */
  readonly sid: string
  /** Seconds since the epoch. */
  readonly createdAt: number
}

/** What a code, a refresh token and the tokens they yield are bound to. */
export interface GrantBinding {
  readonly grantId: string
  readonly clientId: string
  readonly sub: string
  readonly scopes: readonly string[]
  readonly authTime: number
  /** The OP session the grant was made in (the ID tokens' `sid`); none for auto-login. */
  readonly sid?: string
  /** How the user authenticated (RFC 8176), for the tokens' `amr`. */
  readonly amr?: readonly string[]
  /** The assurance level asserted (the tokens' `acr`). */
  readonly acr?: string
  /** RFC 8707 §2: the resources authorized; its tokens are for these (absent: the OP's own). */
  readonly resources?: readonly string[]
}

/** An authorization code (stored under its hash, for at most 60 s). */
export interface CodeRecord extends GrantBinding {
  readonly redirectUri: string
  /** RFC 9449 §10: the DPoP key the code is bound to. */
  readonly dpopJkt?: string
  readonly nonce?: string
  readonly codeChallenge?: string
  readonly codeChallengeMethod?: PkceMethod
}

/** A refresh token (stored under its hash; one family per grant). */
export interface RefreshRecord extends GrantBinding {
  /** Seconds since the epoch; rotation never extends it. */
  readonly familyExpiresAt: number
  /** RFC 9449 §5: a public client's refresh token is bound to its DPoP key (thumbprint). */
  readonly jkt?: string
}

/**
 * A device authorization (RFC 8628 §3.1), stored under the hash of its `device_code` a little
 * longer than it lives, so that a late poll learns `expired_token` rather than `invalid_grant`.
 */
export interface DeviceRecord {
  readonly clientId: string
  readonly scopes: readonly string[]
  /** RFC 8707 §2: the resources the device asked for. */
  readonly resources?: readonly string[]
  /** The id of its user code's index record (deleted once the code is entered). */
  readonly userCodeId: string
  /** `approved`: a code record `device:<id>` holds the grant the poll redeems. */
  readonly status: 'pending' | 'approved' | 'denied'
  /** Seconds since the epoch. */
  readonly expiresAt: number
  /** Seconds the client must wait between polls; 5 more after each `slow_down` (§3.5). */
  readonly interval: number
  /** Milliseconds since the epoch of the last poll. */
  readonly lastPollAt?: number
}

/** A signing key (private JWK: protect the store accordingly). */
export interface SigningKeyRecord {
  readonly kid: string
  readonly alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA'
  /** Absent once the key is retired: a retired key only verifies. */
  readonly privateJwk?: Readonly<Record<string, unknown>>
  /** When a rotation retired it (ms); it stays published until its last tokens expire. */
  readonly retiredAt?: number
  readonly publicJwk: Readonly<Record<string, unknown>>
  /** Milliseconds since the epoch; the newest key of the configured algorithm signs. */
  readonly createdAt: number
}

/** Every record kind and its shape. */
export interface OpRecords {
  client: ClientRecord
  account: AccountRecord
  /** username → sub index. */
  username: { readonly sub: string }
  interaction: InteractionRecord
  session: SessionRecord
  /**
   * `${sid} ${clientId}`: this client got a code in that OP session, so logging the session out
   * must reach it. Its own record (no read-modify-write of the session: concurrent logins of two
   * clients in one browser cannot lose each other); found by listing the clients.
   */
  sessionClient: { readonly sub: string }
  /** `${sub} ${clientId}`: the user signed in to this client in a live OP session (admin logout). */
  userClient: { readonly sub: string }
  /** A logout waiting for the user to confirm it (end-session confirmation page). */
  logoutRequest: LogoutRequestRecord
  code: CodeRecord
  refresh: RefreshRecord
  /** A revoked grant id or access-token `jti`, kept as long as its tokens could live. */
  revocation: {
    readonly reason: string
    /** A rotated refresh token's marker: when it was rotated (ms), for the grace window. */
    readonly rotatedAt?: number
  }
  /** A device authorization, under the hash of its `device_code`. */
  device: DeviceRecord
  /** A user code (under the hash of its normal form) → its device authorization. */
  userCode: { readonly deviceId: string }
  /**
   * A pushed authorization request (RFC 9126), under the hash of its `request_uri` reference:
   * validated at the PAR endpoint, consumed once at the authorization endpoint.
   */
  pushed: { readonly request: AuthorizationRequest }
  /** A one-time CSRF token of an interaction form (stored under its hash). */
  csrf: { readonly uid: string }
  /** A browser a username signed in from with a password (see `known-browser.ts`). */
  knownBrowser: Readonly<Record<string, never>>
  /** `${sub} ${clientId}` → scopes the user agreed to. */
  consent: { readonly scopes: readonly string[] }
  key: SigningKeyRecord
  /**
   * A random key the OP seals its interaction cookies and MACs its CSRF tokens with, when it is
   * given no `secret`: shared by every instance over this store (never published, never signs).
   */
  sealKey: SealKeyRecord
}

/** A stored sealing key (see {@link OpRecords.sealKey}). */
export interface SealKeyRecord {
  readonly id: string
  /** 32 random bytes, base64url. */
  readonly secret: string
  /** Milliseconds since the epoch; the oldest key seals, every one opens. */
  readonly createdAt: number
}

/** The kinds {@link OpStore.list} serves: small sets, read at start and on rotation. */
export type ListableKind = 'key' | 'client' | 'sealKey'

/** The kinds of record. */
export type OpRecordKind = keyof OpRecords

/** The kinds of record that are used once ({@link OpStore.consume}). */
export type ConsumableKind = 'code' | 'refresh' | 'csrf' | 'userCode' | 'pushed'

/** Options of {@link OpStore.set}. */
export interface OpSetOptions {
  /** Lifetime in seconds; omitted means no expiry. */
  readonly ttlSeconds?: number
  /** Groups records for {@link OpStore.revokeFamily} (a grant id). */
  readonly family?: string
}

/** The result of {@link OpStore.consume}. */
export interface Consumed<T> {
  readonly value: T
  /** True when someone consumed it before: a replay. */
  readonly alreadyConsumed: boolean
}

/** Storage for the OP. Every method is async; implementations must be safe under concurrency. */
export interface OpStore {
  get<K extends OpRecordKind>(kind: K, id: string): Promise<OpRecords[K] | undefined>
  set<K extends OpRecordKind>(
    kind: K,
    id: string,
    value: OpRecords[K],
    options?: OpSetOptions,
  ): Promise<void>
  delete(kind: OpRecordKind, id: string): Promise<void>
  /**
   * Atomically marks a one-time record used and returns it, with whether it was used before;
   * `undefined` when absent or expired. Exactly one concurrent caller sees `alreadyConsumed: false`.
   */
  consume<K extends ConsumableKind>(
    kind: K,
    id: string,
  ): Promise<Consumed<OpRecords[K]> | undefined>
  /** Deletes every record set with this `family`, atomically. */
  revokeFamily(family: string): Promise<void>
  /**
   * Records the one-time use of `id` (a DPoP proof's or a client assertion's `jti`, hashed) for
   * `ttlSeconds`: true the first time, false while it is remembered. Atomic: exactly one of
   * concurrent calls with the same id gets true. A remembered id that expired counts as new.
   */
  useOnce(id: string, ttlSeconds: number): Promise<boolean>
  /** Every live record of a kind (used for small kinds: keys). */
  list<K extends ListableKind>(kind: K): Promise<OpRecords[K][]>
  /**
   * The limiter state of the same backend, so that every OP instance sharing this store shares
   * its rate limits (password attempts, token requests, user-code entry). Absent: per process.
   */
  readonly rateLimits?: RateLimitStore
}
