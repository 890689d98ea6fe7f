/**
 * What a flow needs to know about one provider and this app's registration with it. Built-in
 * providers (`authkestra/providers`) are functions that return one of these; any OAuth 2.0
 * server can be described by hand, any OpenID Provider by its issuer alone.
 *
 * @module
 */

import type { DpopAlgorithm } from '../dpop/key.ts'
import type { ClientPrivateJwk } from './client-assertion.ts'
import type { ClientSecurityProfile } from './fapi2.ts'
import type { Claims, ProfileMapper } from './identity.ts'

/** How the client authenticates at the token endpoint (RFC 6749 §2.3, OIDC Core §9). */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'none'
  | 'private_key_jwt'

/** A GET helper handed to {@link ProviderConfig.enrichClaims}: the flow's capped, timed HTTP, JSON out. */
export type AuthorizedGet = (url: string) => Promise<unknown>

/** Provider behaviour that departs from the RFCs, declared instead of coded per provider. */
export interface ProviderQuirks {
  /** Separator of `scope` in requests (default `' '`). */
  readonly scopeSeparator?: string
  /** Separator of `scope` in token responses (default: `scopeSeparator`). */
  readonly grantedScopeSeparator?: string
  /** Extra headers for every call to the provider's APIs (userinfo, profile). */
  readonly apiHeaders?: Readonly<Record<string, string>>
  /** Other `iss` values the provider's ID tokens use for the same issuer (Google's bare host). */
  readonly idTokenIssuerAliases?: readonly string[]
}

/** One provider and the app's client registration there. */
export interface ProviderConfig {
  /** Short id used in URLs, cookies and {@link Identity.provider} (`[a-z0-9_-]`, 1–64 chars). */
  readonly id: string
  /** Display name (default: the id). */
  readonly name?: string
  /**
   * Issuer identifier. With it, metadata comes from discovery (explicit endpoints below override
   * single values); it is also what `iss` (RFC 9207) and ID-token `iss` are checked against.
   */
  readonly issuer?: string
  /**
   * Which discovery document to read: `'openid-configuration'` (the default with an issuer),
   * `'oauth-authorization-server'` (RFC 8414), or `'none'` (endpoints all given here; the
   * default without an issuer).
   */
  readonly discovery?: 'openid-configuration' | 'oauth-authorization-server' | 'none'
  /** Without discovery: the provider always sends `iss` in authorization responses (RFC 9207). */
  readonly requireIssParameter?: boolean
  readonly authorizationEndpoint?: string
  readonly tokenEndpoint?: string
  readonly userinfoEndpoint?: string
  readonly revocationEndpoint?: string
  /** RP-Initiated Logout 1.0 `end_session_endpoint` (default: from discovery). */
  readonly endSessionEndpoint?: string
  /** RFC 8628 `device_authorization_endpoint` (default: from discovery). */
  readonly deviceAuthorizationEndpoint?: string
  /** RFC 9126 `pushed_authorization_request_endpoint` (default: from discovery). */
  readonly pushedAuthorizationRequestEndpoint?: string
  readonly jwksUri?: string
  readonly clientId: string
  readonly clientSecret?: string | undefined
  /**
   * Default: `client_secret_basic` with a secret, `private_key_jwt` with a `clientPrivateKey`,
   * `none` with neither.
   */
  readonly clientAuthMethod?: ClientAuthMethod
  /**
   * `private_key_jwt` (OIDC Core §9): the private key assertions are signed with — a private
   * `CryptoKey` (best non-extractable; its algorithm gives `alg`: ECDSA P-256 → ES256, P-384 →
   * ES384, Ed25519 → EdDSA, RSASSA-PKCS1-v1_5 → RS256, RSA-PSS → PS256, SHA-256 hashes) or a
   * private JWK with `kid` (and `alg`, required for RSA). Its public key is registered at the
   * provider (`jwks` or `jwks_uri`).
   */
  readonly clientPrivateKey?: CryptoKey | ClientPrivateJwk
  /** The `kid` header of assertions signed with a `CryptoKey` (a JWK's own `kid` otherwise). */
  readonly clientKeyId?: string
  /**
   * The callback URL registered at the provider, sent as `redirect_uri`: required for logins
   * through the browser (`initiateLogin`), not for the device flow.
   */
  readonly redirectUri?: string
  /**
   * RP-Initiated Logout 1.0: the `post_logout_redirect_uri` registered at the provider. With it
   * (and an `end_session_endpoint`), the engine's logout also ends the session at the provider,
   * and the engine keeps each session's ID token, for that `id_token_hint` only.
   */
  readonly postLogoutRedirectUri?: string
  /**
   * Back-Channel Logout 1.0: the app registered `{basePath}/backchannel-logout/{id}` as this
   * client's `backchannel_logout_uri` at the provider; the engine then serves it and remembers
   * each login's `sid` to end the right sessions.
   */
  readonly backchannelLogout?: boolean
  /**
   * Front-Channel Logout 1.0: the app registered `{basePath}/frontchannel-logout/{id}` as this
   * client's `frontchannel_logout_uri` (with `frontchannel_logout_session_required`); the engine
   * serves it and remembers each login's `sid`.
   */
  readonly frontchannelLogout?: boolean
  /** Scopes asked for when a login names none. With `openid`, the flow is OpenID Connect. */
  readonly scopes?: readonly string[]
  /** Fixed extra authorization parameters for every login (e.g. Google's `access_type`). */
  readonly authorizationParams?: Readonly<Record<string, string>>
  /** ID token `alg` allow-list (default: what discovery lists, else `RS256`; never `none`). */
  readonly idTokenAlgorithms?: readonly string[]
  /**
   * Audiences besides `clientId` that an ID token's `aud` may also name (default none). OIDC Core
   * §3.1.3.7 requires refusing ID tokens with audiences the client does not trust, so an ID token
   * minted for a group of clients is only accepted when every other member is listed here.
   */
  readonly trustedAudiences?: readonly string[]
  /**
   * `'S256'` (the default, always on). `'disabled-unsafe'` turns PKCE off, only for a provider
   * that rejects the parameters: its logins then lose protection against code injection.
   */
  readonly pkce?: 'S256' | 'disabled-unsafe'
  /**
   * DPoP (RFC 9449): every grant sends a proof signed by a fresh key pair (ES256 unless `alg`
   * says otherwise; non-extractable unless `extractable`), so the tokens are bound to it; the key
   * comes back as `TokenSet.dpopKey`, and refresh, userinfo and `fetchProtectedResource` sign
   * with it. Server nonces are handled.
   */
  readonly dpop?: boolean | { readonly alg?: DpopAlgorithm; readonly extractable?: boolean }
  /**
   * Pushed Authorization Requests (RFC 9126): by default every login pushes its parameters when
   * the provider has a PAR endpoint, and the browser gets only `client_id` and `request_uri`.
   * `true` insists (`config_invalid` without an endpoint); `false` never pushes (refused when
   * the provider requires PAR).
   */
  readonly par?: boolean
  /**
   * `'fapi2'`: the FAPI 2.0 Security Profile (see docs/fapi2.md). The flow refuses a config that
   * cannot meet it, naming each problem (`private_key_jwt` with a PS256, ES256 or EdDSA key, PAR
   * and DPoP not switched off, an issuer), then always pushes its requests, sends DPoP proofs,
   * requires `iss` in authorization responses, accepts ID tokens in PS256, ES256 or EdDSA only,
   * and refuses a token response that is not `token_type: DPoP`. (Named apart from `profile`,
   * which maps claims.)
   */
  readonly securityProfile?: ClientSecurityProfile
  /**
   * RFC 8707: the API(s) the login's access token is for, sent as `resource` (absolute URIs
   * without fragment). The token request names the first; refresh with `resource` for another.
   */
  readonly resource?: string | readonly string[]
  /**
   * Fetch userinfo after an OIDC login (default true when there is a userinfo endpoint, false
   * after a login with `resource`: that access token is for the API, not for userinfo).
   */
  readonly fetchUserinfo?: boolean
  /** Maps claims to the normalized profile (default: OIDC standard claims). */
  readonly profile?: ProfileMapper
  /** Adds claims after userinfo, using authenticated GETs (GitHub's verified emails). */
  readonly enrichClaims?: (claims: Claims, get: AuthorizedGet) => Promise<Claims>
  readonly quirks?: ProviderQuirks
  /** Accept plain `http:` endpoints off loopback. Never in production. */
  readonly allowInsecureHttp?: boolean
}
