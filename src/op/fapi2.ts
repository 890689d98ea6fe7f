/**
 * The FAPI 2.0 Security Profile (OpenID FAPI 2.0 Security Profile, final, February 2025) as an OP
 * configuration: `createOp({ profile: 'fapi2' })`. At start, the rules below run in order over
 * the configuration; each names what cannot meet the profile, and the OP refuses to start with
 * every problem listed at once. A configuration that passes is then given the profile's
 * defaults (PAR required, DPoP-bound tokens for every client, FAPI algorithms only, no refresh
 * token rotation, clock skew of 10 seconds), and the endpoints read `settings.profile` where the
 * profile asks more of a request than the OP's defaults (a client assertion's `aud` is the
 * issuer string only; discovery advertises only what the profile allows).
 *
 * What the OP already does for every client, profile or not, is not repeated here: PKCE is
 * required (S256 unless a client opts in to plain, which this profile refuses), `redirect_uri`
 * is required and matched exactly, only `response_type=code` in query mode, `iss` in every
 * authorization response (RFC 9207), authorization codes live at most 60 seconds and are used
 * once, and the password and implicit grants do not exist. docs/fapi2.md maps each clause.
 *
 * @module
 */
import {
  FAPI2_ALGORITHMS as ALGORITHMS,
  FAPI2_ALLOWED as allowed,
  FAPI2_CLOCK_SKEW_SECONDS,
  fapi2SkewProblem,
  isFapi2Algorithm as isFapiAlg,
} from '../core/fapi2.ts'
import type { OpClientConfig, OpConfig } from './config.ts'
import { configError } from './config.ts'
import { DEVICE_CODE_GRANT } from './store/types.ts'

/** The security profiles an OP can run under. */
export type OpProfile = 'fapi2'

/**
 * §5.4.1: the algorithms the profile allows for every signature (RSA keys are ≥ 2048 bits).
 *
 * @example
 * ```ts
 * await createOp({ issuer, profile: 'fapi2', signingAlgs: [...FAPI2_ALGORITHMS] })
 * ```
 */
export const FAPI2_ALGORITHMS = ALGORITHMS

/** One rule: the problems it finds, each a sentence naming the field. */
type Rule = (config: OpConfig) => readonly string[]

const clientsOf = (config: OpConfig) =>
  (config.clients ?? []).map((client, i) => ({
    client,
    at: `clients[${i}]${typeof client?.client_id === 'string' ? ` ("${client.client_id}")` : ''}`,
  }))

/** The method a client authenticates with, as client registration would default it. */
function methodOf(client: OpClientConfig): string {
  if (client.token_endpoint_auth_method !== undefined) return client.token_endpoint_auth_method
  if (client.client_secret !== undefined) return 'client_secret_basic'
  return client.jwks !== undefined || client.jwks_uri !== undefined ? 'private_key_jwt' : 'none'
}

/**
 * Rule (§5.3.2.1: "shall only support confidential clients"; §5.3.2.1 client authentication by
 * mTLS or `private_key_jwt`, of which the OP has `private_key_jwt`): every client authenticates
 * with a key pair; public clients and shared secrets are refused.
 */
function confidentialPrivateKeyJwtClients(config: OpConfig): string[] {
  return clientsOf(config).flatMap(({ client, at }) => {
    const method = methodOf(client)
    if (method === 'none')
      return [`${at} is a public client; FAPI 2.0 allows only confidential clients`]
    if (method !== 'private_key_jwt')
      return [`${at} authenticates with ${method}; FAPI 2.0 needs private_key_jwt`]
    return []
  })
}

/**
 * Rule (§5.3.2.1: "shall only issue sender-constrained access tokens", by DPoP here): no client
 * may opt out of `dpop_bound_access_tokens`.
 */
function senderConstrainedTokens(config: OpConfig): string[] {
  return clientsOf(config).flatMap(({ client, at }) =>
    client.dpop_bound_access_tokens === false
      ? [`${at}.dpop_bound_access_tokens is false; FAPI 2.0 issues only sender-constrained tokens`]
      : [],
  )
}

/** Rule (§5.3.2.2: "shall require pushed authorization requests"). */
function pushedAuthorizationRequests(config: OpConfig): string[] {
  const problems: string[] = []
  if (config.par?.required === false)
    problems.push('"par.required" is false; FAPI 2.0 requires pushed authorization requests')
  for (const { client, at } of clientsOf(config)) {
    if (client.require_pushed_authorization_requests === false)
      problems.push(
        `${at}.require_pushed_authorization_requests is false; FAPI 2.0 requires pushed authorization requests`,
      )
  }
  return problems
}

/** Rule (§5.3.2.2: PKCE with S256 only): no client may accept `plain`. */
function pkceS256(config: OpConfig): string[] {
  return clientsOf(config).flatMap(({ client, at }) =>
    client.pkce_plain === undefined
      ? []
      : [`${at}.pkce_plain is set; FAPI 2.0 requires PKCE with S256`],
  )
}

/**
 * Rule (§5.4.1: PS256, ES256 or EdDSA with Ed25519 for every signature): the OP's signing keys,
 * DPoP proofs, client assertions and each client's ID-token algorithm.
 */
function fapiAlgorithms(config: OpConfig): string[] {
  const problems: string[] = []
  const lists: [string, readonly unknown[] | undefined][] = [
    ['signingAlgs', config.signingAlgs],
    ['dpop.algorithms', config.dpop?.algorithms],
    ['clientAssertion.algorithms', config.clientAssertion?.algorithms],
  ]
  if (config.signingAlg !== undefined && !isFapiAlg(config.signingAlg))
    problems.push(`"signingAlg" is ${config.signingAlg}; FAPI 2.0 allows ${allowed}`)
  for (const [field, list] of lists) {
    const bad = (list ?? []).filter((alg) => !isFapiAlg(alg))
    if (bad.length > 0)
      problems.push(`"${field}" lists ${bad.join(', ')}; FAPI 2.0 allows ${allowed}`)
  }
  for (const { client, at } of clientsOf(config)) {
    for (const field of [
      'id_token_signed_response_alg',
      'token_endpoint_auth_signing_alg',
    ] as const)
      if (client[field] !== undefined && !isFapiAlg(client[field]))
        problems.push(`${at}.${field} is ${client[field]}; FAPI 2.0 allows ${allowed}`)
  }
  return problems
}

/**
 * Rule (§5.3.2.1, §5.3.3: the profile secures the authorization code flow with a browser the
 * user can see): the Device Authorization Grant, open to remote phishing (RFC 8628 §5.4), is
 * not offered.
 */
function noDeviceGrant(config: OpConfig): string[] {
  return clientsOf(config).flatMap(({ client, at }) =>
    (client.grant_types ?? []).includes(DEVICE_CODE_GRANT)
      ? [`${at}.grant_types lists the device code grant, which FAPI 2.0 does not allow`]
      : [],
  )
}

/**
 * Rule (§5.3.2.1, RFC 9700 §4.1: the authorization code must not cross the network in clear):
 * redirect URIs use https, even on loopback.
 */
function httpsRedirectUris(config: OpConfig): string[] {
  return clientsOf(config).flatMap(({ client, at }) =>
    (client.redirect_uris ?? []).flatMap((uri, j) =>
      typeof uri === 'string' && !uri.startsWith('https:')
        ? [`${at}.redirect_uris[${j}] is not https; FAPI 2.0 clients redirect over https only`]
        : [],
    ),
  )
}

/**
 * Rule (§5.3.2.1 clock skew: accept `iat`/`nbf` up to 10 seconds ahead, reject 60 seconds or
 * more ahead): the tolerances of client assertions and DPoP proofs lie in 10 to 59 seconds.
 */
function clockSkew(config: OpConfig): string[] {
  return [
    ...fapi2SkewProblem(
      'clientAssertion.clockToleranceSeconds',
      config.clientAssertion?.clockToleranceSeconds,
    ),
    ...fapi2SkewProblem('dpop.clockToleranceSeconds', config.dpop?.clockToleranceSeconds),
  ]
}

/** The rules, in the order they run. */
export const FAPI2_RULES: readonly Rule[] = [
  confidentialPrivateKeyJwtClients,
  senderConstrainedTokens,
  pushedAuthorizationRequests,
  pkceS256,
  fapiAlgorithms,
  noDeviceGrant,
  httpsRedirectUris,
  clockSkew,
]

/**
 * The profile's defaults, over a configuration that passed the rules: what is not set takes the
 * profile's value (what is set was checked to be allowed).
 */
function withFapi2Defaults(config: OpConfig): OpConfig {
  const dpopAlgs = config.dpop?.algorithms ?? [...FAPI2_ALGORITHMS]
  const assertionAlgs = config.clientAssertion?.algorithms ?? [...FAPI2_ALGORITHMS]
  return {
    ...config,
    ...(config.signingAlg === undefined
      ? { signingAlgs: config.signingAlgs ?? ['ES256', 'PS256'] }
      : {}),
    par: { ...config.par, required: true },
    dpop: {
      ...config.dpop,
      algorithms: dpopAlgs,
      clockToleranceSeconds: config.dpop?.clockToleranceSeconds ?? FAPI2_CLOCK_SKEW_SECONDS,
    },
    clientAssertion: {
      ...config.clientAssertion,
      algorithms: assertionAlgs,
      clockToleranceSeconds:
        config.clientAssertion?.clockToleranceSeconds ?? FAPI2_CLOCK_SKEW_SECONDS,
    },
    // §5.3.2.1: "shall not use refresh token rotation except in extraordinary circumstances";
    // every client here is confidential, so its refresh tokens are bound to its key.
    refreshTokens: { ...config.refreshTokens, rotation: config.refreshTokens?.rotation ?? 'none' },
    clients: (config.clients ?? []).map((client) => ({
      ...client,
      token_endpoint_auth_method: 'private_key_jwt' as const,
      dpop_bound_access_tokens: true,
    })),
  }
}

/**
 * Runs the FAPI 2.0 rules over `config`; throws `config_invalid` listing every problem, else
 * answers the configuration with the profile's defaults filled in.
 *
 * @example
 * ```ts
 * const effective = applyFapi2Profile(config) // throws: 'clients[0] ("web") is a public client; …'
 * ```
 */
export function applyFapi2Profile(config: OpConfig): OpConfig {
  const problems = FAPI2_RULES.flatMap((rule) => rule(config))
  if (problems.length > 0)
    throw configError(
      `the configuration cannot meet the FAPI 2.0 Security Profile: ${problems.join('; ')}`,
    )
  return withFapi2Defaults(config)
}

/** Checks `profile` and applies it: the configuration the OP then runs on. */
export function applyProfile(config: OpConfig): OpConfig {
  if (config.profile === undefined) return config
  if (config.profile !== 'fapi2') throw configError('"profile" must be "fapi2" when set')
  return applyFapi2Profile(config)
}
