/**
 * The keys of `private_key_jwt` clients (OIDC Core §9, RFC 7523 §2.2): registration of `jwks`
 * (public keys only) or `jwks_uri` (https), `token_endpoint_auth_signing_alg`, and the OP's
 * `clientAssertion` options, all checked at start with messages that name the field.
 *
 * @module
 */
import { checkHttpsUrl } from './clients.ts'
import { configError, type OpClientConfig, type OpConfig } from './config.ts'
import type { ClientRecord } from './store/types.ts'

/** The asymmetric algorithms a client assertion may be signed with; never `none` or `HS*`. */
export const CLIENT_ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const

/** One of {@link CLIENT_ASSERTION_ALGORITHMS}. */
export type ClientAssertionAlgorithm = (typeof CLIENT_ASSERTION_ALGORITHMS)[number]

/** A public JWK as registered: `kty` and its public members, plus `kid`, `use`, `alg`. */
export type PublicJwk = Readonly<Record<string, unknown>> & { readonly kty: string }

/** Members that only a private or a symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/** The key types an assertion algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1). */
export const KTY_OF: Readonly<Record<ClientAssertionAlgorithm, string>> = {
  ES256: 'EC',
  ES384: 'EC',
  PS256: 'RSA',
  RS256: 'RSA',
  EdDSA: 'OKP',
}

/**
 * Why a JWK cannot be a client's public signing key, or undefined when it can: an object with
 * a `kty` of EC, RSA or OKP, no private or symmetric member, `use` (if any) `sig`, `alg` (if
 * any) an allowed one.
 *
 * @example
 * ```ts
 * unfitPublicJwk({ kty: 'oct', k: 'c2VjcmV0' }) // 'is a symmetric key'
 * ```
 */
export function unfitPublicJwk(jwk: unknown): string | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'must be a JWK object'
  const key = jwk as Record<string, unknown>
  if (key.kty === 'oct' || 'k' in key) return 'is a symmetric key'
  if (PRIVATE_JWK_MEMBERS.some((m) => m in key)) return 'holds private key members'
  if (key.kty !== 'EC' && key.kty !== 'RSA' && key.kty !== 'OKP')
    return '"kty" must be EC, RSA or OKP'
  if (key.use !== undefined && key.use !== 'sig') return '"use" must be "sig"'
  if (key.kid !== undefined && (typeof key.kid !== 'string' || key.kid === ''))
    return '"kid" must be a non-empty string'
  if (
    key.alg !== undefined &&
    key.alg !== 'Ed25519' &&
    !(CLIENT_ASSERTION_ALGORITHMS as readonly unknown[]).includes(key.alg)
  )
    return `"alg" must be one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`
  return undefined
}

function checkJwks(value: unknown, at: string): { keys: readonly PublicJwk[] } {
  const keys = (value as { keys?: unknown } | null)?.keys
  if (typeof value !== 'object' || value === null || !Array.isArray(keys) || keys.length === 0)
    throw configError(`"${at}.jwks" must be a JWK Set { "keys": [...] } with at least one key`)
  for (const [i, key] of keys.entries()) {
    const why = unfitPublicJwk(key)
    if (why) throw configError(`"${at}.jwks.keys[${i}]" ${why}`)
  }
  const kids = keys.map((k) => (k as { kid?: string }).kid).filter((k) => k !== undefined)
  if (new Set(kids).size !== kids.length)
    throw configError(`"${at}.jwks" has two keys with the same "kid"`)
  return { keys: structuredClone(keys) as PublicJwk[] }
}

/**
 * Rule (RFC 7591 §2, OIDC Registration §2): a `private_key_jwt` client has exactly one of
 * `jwks` and `jwks_uri`, no `client_secret`, and optionally a `token_endpoint_auth_signing_alg`
 * (never `none`); other clients have none of these.
 *
 * @example
 * ```ts
 * const keys = checkClientKeys(config, 'clients[0]', 'private_key_jwt')
 * ```
 */
export function checkClientKeys(
  config: OpClientConfig,
  at: string,
  method: ClientRecord['tokenEndpointAuthMethod'],
): Pick<ClientRecord, 'jwks' | 'jwksUri' | 'tokenEndpointAuthSigningAlg'> {
  const { jwks, jwks_uri: jwksUri, token_endpoint_auth_signing_alg: alg } = config
  if (method !== 'private_key_jwt') {
    for (const [name, value] of Object.entries({
      jwks,
      jwks_uri: jwksUri,
      token_endpoint_auth_signing_alg: alg,
    })) {
      if (value !== undefined)
        throw configError(`"${at}.${name}" needs token_endpoint_auth_method "private_key_jwt"`)
    }
    return {}
  }
  if (config.client_secret !== undefined)
    throw configError(`"${at}.client_secret" is forbidden with "private_key_jwt"`)
  if ((jwks === undefined) === (jwksUri === undefined))
    throw configError(`"${at}" must have exactly one of "jwks" and "jwks_uri"`)
  if (alg !== undefined && !(CLIENT_ASSERTION_ALGORITHMS as readonly unknown[]).includes(alg))
    throw configError(
      `"${at}.token_endpoint_auth_signing_alg" must be one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`,
    )
  return {
    ...(jwks === undefined ? {} : { jwks: checkJwks(jwks, at) }),
    ...(jwksUri === undefined ? {} : { jwksUri: checkHttpsUrl(jwksUri, `${at}.jwks_uri`) }),
    ...(alg === undefined ? {} : { tokenEndpointAuthSigningAlg: alg }),
  }
}

/** `clientAssertion` as the OP runs it. */
export interface ResolvedClientAssertion {
  readonly algorithms: readonly ClientAssertionAlgorithm[]
  readonly maxLifetimeSeconds: number
  readonly clockToleranceSeconds: number
  readonly jwksUri: {
    readonly timeoutMs: number
    readonly maxBytes: number
    readonly cacheSeconds: number
    readonly minRefetchSeconds: number
  }
  readonly fetch: typeof fetch
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number) {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    throw configError(`"${field}" must be an integer from ${min} to ${max}`)
  return value as number
}

/**
 * Checks `clientAssertion`: the algorithms (default ES256, PS256, EdDSA, RS256, ES384), the
 * longest lifetime (`exp - iat`, default 300 s), the clock tolerance (default 5 s) and how
 * `jwks_uri` documents are fetched.
 *
 * @example
 * ```ts
 * const resolved = resolveClientAssertion({ maxLifetimeSeconds: 120 })
 * ```
 */
export function resolveClientAssertion(
  options: OpConfig['clientAssertion'],
): ResolvedClientAssertion {
  const field = 'clientAssertion'
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw configError(`"${field}" must be an object`)
  const algorithms = options?.algorithms ?? ['ES256', 'PS256', 'EdDSA', 'RS256', 'ES384']
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((a) => (CLIENT_ASSERTION_ALGORITHMS as readonly unknown[]).includes(a))
  )
    throw configError(
      `"${field}.algorithms" may only list ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`,
    )
  const uri = options?.jwksUri
  if (options?.fetch !== undefined && typeof options.fetch !== 'function')
    throw configError(`"${field}.fetch" must be a function`)
  return {
    algorithms: [...algorithms],
    maxLifetimeSeconds: integer(
      options?.maxLifetimeSeconds,
      `${field}.maxLifetimeSeconds`,
      10,
      3600,
      300,
    ),
    clockToleranceSeconds: integer(
      options?.clockToleranceSeconds,
      `${field}.clockToleranceSeconds`,
      0,
      60,
      5,
    ),
    jwksUri: {
      timeoutMs: integer(uri?.timeoutMs, `${field}.jwksUri.timeoutMs`, 100, 30_000, 5000),
      maxBytes: integer(uri?.maxBytes, `${field}.jwksUri.maxBytes`, 1024, 1_048_576, 65_536),
      cacheSeconds: integer(uri?.cacheSeconds, `${field}.jwksUri.cacheSeconds`, 0, 86_400, 300),
      minRefetchSeconds: integer(
        uri?.minRefetchSeconds,
        `${field}.jwksUri.minRefetchSeconds`,
        0,
        3600,
        30,
      ),
    },
    fetch: options?.fetch ?? ((input, init) => fetch(input, init)),
  }
}
