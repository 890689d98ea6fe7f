/**
 * The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1): fresh `state`
 * and `nonce`, the PKCE pair, and the URL that carries them, with the flow state to keep.
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { Pkce } from '../core/pkce.ts'
import { randomToken } from '../core/random.ts'
import type { FlowState } from './flow-state.ts'
import type { PushedAuthorizationRequest } from './par.ts'
import type { ProviderConfig } from './provider-config.ts'
import {
  checkAuthorizationParams,
  isAcrList,
  isScopeToken,
  type ResolvedProvider,
} from './resolve-provider.ts'
import { appendResources, checkResources } from './resource-indicators.ts'
import { isSafeReturnTo } from './return-to.ts'

/** Options of one login. */
export interface InitiateLoginOptions {
  /** Scopes for this login (default: the provider's). */
  readonly scopes?: readonly string[]
  /** Where to go afterwards: a same-origin path (`/dashboard`); anything else is refused. */
  readonly returnTo?: string
  /**
   * More authorization parameters (`prompt`, `login_hint`, `max_age`, …); the ones the flow sets
   * or cannot check (`state`, `response_mode`, …) are refused. A `max_age` is enforced on the ID
   * token's `auth_time`.
   */
  readonly extraParams?: Readonly<Record<string, string>>
  /**
   * Authentication context classes the login must reach (OIDC Core §5.5.1.1), in order of
   * preference: sent as an essential `acr` claims request where the provider supports the claims
   * parameter, else as `acr_values`; either way the ID token's `acr` must be one of them (else
   * `id_token_claim_invalid`).
   */
  readonly acrValues?: readonly string[]
  /** RFC 8707: the API(s) this login's token is for (default: the provider's `resource`). */
  readonly resource?: string | readonly string[]
}

/** The start of a login: where to send the user, and what to keep for the callback. */
export interface LoginStart {
  readonly url: URL
  readonly flowState: FlowState
}

const OIDC_DEFAULT_SCOPES = ['openid', 'profile', 'email']

/**
 * The scopes to ask for: the call's, else the config's, else `openid profile email` for an
 * OpenID Provider (none otherwise); `config_invalid` unless they are scope tokens.
 */
export function scopesToAsk(
  config: Pick<ProviderConfig, 'scopes' | 'issuer'>,
  given: readonly string[] | undefined,
): readonly string[] {
  const scopes = given ?? config.scopes ?? (config.issuer !== undefined ? OIDC_DEFAULT_SCOPES : [])
  if (!scopes.every(isScopeToken))
    throw new AuthkestraError('config_invalid', '"scopes" must be scope tokens (RFC 6749 §3.3)')
  return scopes
}

/** What a new login needs besides the config: time, and the push to a PAR endpoint. */
export interface StartDeps {
  readonly clock: Clock
  readonly ttlMs: number
  /** Pushes the parameters to the provider's PAR endpoint (RFC 9126), when it has one. */
  readonly push?: (endpoint: URL, params: URLSearchParams) => Promise<PushedAuthorizationRequest>
}

/**
 * Builds the authorization URL and the flow state of a new login. With a PAR endpoint, the
 * parameters are pushed and the URL carries only `client_id` and `request_uri` (RFC 9126 §4);
 * a push made with DPoP leaves its key in the flow state (RFC 9449 §10.1).
 */
export async function startLogin(
  config: ProviderConfig,
  provider: ResolvedProvider,
  options: InitiateLoginOptions,
  deps: StartDeps,
): Promise<LoginStart> {
  const redirectUri = config.redirectUri
  if (redirectUri === undefined)
    throw new AuthkestraError(
      'config_invalid',
      `provider "${config.id}" has no "redirectUri": a login through the browser needs one`,
    )
  const scopes = scopesToAsk(config, options.scopes)
  if (options.returnTo !== undefined && !isSafeReturnTo(options.returnTo)) {
    throw new AuthkestraError(
      'return_to_invalid',
      '"returnTo" must be a same-origin path such as "/account"',
    )
  }
  const extra = { ...config.authorizationParams, ...options.extraParams }
  checkAuthorizationParams(extra, 'extraParams')
  const acrValues = checkAcrValues(options.acrValues)
  const resources = checkResources(options.resource ?? config.resource, 'resource')
  if (acrValues !== undefined && !scopes.includes('openid'))
    throw new AuthkestraError(
      'config_invalid',
      '"acrValues" needs an OpenID Connect login (scope openid): only an ID token says how the user authenticated',
    )
  // An essential acr where the provider takes the claims parameter; else acr_values (voluntary:
  // some OPs, oidc-provider among them, let acr_values replace an essential claims request).
  if (acrValues !== undefined && provider.claimsParameter)
    extra.claims = JSON.stringify({ id_token: { acr: { essential: true, values: acrValues } } })
  else if (acrValues !== undefined) extra.acr_values = acrValues.join(' ')
  const state = randomToken()
  const nonce = randomToken()
  const pkce = config.pkce === 'disabled-unsafe' ? undefined : await Pkce.generate()
  const url = new URL(provider.authorizationEndpoint)
  const params = url.searchParams
  for (const [name, value] of Object.entries(extra)) params.set(name, value)
  params.set('response_type', 'code')
  params.set('client_id', config.clientId)
  params.set('redirect_uri', redirectUri)
  if (scopes.length > 0) params.set('scope', scopes.join(config.quirks?.scopeSeparator ?? ' '))
  params.set('state', state)
  if (scopes.includes('openid')) params.set('nonce', nonce)
  appendResources(params, resources)
  if (pkce) {
    params.set('code_challenge', pkce.codeChallenge)
    params.set('code_challenge_method', pkce.codeChallengeMethod)
  }
  const flowState: FlowState = {
    providerId: config.id,
    state,
    nonce,
    ...(pkce ? { codeVerifier: pkce.codeVerifier } : {}),
    redirectUri,
    scopes: [...scopes],
    ...(options.returnTo === undefined ? {} : { returnTo: options.returnTo }),
    ...(extra.max_age === undefined ? {} : { maxAge: Number(extra.max_age) }),
    ...(acrValues === undefined ? {} : { acrValues }),
    ...(resources === undefined ? {} : { resources }),
    expiresAt: deps.clock.now() + deps.ttlMs,
  }
  if (provider.parEndpoint === undefined) return { url, flowState }
  if (deps.push === undefined)
    throw new AuthkestraError('config_invalid', 'pushed authorization requests need a push')
  const pushed = await deps.push(provider.parEndpoint, params)
  const short = new URL(provider.authorizationEndpoint)
  short.searchParams.set('client_id', config.clientId)
  short.searchParams.set('request_uri', pushed.requestUri)
  // A push with DPoP may have bound the code to its key: the token exchange must prove it.
  return {
    url: short,
    flowState: pushed.dpopKey === undefined ? flowState : { ...flowState, dpopKey: pushed.dpopKey },
  }
}

/** `acrValues`: 1 to 10 acr values (see `isAcrValue`). */
function checkAcrValues(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  if (!isAcrList(values))
    throw new AuthkestraError('config_invalid', '"acrValues" must be 1 to 10 acr values')
  return [...new Set(values)]
}
