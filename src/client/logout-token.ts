/**
 * Logout token validation (OpenID Connect Back-Channel Logout 1.0 §2.6), the checks in order:
 * the signature by a key of the provider's JWKS with an allowed `alg`, `iss`, `aud`, `exp` and
 * `iat` as for an ID token (§2.6 step 3, with the same small leeway); the type (§2.4: explicit
 * `logout+jwt`, or an untyped JWT, never another kind of token); a recent `iat`; `sub` and/or
 * `sid`; the `events` member; no `nonce` (§2.4: what keeps an ID token from passing as a logout
 * token); a `jti` (§2.4, for the caller's replay check).
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 * @module
 */
import { errors as joseErrors, jwtVerify } from 'jose'
import { AuthkestraError } from '../core/errors.ts'
import type { JwtPayload, KeyResolver } from '../core/jwt-types.ts'
import type { IdTokenExpectations } from './id-token.ts'

/** §2.4: the member of `events` that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
/** How old a logout token may be (its `iat`): OPs make them live about two minutes. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300

/** What a logout token must match: what an ID token of the same provider must. */
export type LogoutTokenExpectations = Pick<
  IdTokenExpectations,
  | 'issuer'
  | 'issuerAliases'
  | 'clientId'
  | 'trustedAudiences'
  | 'algorithms'
  | 'clock'
  | 'leewaySeconds'
>

/** Who a valid logout token logs out, and what identifies it. */
export interface LogoutTokenClaims {
  readonly sub?: string
  readonly sid?: string
  readonly jti: string
  /** Seconds since the epoch. */
  readonly exp: number
}

const invalid = (message: string, cause?: unknown): AuthkestraError =>
  new AuthkestraError('logout_token_invalid', message, cause === undefined ? {} : { cause })

/** §2.6 step 3: what jose checks (signature, alg, iss, aud, exp, iat present). */
async function checkSignatureAndClaims(
  token: string,
  keys: KeyResolver,
  expected: LogoutTokenExpectations,
): Promise<{ payload: JwtPayload; typ: string | undefined }> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys, {
      issuer: [expected.issuer, ...(expected.issuerAliases ?? [])],
      audience: expected.clientId,
      algorithms: [...expected.algorithms],
      clockTolerance: expected.leewaySeconds,
      currentDate: new Date(expected.clock.now()),
      requiredClaims: ['iss', 'aud', 'iat', 'exp'],
    })
    return { payload, typ: protectedHeader.typ }
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalid('logout token has expired', err)
    if (err instanceof joseErrors.JWTClaimValidationFailed)
      throw invalid(`logout token "${err.claim}" claim is not acceptable`, err)
    if (err instanceof joseErrors.JOSEAlgNotAllowed)
      throw invalid('logout token "alg" is not in the allow-list', err)
    if (err instanceof joseErrors.JOSEError) throw invalid('logout token is not valid', err)
    throw err
  }
}

/** §2.4 explicit typing: `logout+jwt`, or untyped; an access token or any other kind is not. */
function checkType(typ: string | undefined): void {
  if (typ === undefined || /^(application\/)?(logout\+)?jwt$/i.test(typ)) return
  throw invalid(`logout token "typ" header "${typ.slice(0, 32)}" is not logout+jwt`)
}

/** OIDC Core §3.1.3.7 as for ID tokens: no audience the client does not trust. */
function checkAudiences(payload: JwtPayload, expected: LogoutTokenExpectations): void {
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  const trusted = new Set([expected.clientId, ...(expected.trustedAudiences ?? [])])
  if (!audiences.every((a) => typeof a === 'string' && trusted.has(a)))
    throw invalid('logout token "aud" names an audience this client does not trust')
}

/** §2.6 step 3: `iat` neither in the future nor older than the token's kind allows. */
function checkIssuedAt(payload: JwtPayload, expected: LogoutTokenExpectations): void {
  const now = expected.clock.now() / 1000
  const iat = payload.iat as number
  if (iat > now + expected.leewaySeconds) throw invalid('logout token "iat" is in the future')
  if (iat < now - LOGOUT_TOKEN_MAX_AGE_SECONDS - expected.leewaySeconds)
    throw invalid('logout token "iat" is too old')
}

/** §2.6 step 4: a `sub`, a `sid`, or both, as non-empty strings. */
function checkSubjectOrSession(payload: JwtPayload): { sub?: string; sid?: string } {
  const { sub, sid } = payload as { sub?: unknown; sid?: unknown }
  const ok = (v: unknown) =>
    v === undefined || (typeof v === 'string' && v !== '' && v.length <= 255)
  if (!ok(sub) || !ok(sid) || (sub === undefined && sid === undefined))
    throw invalid('logout token must name a "sub" or a "sid"')
  return {
    ...(sub === undefined ? {} : { sub: sub as string }),
    ...(sid === undefined ? {} : { sid: sid as string }),
  }
}

/** §2.6 step 5: `events` is an object with the back-channel logout member, itself an object. */
function checkEvents(payload: JwtPayload): void {
  const events = payload.events
  const event =
    typeof events === 'object' && events !== null && !Array.isArray(events)
      ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT]
      : undefined
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw invalid('logout token "events" has no back-channel logout event')
}

/** §2.6 step 6: no `nonce`, so that an ID token never passes as a logout token. */
function checkNoNonce(payload: JwtPayload): void {
  if (payload.nonce !== undefined) throw invalid('logout token must not contain "nonce"')
}

/** §2.4: a `jti`, for the caller's replay check (§2.6 step 7). */
function checkJti(payload: JwtPayload): string {
  const { jti } = payload
  if (typeof jti !== 'string' || jti === '' || jti.length > 255)
    throw invalid('logout token must have a "jti"')
  return jti
}

/**
 * Validates a logout token; throws `logout_token_invalid` saying which check failed.
 *
 * @example
 * ```ts
 * const { sid, sub, jti } = await verifyLogoutToken(token, jwks, { issuer, clientId, algorithms: ['ES256'], clock, leewaySeconds: 30 })
 * ```
 */
export async function verifyLogoutToken(
  token: string,
  keys: KeyResolver,
  expected: LogoutTokenExpectations,
): Promise<LogoutTokenClaims> {
  const { payload, typ } = await checkSignatureAndClaims(token, keys, expected)
  checkType(typ)
  checkAudiences(payload, expected)
  checkIssuedAt(payload, expected)
  const who = checkSubjectOrSession(payload)
  checkEvents(payload)
  checkNoNonce(payload)
  const jti = checkJti(payload)
  return { ...who, jti, exp: payload.exp as number }
}
