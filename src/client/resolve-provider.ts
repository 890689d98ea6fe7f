/**
 * Checks a {@link ProviderConfig} once, at construction, and resolves its endpoints (explicit,
 * or from discovery) into what a flow uses on each call.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { DPOP_ALGORITHMS } from '../dpop/key.ts'
import { clientAssertionKey } from './client-assertion.ts'
import { checkFapi2Metadata } from './fapi2.ts'
import { SUPPORTED_ID_TOKEN_ALGS } from './id-token.ts'
import type { AuthorizationServerMetadata } from './metadata.ts'
import type { ClientAuthMethod, ProviderConfig } from './provider-config.ts'
import { checkEndpointUrl, discoveredUrlPolicy, type HttpPolicy } from './urls.ts'

/** The endpoints and policies of a provider, ready for use. */
export interface ResolvedProvider {
  readonly issuer: string | undefined
  readonly authorizationEndpoint: URL
  readonly tokenEndpoint: URL
  readonly userinfoEndpoint: URL | undefined
  readonly revocationEndpoint: URL | undefined
  readonly endSessionEndpoint: URL | undefined
  /** RFC 8628 §4 `device_authorization_endpoint`. */
  readonly deviceAuthorizationEndpoint: URL | undefined
  readonly jwksUri: URL | undefined
  /** RFC 9207: every authorization response must carry `iss`. */
  readonly issRequired: boolean
  readonly idTokenAlgorithms: readonly string[]
  readonly clientAuthMethod: ClientAuthMethod
  /** OIDC Discovery `claims_parameter_supported`: an essential `acr` can be asked for. */
  readonly claimsParameter: boolean
  /** Where logins push their authorization requests (RFC 9126); none: parameters in the URL. */
  readonly parEndpoint: URL | undefined
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/
const METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'none',
  'private_key_jwt',
]

/** The configured method, or the default: a secret → Basic, a private key → private_key_jwt. */
function defaultMethod(config: ProviderConfig): ClientAuthMethod {
  if (config.clientAuthMethod !== undefined) return config.clientAuthMethod
  if (config.clientSecret) return 'client_secret_basic'
  return config.clientPrivateKey === undefined ? 'none' : 'private_key_jwt'
}

/** `private_key_jwt` needs a usable `clientPrivateKey`; other methods none. */
function checkClientKey(config: ProviderConfig, method: ClientAuthMethod): void {
  if (method !== 'private_key_jwt') {
    if (config.clientPrivateKey !== undefined)
      throw configError(`"clientPrivateKey" is only used with clientAuthMethod "private_key_jwt"`)
    return
  }
  if (config.clientPrivateKey === undefined)
    throw configError('"clientPrivateKey" is required for clientAuthMethod "private_key_jwt"')
  clientAssertionKey(config.clientPrivateKey, config.clientKeyId)
}
/** Authorization parameters the flow sets itself, or whose effect the flow cannot check. */
export const RESERVED_AUTHORIZATION_PARAMS: ReadonlySet<string> = new Set([
  'response_type',
  'response_mode',
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
  'resource',
])

import { checkResources } from './resource-indicators.ts'

function configError(message: string): AuthkestraError {
  return new AuthkestraError('config_invalid', message)
}

/** True for RFC 6749 §3.3 scope tokens. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value)
}

/**
 * True for an `acr` or `amr` value as Authkestra takes them: 1 to 64 characters of the scope-token
 * set (printable ASCII without space, `"` or `\`), so one also fits a quoted challenge parameter.
 */
export function isAcrValue(value: unknown): value is string {
  return isScopeToken(value) && value.length <= 64
}

/** True for a list of 1 to 10 {@link isAcrValue} values (`acr_values`, a guard's `acr`). */
export function isAcrList(values: unknown): values is readonly string[] {
  return (
    Array.isArray(values) && values.length > 0 && values.length <= 10 && values.every(isAcrValue)
  )
}

/** Checks extra authorization parameters: strings, no reserved names, `max_age` numeric. */
export function checkAuthorizationParams(
  params: Readonly<Record<string, unknown>>,
  name: string,
): void {
  for (const [key, value] of Object.entries(params)) {
    if (RESERVED_AUTHORIZATION_PARAMS.has(key)) {
      throw configError(`"${name}.${key}" is set by the flow and cannot be overridden`)
    }
    if (typeof value !== 'string') throw configError(`"${name}.${key}" must be a string`)
    if (key === 'max_age' && !/^\d{1,9}$/.test(value)) {
      throw configError(`"${name}.max_age" must be a whole number of seconds`)
    }
  }
}

/** Synchronous checks of a provider config; throws `config_invalid` or `insecure_url`. */
/** `dpop`: a boolean, or `{ alg, extractable }` with an algorithm of `DPOP_ALGORITHMS`. */
function checkDpopOption(dpop: ProviderConfig['dpop']): void {
  if (dpop === undefined || typeof dpop === 'boolean') return
  if (typeof dpop !== 'object' || dpop === null)
    throw configError('"dpop" must be true, false or { alg, extractable }')
  if (dpop.alg !== undefined && !(DPOP_ALGORITHMS as readonly string[]).includes(dpop.alg))
    throw configError(`"dpop.alg" must be one of ${DPOP_ALGORITHMS.join(', ')}`)
  if (dpop.extractable !== undefined && typeof dpop.extractable !== 'boolean')
    throw configError('"dpop.extractable" must be true or false')
}

export function checkProviderConfig(config: ProviderConfig): void {
  if (typeof config !== 'object' || config === null)
    throw configError('provider config must be an object')
  if (typeof config.id !== 'string' || !ID.test(config.id)) {
    throw configError('"id" must be 1 to 64 characters of [A-Za-z0-9_-]')
  }
  if (typeof config.clientId !== 'string' || config.clientId === '') {
    throw configError(`"clientId" of provider "${config.id}" must be a non-empty string`)
  }
  const policy: HttpPolicy = config.allowInsecureHttp === true ? 'any' : 'loopback'
  if (config.redirectUri !== undefined) checkEndpointUrl(config.redirectUri, 'redirectUri', policy)
  if (config.clientAuthMethod !== undefined && !METHODS.includes(config.clientAuthMethod)) {
    throw configError(`"clientAuthMethod" must be one of ${METHODS.join(', ')}`)
  }
  const method = defaultMethod(config)
  checkClientKey(config, method)
  if (
    method !== 'none' &&
    method !== 'private_key_jwt' &&
    (typeof config.clientSecret !== 'string' || config.clientSecret === '')
  ) {
    throw configError(`"clientSecret" is required for clientAuthMethod "${method}"`)
  }
  checkDpopOption(config.dpop)
  checkResources(config.resource, 'resource')
  if (config.par !== undefined && typeof config.par !== 'boolean')
    throw configError('"par" must be true or false')
  if (config.pkce !== undefined && config.pkce !== 'S256' && config.pkce !== 'disabled-unsafe') {
    throw configError('"pkce" must be "S256" or "disabled-unsafe"')
  }
  const discovery =
    config.discovery ?? (config.issuer === undefined ? 'none' : 'openid-configuration')
  if (!['none', 'openid-configuration', 'oauth-authorization-server'].includes(discovery)) {
    throw configError(
      '"discovery" must be "openid-configuration", "oauth-authorization-server" or "none"',
    )
  }
  if (config.issuer !== undefined) {
    const issuer = checkEndpointUrl(config.issuer, 'issuer', policy)
    if (issuer.search !== '') throw configError('"issuer" must not contain a query (RFC 8414 §2)')
  } else if (discovery !== 'none') {
    throw configError(`"discovery" needs an "issuer"`)
  }
  if (discovery === 'none') {
    checkEndpointUrl(config.authorizationEndpoint, 'authorizationEndpoint', policy)
    checkEndpointUrl(config.tokenEndpoint, 'tokenEndpoint', policy)
    if (
      config.scopes?.includes('openid') &&
      (config.issuer === undefined || config.jwksUri === undefined)
    ) {
      throw configError('an "openid" provider without discovery needs "issuer" and "jwksUri"')
    }
  }
  for (const name of [
    'authorizationEndpoint',
    'tokenEndpoint',
    'userinfoEndpoint',
    'revocationEndpoint',
    'endSessionEndpoint',
    'deviceAuthorizationEndpoint',
    'pushedAuthorizationRequestEndpoint',
    'postLogoutRedirectUri',
    'jwksUri',
  ] as const) {
    if (config[name] !== undefined) checkEndpointUrl(config[name], name, policy)
  }
  if (config.scopes !== undefined && !config.scopes.every(isScopeToken)) {
    throw configError('"scopes" must be scope tokens (RFC 6749 §3.3)')
  }
  if (config.authorizationParams !== undefined) {
    checkAuthorizationParams(config.authorizationParams, 'authorizationParams')
  }
  if (
    config.idTokenAlgorithms?.some(
      (alg) => !(SUPPORTED_ID_TOKEN_ALGS as readonly string[]).includes(alg),
    )
  ) {
    throw configError(`"idTokenAlgorithms" may only list ${SUPPORTED_ID_TOKEN_ALGS.join(', ')}`)
  }
  const trusted = config.trustedAudiences
  if (
    trusted !== undefined &&
    (!Array.isArray(trusted) || !trusted.every((a) => typeof a === 'string' && a !== ''))
  ) {
    throw configError('"trustedAudiences" must be a list of non-empty strings')
  }
}

/** Merges explicit endpoints over discovered metadata (explicit wins). */
export function resolveProvider(
  config: ProviderConfig,
  metadata: AuthorizationServerMetadata | undefined,
): ResolvedProvider {
  checkFapi2Metadata(config, metadata)
  const insecure = config.allowInsecureHttp === true
  const configured: HttpPolicy = insecure ? 'any' : 'loopback'
  const published: HttpPolicy = metadata
    ? discoveredUrlPolicy(metadata.issuer, insecure)
    : configured
  const url = (
    explicit: string | undefined,
    discovered: string | undefined,
    name: string,
  ): URL | undefined => {
    if (explicit !== undefined) return checkEndpointUrl(explicit, name, configured)
    return discovered === undefined ? undefined : checkEndpointUrl(discovered, name, published)
  }
  const required = (value: URL | undefined, name: string): URL => {
    if (!value) throw configError(`provider "${config.id}" has no "${name}"`)
    return value
  }
  const listed = metadata?.id_token_signing_alg_values_supported?.filter((alg) =>
    (SUPPORTED_ID_TOKEN_ALGS as readonly string[]).includes(alg),
  )
  const methods = metadata?.token_endpoint_auth_methods_supported
  let clientAuthMethod: ClientAuthMethod = defaultMethod(config)
  if (
    config.clientAuthMethod === undefined &&
    clientAuthMethod === 'client_secret_basic' &&
    methods &&
    !methods.includes('client_secret_basic') &&
    methods.includes('client_secret_post')
  ) {
    clientAuthMethod = 'client_secret_post'
  }
  if (
    config.pkce !== 'disabled-unsafe' &&
    metadata?.code_challenge_methods_supported &&
    !metadata.code_challenge_methods_supported.includes('S256')
  ) {
    throw new AuthkestraError(
      'discovery_invalid',
      `provider "${config.id}" does not list S256 in "code_challenge_methods_supported"`,
    )
  }
  return {
    issuer: config.issuer ?? metadata?.issuer,
    authorizationEndpoint: required(
      url(config.authorizationEndpoint, metadata?.authorization_endpoint, 'authorizationEndpoint'),
      'authorizationEndpoint',
    ),
    tokenEndpoint: required(
      url(config.tokenEndpoint, metadata?.token_endpoint, 'tokenEndpoint'),
      'tokenEndpoint',
    ),
    userinfoEndpoint: url(config.userinfoEndpoint, metadata?.userinfo_endpoint, 'userinfoEndpoint'),
    revocationEndpoint: url(
      config.revocationEndpoint,
      metadata?.revocation_endpoint,
      'revocationEndpoint',
    ),
    endSessionEndpoint: url(
      config.endSessionEndpoint,
      metadata?.end_session_endpoint,
      'endSessionEndpoint',
    ),
    deviceAuthorizationEndpoint: url(
      config.deviceAuthorizationEndpoint,
      metadata?.device_authorization_endpoint,
      'deviceAuthorizationEndpoint',
    ),
    jwksUri: url(config.jwksUri, metadata?.jwks_uri, 'jwksUri'),
    issRequired:
      config.requireIssParameter === true ||
      metadata?.authorization_response_iss_parameter_supported === true,
    idTokenAlgorithms:
      config.idTokenAlgorithms ?? (listed && listed.length > 0 ? listed : ['RS256']),
    clientAuthMethod,
    claimsParameter: metadata?.claims_parameter_supported === true,
    parEndpoint: choosePar(
      config,
      metadata,
      url(
        config.pushedAuthorizationRequestEndpoint,
        metadata?.pushed_authorization_request_endpoint,
        'pushedAuthorizationRequestEndpoint',
      ),
    ),
  }
}

/**
 * Rule (RFC 9126 §5): push when the provider has a PAR endpoint unless `par: false`; `par: true`
 * needs one, and `par: false` cannot talk to a provider that requires PAR.
 */
function choosePar(
  config: ProviderConfig,
  metadata: AuthorizationServerMetadata | undefined,
  endpoint: URL | undefined,
): URL | undefined {
  if (config.par === false) {
    if (metadata?.require_pushed_authorization_requests === true)
      throw configError(
        `provider "${config.id}" requires pushed authorization requests, and "par" is false`,
      )
    return undefined
  }
  if (config.par === true && endpoint === undefined)
    throw configError(
      `provider "${config.id}" has "par: true" but no "pushedAuthorizationRequestEndpoint"`,
    )
  return endpoint
}
