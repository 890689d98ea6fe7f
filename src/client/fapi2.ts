/**
 * The FAPI 2.0 Security Profile (final, February 2025) for a client: `securityProfile: 'fapi2'`
 * on a provider config. The rules below run in order when the flow is made, each naming what
 * cannot meet the profile (all problems at once, `config_invalid`); a config that passes gets
 * the profile's settings: PAR always, DPoP always, `iss` required in every authorization
 * response, ID tokens in PS256, ES256 or EdDSA only. Against the provider's metadata, the flow
 * then checks that it offers what the profile needs, and every token response must be
 * sender-constrained (`token_type: DPoP`).
 *
 * What the flow already does for every provider is not repeated: PKCE S256, `state` and `nonce`
 * of 256 bits, the client assertion's `aud` the issuer string, exact `iss` checks.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import {
  FAPI2_ALLOWED as allowed,
  FAPI2_ALGORITHMS,
  isFapi2Algorithm as isFapiAlg,
} from '../core/fapi2.ts'
import { clientAssertionKey } from './client-assertion.ts'
import type { AuthorizationServerMetadata } from './metadata.ts'
import type { ProviderConfig } from './provider-config.ts'
import type { TokenSet } from './tokens.ts'

/** The security profiles a provider config can ask for. */
export type ClientSecurityProfile = 'fapi2'

/** §5.4.1: the only algorithms of every signature under the profile. */
export const FAPI2_CLIENT_ALGORITHMS = FAPI2_ALGORITHMS

type Rule = (config: ProviderConfig) => readonly string[]

/**
 * Rule (§5.3.3.1, client authentication by mTLS or `private_key_jwt`; the flow has the latter):
 * the client signs assertions with its own key, in an allowed algorithm (§5.4.1), and holds no
 * shared secret.
 */
function privateKeyJwt(config: ProviderConfig): string[] {
  const problems: string[] = []
  if (config.clientSecret !== undefined)
    problems.push('"clientSecret" is set; FAPI 2.0 clients authenticate with private_key_jwt')
  if (config.clientAuthMethod !== undefined && config.clientAuthMethod !== 'private_key_jwt')
    problems.push(
      `"clientAuthMethod" is ${config.clientAuthMethod}; FAPI 2.0 needs private_key_jwt`,
    )
  if (config.clientPrivateKey === undefined) {
    problems.push('"clientPrivateKey" is required (FAPI 2.0 clients use private_key_jwt)')
    return problems
  }
  let alg: string | undefined
  try {
    alg = clientAssertionKey(config.clientPrivateKey, config.clientKeyId).alg
  } catch (err) {
    problems.push((err as Error).message)
  }
  if (alg !== undefined && !isFapiAlg(alg))
    problems.push(`"clientPrivateKey" signs ${alg}; FAPI 2.0 allows ${allowed}`)
  return problems
}

/** Rule (§5.3.3.2: "shall use pushed authorization requests"). */
function pushedRequests(config: ProviderConfig): string[] {
  return config.par === false ? ['"par" is false; FAPI 2.0 clients push their requests'] : []
}

/** Rule (§5.3.3.1: sender-constrained access tokens, by DPoP here), in an allowed algorithm. */
function senderConstrained(config: ProviderConfig): string[] {
  if (config.dpop === false) return ['"dpop" is false; FAPI 2.0 needs sender-constrained tokens']
  const alg = typeof config.dpop === 'object' ? config.dpop.alg : undefined
  return alg !== undefined && !isFapiAlg(alg)
    ? [`"dpop.alg" is ${alg}; FAPI 2.0 allows ${allowed}`]
    : []
}

/** Rule (§5.3.3.2: PKCE with S256). */
function pkce(config: ProviderConfig): string[] {
  return config.pkce === 'disabled-unsafe' ? ['"pkce" is disabled; FAPI 2.0 requires S256'] : []
}

/**
 * Rule (§5.3.3.2, RFC 9207: the client checks `iss` in the authorization response): the
 * provider has an issuer and `iss` is never optional.
 */
function issuerChecked(config: ProviderConfig): string[] {
  const problems: string[] = []
  if (config.issuer === undefined)
    problems.push('"issuer" is required (FAPI 2.0 clients check iss, RFC 9207)')
  if (config.requireIssParameter === false)
    problems.push('"requireIssParameter" is false; FAPI 2.0 clients check iss (RFC 9207)')
  return problems
}

/** Rule (§5.4.1): ID tokens are accepted in an allowed algorithm only. */
function idTokenAlgorithms(config: ProviderConfig): string[] {
  const bad = (config.idTokenAlgorithms ?? []).filter((alg) => !isFapiAlg(alg))
  return bad.length > 0
    ? [`"idTokenAlgorithms" lists ${bad.join(', ')}; FAPI 2.0 allows ${allowed}`]
    : []
}

/** Rule (§5.3.3.1, RFC 9700 §4.1): TLS everywhere; plain http only on loopback (development). */
function tls(config: ProviderConfig): string[] {
  const problems: string[] = []
  if (config.allowInsecureHttp === true)
    problems.push('"allowInsecureHttp" is true; FAPI 2.0 needs TLS')
  if (config.redirectUri !== undefined && !config.redirectUri.startsWith('https:')) {
    const host = URL.canParse(config.redirectUri) ? new URL(config.redirectUri).hostname : ''
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host))
      problems.push('"redirectUri" is not https; FAPI 2.0 redirects over TLS')
  }
  return problems
}

/** The rules, in the order they run. */
export const FAPI2_CLIENT_RULES: readonly Rule[] = [
  privateKeyJwt,
  pushedRequests,
  senderConstrained,
  pkce,
  issuerChecked,
  idTokenAlgorithms,
  tls,
]

/**
 * Runs the rules over `config`: `config_invalid` with every problem, or the config the flow
 * runs on (the profile's settings filled in).
 *
 * @example
 * ```ts
 * const effective = fapi2ProviderConfig({ ...bank, securityProfile: 'fapi2' })
 * ```
 */
export function fapi2ProviderConfig(config: ProviderConfig): ProviderConfig {
  const problems = FAPI2_CLIENT_RULES.flatMap((rule) => rule(config))
  if (problems.length > 0)
    throw new AuthkestraError(
      'config_invalid',
      `provider "${config.id}" cannot meet the FAPI 2.0 Security Profile: ${problems.join('; ')}`,
    )
  return {
    ...config,
    clientAuthMethod: 'private_key_jwt',
    par: true,
    dpop: config.dpop ?? true,
    requireIssParameter: true,
    idTokenAlgorithms: config.idTokenAlgorithms ?? [...FAPI2_CLIENT_ALGORITHMS],
  }
}

/** The config a flow runs on: as given, or with its security profile applied. */
export function applySecurityProfile(config: ProviderConfig): ProviderConfig {
  if (config?.securityProfile === undefined) return config
  if (config.securityProfile !== 'fapi2')
    throw new AuthkestraError('config_invalid', '"securityProfile" must be "fapi2" when set')
  return fapi2ProviderConfig(config)
}

/**
 * Rule (§5.3.3.1): the provider's metadata offers what the profile needs: `private_key_jwt`
 * and the flow's DPoP algorithm, where it lists them (PAR and `iss` are checked by the flow).
 */
export function checkFapi2Metadata(
  config: ProviderConfig,
  metadata: AuthorizationServerMetadata | undefined,
): void {
  if (config.securityProfile !== 'fapi2' || metadata === undefined) return
  const problems: string[] = []
  const methods = metadata.token_endpoint_auth_methods_supported
  if (methods !== undefined && !methods.includes('private_key_jwt'))
    problems.push('it does not list private_key_jwt in "token_endpoint_auth_methods_supported"')
  const dpopAlgs = metadata.dpop_signing_alg_values_supported
  const alg = (typeof config.dpop === 'object' ? config.dpop.alg : undefined) ?? 'ES256'
  if (dpopAlgs === undefined) problems.push('it does not advertise DPoP')
  else if (Array.isArray(dpopAlgs) && !dpopAlgs.includes(alg))
    problems.push(`it does not accept DPoP proofs in ${alg}`)
  if (problems.length > 0)
    throw new AuthkestraError(
      'discovery_invalid',
      `provider "${config.id}" cannot serve a FAPI 2.0 client: ${problems.join('; ')}`,
    )
}

/**
 * Rule (§5.3.3.1: sender-constrained tokens only): a token response for a FAPI 2.0 client is
 * `token_type: DPoP`; a provider that answers Bearer ignored the proof, and its tokens are not
 * used.
 */
export function checkSenderConstrained(
  config: ProviderConfig,
  tokens: Pick<TokenSet, 'tokenType'>,
): void {
  if (config.securityProfile === 'fapi2' && tokens.tokenType !== 'DPoP')
    throw new AuthkestraError(
      'provider_bad_response',
      `provider "${config.id}" issued a bearer token to a FAPI 2.0 client (token_type must be DPoP)`,
    )
}
