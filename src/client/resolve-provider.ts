/**
 * Checks a {@link ProviderConfig} once, at construction, and resolves its endpoints (explicit,
 * or from discovery) into what a flow uses on each call.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { SUPPORTED_ID_TOKEN_ALGS } from './id-token.ts'
import type { AuthorizationServerMetadata } from './metadata.ts'
import type { ClientAuthMethod, ProviderConfig } from './provider-config.ts'
import { checkEndpointUrl } from './urls.ts'

/** The endpoints and policies of a provider, ready for use. */
export interface ResolvedProvider {
  readonly issuer: string | undefined
  readonly authorizationEndpoint: URL
  readonly tokenEndpoint: URL
  readonly userinfoEndpoint: URL | undefined
  readonly revocationEndpoint: URL | undefined
  readonly jwksUri: URL | undefined
  readonly issRequired: boolean
  readonly idTokenAlgorithms: readonly string[]
  readonly clientAuthMethod: ClientAuthMethod
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
const METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none']

function configError(message: string): AuthkestraError {
  return new AuthkestraError('config_invalid', message)
}

/** Synchronous checks of a provider config; throws `config_invalid` or `insecure_url`. */
export function checkProviderConfig(config: ProviderConfig): void {
  if (typeof config !== 'object' || config === null)
    throw configError('provider config must be an object')
  if (typeof config.id !== 'string' || !ID.test(config.id)) {
    throw configError('"id" must be 1 to 64 characters of [A-Za-z0-9_-]')
  }
  if (typeof config.clientId !== 'string' || config.clientId === '') {
    throw configError(`"clientId" of provider "${config.id}" must be a non-empty string`)
  }
  const insecure = config.allowInsecureHttp === true
  // The redirect URI is ours: plain http only on loopback, like endpoints.
  checkEndpointUrl(config.redirectUri, 'redirectUri', insecure)
  if (config.clientAuthMethod !== undefined && !METHODS.includes(config.clientAuthMethod)) {
    throw configError(`"clientAuthMethod" must be one of ${METHODS.join(', ')}`)
  }
  const method = config.clientAuthMethod ?? (config.clientSecret ? 'client_secret_basic' : 'none')
  if (
    method !== 'none' &&
    (typeof config.clientSecret !== 'string' || config.clientSecret === '')
  ) {
    throw configError(`"clientSecret" is required for clientAuthMethod "${method}"`)
  }
  if (config.pkce !== undefined && config.pkce !== 'S256' && config.pkce !== 'disabled-unsafe') {
    throw configError('"pkce" must be "S256" or "disabled-unsafe"')
  }
  if (config.issuer !== undefined) checkEndpointUrl(config.issuer, 'issuer', insecure)
  const explicit = config.authorizationEndpoint !== undefined || config.tokenEndpoint !== undefined
  if (config.issuer === undefined || explicit) {
    checkEndpointUrl(config.authorizationEndpoint, 'authorizationEndpoint', insecure)
    checkEndpointUrl(config.tokenEndpoint, 'tokenEndpoint', insecure)
  }
  for (const name of ['userinfoEndpoint', 'revocationEndpoint', 'jwksUri'] as const) {
    if (config[name] !== undefined) checkEndpointUrl(config[name], name, insecure)
  }
  if (
    config.scopes !== undefined &&
    !config.scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))
  ) {
    throw configError('"scopes" must be scope tokens (RFC 6749 §3.3)')
  }
  if (
    config.idTokenAlgorithms?.some(
      (alg) => !(SUPPORTED_ID_TOKEN_ALGS as readonly string[]).includes(alg),
    )
  ) {
    throw configError(`"idTokenAlgorithms" may only list ${SUPPORTED_ID_TOKEN_ALGS.join(', ')}`)
  }
}

function optionalUrl(value: string | undefined, name: string, insecure: boolean): URL | undefined {
  return value === undefined ? undefined : checkEndpointUrl(value, name, insecure)
}

/** Merges explicit endpoints over discovered metadata (explicit wins). */
export function resolveProvider(
  config: ProviderConfig,
  metadata: AuthorizationServerMetadata | undefined,
): ResolvedProvider {
  const insecure = config.allowInsecureHttp === true
  const pick = (explicit: string | undefined, discovered: string | undefined): string | undefined =>
    explicit ?? discovered
  const authorization = pick(config.authorizationEndpoint, metadata?.authorization_endpoint)
  const token = pick(config.tokenEndpoint, metadata?.token_endpoint)
  const listed = metadata?.id_token_signing_alg_values_supported?.filter((alg) =>
    (SUPPORTED_ID_TOKEN_ALGS as readonly string[]).includes(alg),
  )
  const algorithms = config.idTokenAlgorithms ?? (listed && listed.length > 0 ? listed : ['RS256'])
  const methods = metadata?.token_endpoint_auth_methods_supported
  let clientAuthMethod: ClientAuthMethod =
    config.clientAuthMethod ?? (config.clientSecret ? 'client_secret_basic' : 'none')
  if (
    config.clientAuthMethod === undefined &&
    config.clientSecret &&
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
    authorizationEndpoint: checkEndpointUrl(authorization, 'authorizationEndpoint', insecure),
    tokenEndpoint: checkEndpointUrl(token, 'tokenEndpoint', insecure),
    userinfoEndpoint: optionalUrl(
      pick(config.userinfoEndpoint, metadata?.userinfo_endpoint),
      'userinfoEndpoint',
      insecure,
    ),
    revocationEndpoint: optionalUrl(
      pick(config.revocationEndpoint, metadata?.revocation_endpoint),
      'revocationEndpoint',
      insecure,
    ),
    jwksUri: optionalUrl(pick(config.jwksUri, metadata?.jwks_uri), 'jwksUri', insecure),
    issRequired: metadata?.authorization_response_iss_parameter_supported === true,
    idTokenAlgorithms: algorithms,
    clientAuthMethod,
  }
}
