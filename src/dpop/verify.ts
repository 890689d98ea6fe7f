/**
 * Checking DPoP proofs (RFC 9449 §4.3), for the authorization server's token endpoint and for
 * resource servers: an ordered list of named checks, each citing the step it implements. The
 * signature is checked before any claim is trusted, and the `jti` is recorded last, so a proof
 * that fails any other check never fills the replay cache.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { type Clock, systemClock } from '../core/clock.ts'
import { type CryptoBackend, defaultCrypto } from '../core/crypto/index.ts'
import { DPOP_ALGORITHMS, publicMembers } from './key.ts'
import {
  checkKeyJwsHeader,
  checkKeyJwsSignature,
  type DecodedKeyJws,
  decodeKeyJws,
  jwkThumbprint,
} from './key-jws.ts'
import type { DpopNonces } from './nonce.ts'
import { accessTokenThumbprint, htuOf } from './proof.ts'
import type { ReplayCache } from './replay.ts'

export { cachedVerifier } from './key-jws.ts'

/**
 * Why a proof was refused: the RFC 9449 error code, and a description safe to send.
 *
 * @example
 * ```ts
 * try {
 *   await verifyDpopProof(proof, expected)
 * } catch (err) {
 *   if (err instanceof DpopRejected) return challenge(err.error, err.message)
 *   throw err
 * }
 * ```
 */
export class DpopRejected extends Error {
  constructor(
    /** `invalid_dpop_proof` (§7.1), or `use_dpop_nonce` (§8, §9) when a fresh nonce is needed. */
    readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce',
    message: string,
  ) {
    super(message)
    this.name = 'DpopRejected'
  }
}

/** What a proof must match. */
export interface DpopExpectations {
  /** The request's method. */
  readonly method: string
  /** The URI the client sent the request to (as the client sees it, e.g. behind a proxy). */
  readonly url: string | URL
  /** The access token of the request (resource servers): the proof must carry its `ath`. */
  readonly accessToken?: string | undefined
  /** Allowed `alg`s (default: every one of `DPOP_ALGORITHMS`); never `none` or HMAC. */
  readonly algorithms?: readonly string[]
  /** Where `jti`s are remembered. */
  readonly replay: ReplayCache
  /** With nonces, a proof must carry a valid `nonce` (else `use_dpop_nonce`). */
  readonly nonces?: DpopNonces | undefined
  /** How old a proof may be, in seconds (default 60); with a valid nonce, 300. */
  readonly maxAgeSeconds?: number
  /** How far in the future `iat` may be, in seconds (default 5). */
  readonly clockToleranceSeconds?: number
  readonly clock?: Clock
  /**
   * The crypto backend (default `defaultCrypto`): with `node:crypto`, the signature is checked
   * synchronously; elsewhere through jose and Web Crypto.
   */
  readonly crypto?: CryptoBackend
}

/** A proof that passed. */
export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof's key: the `jkt` to bind to, or to compare with `cnf`. */
  readonly thumbprint: string
  readonly jti: string
  readonly iat: number
}

/** Longest proof accepted, in characters. */
const MAX_PROOF_LENGTH = 8192

const invalid = (message: string) => new DpopRejected('invalid_dpop_proof', message)

/**
 * Rule (RFC 9449 §4.3 step 1): exactly one `DPoP` header. Headers joined by a comma (two
 * headers) are refused: a compact JWS has no comma.
 *
 * @example
 * ```ts
 * const proof = readDpopHeader(request.headers) // undefined when there is none
 * ```
 */
export function readDpopHeader(headers: { get(name: string): string | null }): string | undefined {
  const value = headers.get('dpop')
  if (value === null) return undefined
  if (value.includes(',')) throw invalid('more than one DPoP header')
  return value.trim()
}

/** Rule (§4.3 step 2): a well-formed compact JWS whose header and payload are JSON objects. */
function checkWellFormed(proof: string): DecodedKeyJws {
  const decoded = decodeKeyJws(proof, MAX_PROOF_LENGTH)
  if (!decoded) throw invalid('malformed DPoP proof')
  return decoded
}

/**
 * Rule (§4.3 steps 4, 5, 7): `typ` is `dpop+jwt`; `alg` an allowed asymmetric algorithm; `jwk` a
 * public key alone (the rules shared with device request signatures, see `key-jws.ts`).
 */
function checkHeader(header: Record<string, unknown>, algorithms: readonly string[]): void {
  checkKeyJwsHeader(header, { typ: 'dpop+jwt', algorithms, label: 'DPoP proof', fail: invalid })
}

/** Rule (§4.3 step 6): the signature verifies with the public key in `jwk`, for its `alg`. */
function checkSignature(
  proof: string,
  alg: string,
  jwk: Record<string, string>,
  crypto: CryptoBackend,
): Promise<void> {
  return checkKeyJwsSignature(proof, alg, jwk, crypto, () =>
    invalid('DPoP proof signature is invalid'),
  )
}

/** Rule (§4.3 step 3, §4.2): `jti`, `htm` and `htu` are strings; `iat` is a number. */
function checkClaims(payload: Record<string, unknown>): { jti: string; iat: number } {
  const { jti, htm, htu, iat } = payload
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
    throw invalid('DPoP proof "jti" is missing or too long')
  if (typeof htm !== 'string' || typeof htu !== 'string')
    throw invalid('DPoP proof "htm" and "htu" are required')
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw invalid('DPoP proof "iat" is required')
  return { jti, iat }
}

/** Rule (§4.3 step 8): `htm` is the request's method. */
function checkMethod(payload: Record<string, unknown>, method: string): void {
  if (payload.htm !== method.toUpperCase()) throw invalid('DPoP proof "htm" does not match')
}

/**
 * Rule (§4.3 step 9): `htu` is the request URI without query and fragment, both sides
 * normalised by the URL parser (RFC 3986 §6.2.2, §6.2.3).
 */
function checkUri(payload: Record<string, unknown>, url: string | URL): void {
  let htu: string
  try {
    htu = htuOf(payload.htu as string)
  } catch {
    throw invalid('DPoP proof "htu" does not match')
  }
  if (htu !== htuOf(url)) throw invalid('DPoP proof "htu" does not match')
}

/** Rule (§4.3 step 12, §7): with an access token, `ath` is its SHA-256 (constant-time compare). */
async function checkAth(
  payload: Record<string, unknown>,
  accessToken: string | undefined,
  crypto: CryptoBackend,
): Promise<void> {
  if (accessToken === undefined) return
  const { ath } = payload
  if (typeof ath !== 'string') throw invalid('DPoP proof "ath" is required with an access token')
  const expected = new TextEncoder().encode(await accessTokenThumbprint(accessToken))
  if (!crypto.timingSafeEqual(new TextEncoder().encode(ath), expected))
    throw invalid('DPoP proof "ath" does not match the access token')
}

/**
 * Rule (§4.3 step 10, §8, §9): where the server issues nonces, the proof carries a current one;
 * a missing or stale nonce asks the client to retry with the new one (`use_dpop_nonce`).
 */
async function checkNonce(payload: Record<string, unknown>, nonces?: DpopNonces): Promise<boolean> {
  if (!nonces) return false
  const { nonce } = payload
  if (typeof nonce !== 'string' || !(await nonces.valid(nonce)))
    throw new DpopRejected('use_dpop_nonce', 'a fresh DPoP nonce is required')
  return true
}

/** Rule (§4.3 step 11, §11.1): `iat` within the acceptable window around now. */
function checkIat(iat: number, expected: DpopExpectations, withNonce: boolean, clock: Clock): void {
  const now = clock.now() / 1000
  const maxAge = expected.maxAgeSeconds ?? (withNonce ? 300 : 60)
  const ahead = expected.clockToleranceSeconds ?? 5
  if (iat > now + ahead) throw invalid('DPoP proof "iat" is in the future')
  if (iat < now - maxAge) throw invalid('DPoP proof is too old')
}

/**
 * Rule (§11.1): a proof is used once: its key thumbprint and `jti` are recorded as long as its
 * `iat` stays acceptable; a second use is refused.
 */
async function checkReplay(
  thumbprint: string,
  jti: string,
  expected: DpopExpectations,
  withNonce: boolean,
  crypto: CryptoBackend,
): Promise<void> {
  const ttl =
    (expected.maxAgeSeconds ?? (withNonce ? 300 : 60)) + (expected.clockToleranceSeconds ?? 5)
  const id = encodeBase64url(await crypto.sha256(`${thumbprint} ${jti}`))
  if (!(await expected.replay.use(id, ttl))) throw invalid('DPoP proof was already used')
}

/**
 * Verifies the DPoP proof of a request. Throws {@link DpopRejected} for every failure (its
 * `error` is the code to answer); other errors (a replay cache that is down) pass through.
 *
 * @example
 * ```ts
 * const proof = readDpopHeader(request.headers)
 * const { thumbprint } = await verifyDpopProof(proof, { method: 'POST', url: tokenEndpoint, replay })
 * // bind the tokens: cnf: { jkt: thumbprint }
 * ```
 */
export async function verifyDpopProof(
  proof: string,
  expected: DpopExpectations,
): Promise<VerifiedDpopProof> {
  const clock = expected.clock ?? systemClock
  const crypto = expected.crypto ?? defaultCrypto
  const { header, payload } = checkWellFormed(proof)
  checkHeader(header, expected.algorithms ?? DPOP_ALGORITHMS)
  const jwk = publicMembers(header.jwk as Record<string, unknown>)
  if (!jwk) throw invalid('DPoP proof "jwk" is not a supported public key')
  await checkSignature(proof, header.alg as string, jwk, crypto)
  const { jti, iat } = checkClaims(payload)
  checkMethod(payload, expected.method)
  checkUri(payload, expected.url)
  await checkAth(payload, expected.accessToken, crypto)
  const withNonce = await checkNonce(payload, expected.nonces)
  checkIat(iat, expected, withNonce, clock)
  const thumbprint = await jwkThumbprint(jwk, crypto)
  await checkReplay(thumbprint, jti, expected, withNonce, crypto)
  return { thumbprint, jti, iat }
}
