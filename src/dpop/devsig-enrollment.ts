/**
 * Checking an enrolment proof (docs/devsig.md §Enrolment) at the OP: the device signs the OP's
 * one-time challenge with the key to enrol, carrying the public key in `jwk` (the header rules of
 * DPoP proofs, RFC 9449 §4.3). The checks, in order, each its own function; the caller consumes
 * the challenge and records the `jti` afterwards.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { type CryptoBackend, defaultCrypto } from '../core/crypto/index.ts'
import { DEVSIG_TYP } from './devsig-wire.ts'
import { DPOP_ALGORITHMS, publicMembers } from './key.ts'
import { checkKeyJwsHeader, checkKeyJwsSignature, decodeKeyJws, jwkThumbprint } from './key-jws.ts'

/** An enrolment proof that passed: the key's thumbprint, and the claims the caller consumes. */
export interface VerifiedEnrollmentProof {
  /** RFC 7638 thumbprint of the enrolled key: the attestation's `cnf.jkt`. */
  readonly thumbprint: string
  readonly challenge: string
  readonly jti: string
}

/**
 * Why an enrolment proof was refused, with a description safe to send.
 *
 * @example
 * ```ts
 * if (err instanceof EnrollmentProofRejected) return badRequest(err.message)
 * ```
 */
export class EnrollmentProofRejected extends Error {
  override name = 'EnrollmentProofRejected'
}

const MAX_PROOF_LENGTH = 8192
const fail = (message: string) => new EnrollmentProofRejected(message)

/** Rule (RFC 7519 §4.1): `challenge` and `jti` non-empty strings, `aud` this OP, `iat` fresh. */
function checkClaims(
  payload: Record<string, unknown>,
  issuer: string,
  now: number,
  maxAge: number,
): { challenge: string; jti: string } {
  const { challenge, jti, aud, iat } = payload
  if (typeof challenge !== 'string' || challenge === '' || challenge.length > 256)
    throw fail('enrolment proof "challenge" is required')
  if (typeof jti !== 'string' || jti === '' || jti.length > 256)
    throw fail('enrolment proof "jti" is required')
  if (aud !== issuer) throw fail('enrolment proof "aud" must be this issuer')
  if (!Number.isInteger(iat)) throw fail('enrolment proof "iat" is required')
  if ((iat as number) > now + 5 || (iat as number) < now - maxAge)
    throw fail('enrolment proof "iat" is not fresh')
  return { challenge, jti }
}

/**
 * Verifies an enrolment proof for `issuer`. Throws {@link EnrollmentProofRejected}.
 *
 * @example
 * ```ts
 * const { thumbprint, challenge } = await verifyEnrollmentProof(proof, { issuer })
 * ```
 */
export async function verifyEnrollmentProof(
  proof: string,
  expected: {
    readonly issuer: string
    readonly algorithms?: readonly string[]
    /** How old the proof may be, seconds (default 300: the challenge's lifetime). */
    readonly maxAgeSeconds?: number
    readonly clock?: Clock
    readonly crypto?: CryptoBackend
  },
): Promise<VerifiedEnrollmentProof> {
  const crypto = expected.crypto ?? defaultCrypto
  const decoded = decodeKeyJws(proof, MAX_PROOF_LENGTH)
  if (!decoded) throw fail('malformed enrolment proof')
  const { header, payload } = decoded
  checkKeyJwsHeader(header, {
    typ: DEVSIG_TYP.enrollment,
    algorithms: expected.algorithms ?? DPOP_ALGORITHMS,
    label: 'enrolment proof',
    fail,
  })
  const jwk = publicMembers(header.jwk as Record<string, unknown>)
  if (!jwk) throw fail('enrolment proof "jwk" is not a supported public key')
  await checkKeyJwsSignature(proof, header.alg as string, jwk, crypto, () =>
    fail('enrolment proof signature is invalid'),
  )
  const now = (expected.clock ?? systemClock).now() / 1000
  const claims = checkClaims(payload, expected.issuer, now, expected.maxAgeSeconds ?? 300)
  return { ...claims, thumbprint: await jwkThumbprint(jwk, crypto) }
}
