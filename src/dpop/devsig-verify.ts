/**
 * Checking a device request signature (docs/devsig.md §Verification) once the attestation has
 * named the key (`cnf.jkt`): an ordered list of named checks, one stable code each. The key's
 * thumbprint is compared before the signature is checked, the signature before any claim is
 * trusted, and the `jti` is recorded last, so a request failing any other check never fills
 * the replay cache. A replay cache that fails is `store_unavailable`: the guard fails closed.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { type Clock, systemClock } from '../core/clock.ts'
import { type CryptoBackend, defaultCrypto } from '../core/crypto/index.ts'
import {
  type BodyBytes,
  bodyHash,
  DEVSIG_MAX_LIFETIME_SECONDS,
  DEVSIG_TYP,
  pathOf,
  queryHash,
} from './devsig-wire.ts'
import { DPOP_ALGORITHMS, publicMembers } from './key.ts'
import {
  checkKeyJwsHeader,
  checkKeyJwsSignature,
  type DecodedKeyJws,
  decodeKeyJws,
  jwkThumbprint,
} from './key-jws.ts'
import type { ReplayCache } from './replay.ts'

/**
 * The stable codes of a refused devsig request, in the order the guard checks (docs/devsig.md).
 *
 * @example
 * ```ts
 * const code: DevsigErrorCode = 'body_mismatch'
 * ```
 */
export type DevsigErrorCode =
  | 'attestation_missing'
  | 'attestation_invalid'
  | 'attestation_expired'
  | 'signature_missing'
  | 'signature_invalid'
  | 'key_mismatch'
  | 'signature_stale'
  | 'method_mismatch'
  | 'path_mismatch'
  | 'audience_mismatch'
  | 'query_mismatch'
  | 'body_mismatch'
  | 'replayed'
  | 'store_unavailable'
  | 'keys_unavailable'

/**
 * Why a devsig request was refused: its stable code and a description safe to send (never a
 * header value).
 *
 * @example
 * ```ts
 * try {
 *   await verifyDevsigSignature(signature, expected)
 * } catch (err) {
 *   if (err instanceof DevsigRejected) console.log(err.code) // e.g. 'replayed'
 * }
 * ```
 */
export class DevsigRejected extends Error {
  override name = 'DevsigRejected'
  constructor(
    readonly code: DevsigErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** What a request signature must match. */
export interface DevsigExpectations {
  /** The `cnf.jkt` of the verified attestation. */
  readonly jkt: string
  readonly method: string
  /** The URL the client addressed (its path and query are compared). */
  readonly url: string | URL
  /** The body bytes as received (none: the empty body). */
  readonly body?: BodyBytes | undefined
  /** The API's identifiers: `aud` must be one of them. */
  readonly audience: readonly string[]
  /** Where `jti`s are remembered; one that throws makes the request `store_unavailable`. */
  readonly replay: ReplayCache
  /** Allowed `alg`s (default: all of `DPOP_ALGORITHMS`). */
  readonly algorithms?: readonly string[]
  /** How old a signature may be, 1 to 60 seconds (default 60). */
  readonly maxAgeSeconds?: number
  /** How far ahead `iat` may be and past `exp` a signature may arrive, seconds (default 5). */
  readonly clockToleranceSeconds?: number
  readonly clock?: Clock
  readonly crypto?: CryptoBackend
}

/** A request signature that passed. */
export interface VerifiedDevsigSignature {
  readonly jti: string
  readonly iat: number
  readonly exp: number
}

const MAX_SIGNATURE_LENGTH = 8192
const LABEL = 'request signature'
const reject = (code: DevsigErrorCode, message: string) => new DevsigRejected(code, message)
const invalid = (message: string) => reject('signature_invalid', message)

/** Rule (RFC 7515 §7.1): a compact JWS with JSON header and payload; its header as in DPoP. */
function checkShape(signature: string, algorithms: readonly string[]): DecodedKeyJws {
  const decoded = decodeKeyJws(signature, MAX_SIGNATURE_LENGTH)
  if (!decoded) throw invalid('malformed request signature')
  const typ = DEVSIG_TYP.signature
  checkKeyJwsHeader(decoded.header, { typ, algorithms, label: LABEL, fail: invalid })
  return decoded
}

/** Rule (key binding, like RFC 9449 §6.1): the signing key's RFC 7638 thumbprint is `cnf.jkt`. */
async function checkKeyBinding(
  header: Record<string, unknown>,
  jkt: string,
  crypto: CryptoBackend,
): Promise<Record<string, string>> {
  const jwk = publicMembers(header.jwk as Record<string, unknown>)
  if (!jwk) throw invalid('request signature "jwk" is not a supported public key')
  const thumbprint = new TextEncoder().encode(await jwkThumbprint(jwk, crypto))
  if (!crypto.timingSafeEqual(thumbprint, new TextEncoder().encode(jkt)))
    throw reject('key_mismatch', 'the request is not signed by the attested key')
  return jwk
}

/** Rule (RFC 7515 §5.2): the signature verifies with the attested key, for its own `alg`. */
function checkSignature(
  signature: string,
  header: Record<string, unknown>,
  jwk: Record<string, string>,
  crypto: CryptoBackend,
): Promise<void> {
  return checkKeyJwsSignature(signature, header.alg as string, jwk, crypto, () =>
    invalid('the request signature is invalid'),
  )
}

/**
 * Rule (freshness): `iat` and `exp` are integers, `exp` after `iat` by at most 60 s, `iat` not
 * ahead of now (beyond the tolerance) nor older than the maximum age, `exp` not passed.
 */
function checkFreshness(payload: Record<string, unknown>, expected: DevsigExpectations) {
  const { iat, exp, jti } = payload
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
    throw invalid('request signature "jti" is missing or too long')
  if (!Number.isInteger(iat) || !Number.isInteger(exp))
    throw invalid('request signature "iat" and "exp" are required')
  const [issued, expires] = [iat as number, exp as number]
  const now = (expected.clock ?? systemClock).now() / 1000
  const skew = expected.clockToleranceSeconds ?? 5
  const stale = (message: string) => reject('signature_stale', message)
  if (expires <= issued || expires - issued > DEVSIG_MAX_LIFETIME_SECONDS)
    throw stale('request signature lifetime must be 1 to 60 seconds')
  if (issued > now + skew) throw stale('request signature "iat" is in the future')
  if (issued < now - (expected.maxAgeSeconds ?? 60)) throw stale('request signature is too old')
  if (expires < now - skew) throw stale('request signature has expired')
  return { jti, iat: issued, exp: expires }
}

/** Rule: `htm` is the request's method. */
function checkMethod(payload: Record<string, unknown>, method: string): void {
  if (payload.htm !== method.toUpperCase())
    throw reject('method_mismatch', 'request signature "htm" does not match')
}

/** Rule: `htp` is the path the client addressed (URL-parser normalised, RFC 3986 §6.2.2). */
function checkPath(payload: Record<string, unknown>, url: string | URL): void {
  if (payload.htp !== pathOf(url))
    throw reject('path_mismatch', 'request signature "htp" does not match')
}

/** Rule: `aud` is one of this API's identifiers (a string, not an array). */
function checkAudience(payload: Record<string, unknown>, audience: readonly string[]): void {
  if (typeof payload.aud !== 'string' || !audience.includes(payload.aud))
    throw reject('audience_mismatch', 'request signature "aud" is not this API')
}

/** Rule: `hqh` is the hash of the query received (constant-time compare). */
async function checkQuery(payload: Record<string, unknown>, url: string | URL, c: CryptoBackend) {
  if (!sameString(payload.hqh, await queryHash(url, c), c))
    throw reject('query_mismatch', 'request signature "hqh" does not match the query')
}

/** Rule: `hbh` is the hash of the body bytes received (constant-time compare). */
async function checkBody(
  payload: Record<string, unknown>,
  body: BodyBytes | undefined,
  c: CryptoBackend,
) {
  if (!sameString(payload.hbh, await bodyHash(body, c), c))
    throw reject('body_mismatch', 'request signature "hbh" does not match the body')
}

function sameString(given: unknown, expected: string, crypto: CryptoBackend): boolean {
  if (typeof given !== 'string') return false
  const enc = new TextEncoder()
  return crypto.timingSafeEqual(enc.encode(given), enc.encode(expected))
}

/**
 * Rule (as RFC 9449 §11.1): a signature is used once: the key thumbprint and `jti` are recorded
 * while the signature could be accepted; a second use is `replayed`, a cache failure
 * `store_unavailable` (fail closed).
 */
async function checkReplay(jti: string, expected: DevsigExpectations, crypto: CryptoBackend) {
  const ttl = (expected.maxAgeSeconds ?? 60) + (expected.clockToleranceSeconds ?? 5)
  const id = encodeBase64url(await crypto.sha256(`devsig ${expected.jkt} ${jti}`))
  let first: boolean
  try {
    first = await expected.replay.use(id, ttl)
  } catch {
    throw reject('store_unavailable', 'the replay cache is unavailable')
  }
  if (!first) throw reject('replayed', 'this request signature was already used')
}

/**
 * Verifies a request signature against the attested key and the request. Throws
 * {@link DevsigRejected} for every failure, with the code of the first check that failed.
 *
 * @example
 * ```ts
 * await verifyDevsigSignature(signature, {
 *   jkt: attestation.cnf.jkt, method: 'POST', url, body, audience: ['https://api.example'], replay,
 * })
 * ```
 */
export async function verifyDevsigSignature(
  signature: string,
  expected: DevsigExpectations,
): Promise<VerifiedDevsigSignature> {
  const crypto = expected.crypto ?? defaultCrypto
  const { header, payload } = checkShape(signature, expected.algorithms ?? DPOP_ALGORITHMS)
  const jwk = await checkKeyBinding(header, expected.jkt, crypto)
  await checkSignature(signature, header, jwk, crypto)
  const fresh = checkFreshness(payload, expected)
  checkMethod(payload, expected.method)
  checkPath(payload, expected.url)
  checkAudience(payload, expected.audience)
  await checkQuery(payload, expected.url, crypto)
  await checkBody(payload, expected.body, crypto)
  await checkReplay(fresh.jti, expected, crypto)
  return fresh
}
