/**
 * `private_key_jwt` on the client (OIDC Core §9, RFC 7523 §2.2): a fresh JWT per request,
 * signed with the client's private key — `iss` = `sub` = the client id, `aud` the issuer
 * identifier (FAPI 2.0 Security Profile §5.3.2.1; the token endpoint URL without an issuer),
 * a random `jti`, `iat` now and `exp` 60 seconds later.
 *
 * @module
 */
import { importJWK, type JWK, SignJWT } from 'jose'
import { encodeBase64url } from '../core/base64url.ts'
import type { Clock } from '../core/clock.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import { AuthkestraError } from '../core/errors.ts'

/**
 * The algorithms the client signs assertions with.
 *
 * @example
 * ```ts
 * CLIENT_ASSERTION_ALGS.includes('ES256') // true
 * ```
 */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const

/** One of {@link CLIENT_ASSERTION_ALGS}. */
export type ClientAssertionAlg = (typeof CLIENT_ASSERTION_ALGS)[number]

/**
 * A private key as a JWK (RFC 7517): `kty`, the private member `d` and the public members, with
 * the `kid` the provider knows it by and, for RSA, the `alg` (`RS256` or `PS256`).
 */
export interface ClientPrivateJwk {
  readonly kty: 'EC' | 'RSA' | 'OKP'
  readonly d: string
  readonly kid?: string
  readonly alg?: ClientAssertionAlg
  readonly crv?: string
  readonly [member: string]: unknown
}

/** The client's signing key, checked: what each assertion is signed with. */
export interface ClientAssertionKey {
  readonly alg: ClientAssertionAlg
  readonly kid: string | undefined
  /** The key, imported once (a JWK on first use). */
  key(): Promise<CryptoKey>
}

const invalid = (message: string) => new AuthkestraError('config_invalid', message)

function algOfCryptoKey(key: CryptoKey): ClientAssertionAlg | undefined {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  if (algorithm.name === 'ECDSA')
    return algorithm.namedCurve === 'P-256'
      ? 'ES256'
      : algorithm.namedCurve === 'P-384'
        ? 'ES384'
        : undefined
  if (algorithm.name === 'Ed25519') return 'EdDSA'
  if (algorithm.hash?.name !== 'SHA-256') return undefined
  if (algorithm.name === 'RSASSA-PKCS1-v1_5') return 'RS256'
  return algorithm.name === 'RSA-PSS' ? 'PS256' : undefined
}

function algOfJwk(jwk: ClientPrivateJwk): ClientAssertionAlg | undefined {
  if (jwk.alg !== undefined)
    return (CLIENT_ASSERTION_ALGS as readonly string[]).includes(jwk.alg) ? jwk.alg : undefined
  if (jwk.kty === 'EC')
    return jwk.crv === 'P-256' ? 'ES256' : jwk.crv === 'P-384' ? 'ES384' : undefined
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? 'EdDSA' : undefined
}

/**
 * Checks `clientPrivateKey` (and `clientKeyId`) once, at construction: a private `CryptoKey`
 * usable for signing (ECDSA P-256/P-384, Ed25519, RSASSA-PKCS1-v1_5 or RSA-PSS with SHA-256),
 * or a private JWK (an RSA one with its `alg`). Throws `config_invalid` naming the field.
 *
 * @example
 * ```ts
 * const { privateKey } = await crypto.subtle.generateKey(
 *   { name: 'ECDSA', namedCurve: 'P-256' },
 *   false,
 *   ['sign', 'verify'],
 * )
 * export const key = clientAssertionKey(privateKey, 'key-1')
 * ```
 */
export function clientAssertionKey(
  privateKey: CryptoKey | ClientPrivateJwk,
  keyId?: string,
): ClientAssertionKey {
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId === ''))
    throw invalid('"clientKeyId" must be a non-empty string')
  if (typeof CryptoKey !== 'undefined' && privateKey instanceof CryptoKey) {
    const alg = algOfCryptoKey(privateKey)
    if (privateKey.type !== 'private' || !privateKey.usages.includes('sign') || !alg)
      throw invalid(
        '"clientPrivateKey" must be a private signing key (ECDSA P-256/P-384, Ed25519, RSASSA-PKCS1-v1_5 or RSA-PSS with SHA-256)',
      )
    return { alg, kid: keyId, key: async () => privateKey }
  }
  const jwk = privateKey as ClientPrivateJwk
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string')
    throw invalid('"clientPrivateKey" must be a CryptoKey or a private JWK (with "d")')
  const alg = algOfJwk(jwk)
  if (!alg)
    throw invalid(
      `"clientPrivateKey.alg" must be one of ${CLIENT_ASSERTION_ALGS.join(', ')} (an RSA JWK needs it)`,
    )
  const kid = keyId ?? jwk.kid
  let imported: Promise<CryptoKey> | undefined
  return {
    alg,
    kid,
    key: () => {
      imported ??= importJWK(jwk as JWK, alg).then((k) => k as CryptoKey)
      return imported
    },
  }
}

/** What one assertion is for. */
export interface AssertionFor {
  readonly clientId: string
  /** `aud`: the issuer identifier (or the token endpoint URL when there is no issuer). */
  readonly audience: string
  readonly clock: Clock
}

/**
 * Signs a fresh client assertion (never reused: each carries a new random `jti`).
 *
 * @example
 * ```ts
 * const assertion = await signClientAssertion(key, {
 *   clientId: 'my-client',
 *   audience: 'https://op.example',
 *   clock: { now: () => Date.now() },
 * })
 * ```
 */
export async function signClientAssertion(
  key: ClientAssertionKey,
  target: AssertionFor,
): Promise<string> {
  const now = Math.floor(target.clock.now() / 1000)
  return new SignJWT({ jti: encodeBase64url(defaultCrypto.randomBytes(18)) })
    .setProtectedHeader({ alg: key.alg, ...(key.kid === undefined ? {} : { kid: key.kid }) })
    .setIssuer(target.clientId)
    .setSubject(target.clientId)
    .setAudience(target.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(await key.key())
}
