/**
 * ID token validation (OpenID Connect Core §3.1.3.7) with jose: signature by a key from the
 * provider's JWKS, `alg` from an allow-list (never `none`), `iss`, `aud` (no untrusted extra
 * audiences), `azp`, `exp`, `iat` (small leeway), `nonce`, and `at_hash` when present.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 * @module
 */
import { errors as joseErrors, jwtVerify } from 'jose'
import type { Clock } from '../core/clock.ts'
import { AuthkestraError, type AuthkestraErrorCode } from '../core/errors.ts'
import type { JwtPayload, KeyResolver } from '../core/jwt-types.ts'
import { accessTokenHash } from '../core/token-hash.ts'
import { joseCause } from './jose-cause.ts'

/**
 * Asymmetric JWS algorithms an ID token may use; `idTokenAlgorithms` picks among them. `none` and
 * HMAC algorithms are never accepted.
 *
 * @example
 * ```ts
 * new OAuth2Flow({ ...config, idTokenAlgorithms: ['ES256'] }) // must be a subset of SUPPORTED_ID_TOKEN_ALGS
 * ```
 */
export const SUPPORTED_ID_TOKEN_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const

/** What the ID token must match. */
export interface IdTokenExpectations {
  readonly issuer: string
  readonly issuerAliases?: readonly string[]
  readonly clientId: string
  /** Audiences besides `clientId` that `aud` may name; any other one is refused. */
  readonly trustedAudiences?: readonly string[]
  readonly algorithms: readonly string[]
  /** The nonce sent at login; omitted at refresh. */
  readonly nonce?: string
  /** At refresh: the `sub` of the original login (OIDC Core §12.2). */
  readonly subject?: string
  /** At refresh: the `auth_time` of the original login, when it had one (OIDC Core §12.2). */
  readonly authTime?: number
  /** The `max_age` the login asked for: `auth_time` is then required and checked. */
  readonly maxAge?: number
  /** The `acr` values the login asked for as essential: `acr` must be one of them. */
  readonly acrValues?: readonly string[]
  /** Checks `at_hash` against it when the token carries one. */
  readonly accessToken?: string
  readonly clock: Clock
  readonly leewaySeconds: number
}

function fail(code: AuthkestraErrorCode, message: string, cause?: unknown): AuthkestraError {
  return new AuthkestraError(code, message, cause === undefined ? {} : { cause: joseCause(cause) })
}

function mapJoseError(err: unknown): unknown {
  if (err instanceof AuthkestraError) return err
  if (err instanceof joseErrors.JWTExpired)
    return fail('id_token_expired', 'ID token has expired', err)
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return fail('id_token_claim_invalid', `ID token "${err.claim}" claim is not acceptable`, err)
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return fail('id_token_alg_unsupported', 'ID token "alg" is not in the allow-list', err)
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return fail('id_token_key_not_found', 'no key in the provider JWKS matches the ID token', err)
  }
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return fail(
      'id_token_key_not_found',
      'several keys in the provider JWKS match the ID token',
      err,
    )
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return fail('id_token_signature_invalid', 'ID token signature is invalid', err)
  }
  if (err instanceof joseErrors.JWKSTimeout) {
    return fail('provider_timeout', 'JWKS endpoint did not answer in time', err)
  }
  if (
    err instanceof joseErrors.JWKSInvalid ||
    (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC')
  ) {
    return fail('provider_bad_response', 'JWKS endpoint returned an unusable key set', err)
  }
  return fail('id_token_invalid', 'ID token is not a valid JWT', err)
}

export { accessTokenHash } from '../core/token-hash.ts'

/** Verifies an ID token and returns its claims. */
export async function verifyIdToken(
  idToken: string,
  keys: KeyResolver,
  expected: IdTokenExpectations,
): Promise<JwtPayload> {
  const now = expected.clock.now()
  let payload: JwtPayload
  let alg: string
  try {
    const result = await jwtVerify(idToken, keys, {
      issuer: [expected.issuer, ...(expected.issuerAliases ?? [])],
      audience: expected.clientId,
      algorithms: [...expected.algorithms],
      clockTolerance: expected.leewaySeconds,
      currentDate: new Date(now),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    })
    payload = result.payload
    alg = result.protectedHeader.alg
    const typ = result.protectedHeader.typ
    // Token confusion (RFC 8725 §3.11): an access or logout token is not an ID token.
    if (typ !== undefined && !/^(application\/)?jwt$/i.test(typ)) {
      throw fail('id_token_invalid', `ID token "typ" header "${typ.slice(0, 32)}" is not JWT`)
    }
  } catch (err) {
    throw mapJoseError(err)
  }
  if ((payload.iat as number) > now / 1000 + expected.leewaySeconds) {
    throw fail('id_token_claim_invalid', 'ID token "iat" claim is in the future')
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw fail('id_token_claim_invalid', 'ID token "sub" claim must be a non-empty string')
  }
  if (expected.subject !== undefined && payload.sub !== expected.subject) {
    throw fail('id_token_claim_invalid', 'ID token "sub" claim is not the user who logged in')
  }
  if (
    expected.authTime !== undefined &&
    payload.auth_time !== undefined &&
    payload.auth_time !== expected.authTime
  ) {
    throw fail(
      'id_token_claim_invalid',
      'ID token "auth_time" claim differs from the original login',
    )
  }
  if (expected.maxAge !== undefined) {
    const authTime = payload.auth_time
    if (
      typeof authTime !== 'number' ||
      authTime + expected.maxAge + expected.leewaySeconds < now / 1000
    ) {
      throw fail(
        'id_token_claim_invalid',
        'ID token "auth_time" claim is missing or older than max_age',
      )
    }
  }
  if (
    expected.acrValues !== undefined &&
    !(typeof payload.acr === 'string' && expected.acrValues.includes(payload.acr))
  ) {
    // OIDC Core §5.5.1.1: an essential acr the OP did not meet fails the login.
    throw fail('id_token_claim_invalid', 'ID token "acr" claim is missing or not one requested')
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  const trusted = expected.trustedAudiences ?? []
  if (audiences.some((aud) => aud !== expected.clientId && !trusted.includes(aud as string))) {
    // OIDC Core §3.1.3.7 (3): extra audiences the client does not trust make the token unusable.
    throw fail('id_token_claim_invalid', 'ID token "aud" claim names an audience not trusted')
  }
  const multipleAudiences = audiences.length > 1
  if ((multipleAudiences || payload.azp !== undefined) && payload.azp !== expected.clientId) {
    throw fail('id_token_claim_invalid', 'ID token "azp" claim must be this client')
  }
  if (expected.nonce !== undefined && payload.nonce !== expected.nonce) {
    throw fail(
      'id_token_nonce_mismatch',
      'ID token "nonce" does not match the login that was started',
    )
  }
  if (payload.at_hash !== undefined && expected.accessToken !== undefined) {
    const computed = await accessTokenHash(expected.accessToken, alg)
    if (computed === undefined || payload.at_hash !== computed) {
      throw fail('id_token_claim_invalid', 'ID token "at_hash" does not match the access token')
    }
  }
  return payload
}
