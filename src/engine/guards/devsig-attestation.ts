/**
 * The first checks of the `devsig` guard (docs/devsig.md §Verification): the `Device-Attestation`
 * header holds a JWT of the trusted OP (`typ: devsig-attestation+jwt`, its `iss`, a key of its
 * JWKS and an allowed `alg`, `exp` not passed) that binds a key (`cnf.jkt`, as RFC 7800 §3.1 and
 * RFC 9449 §6.1) to a user and a client.
 *
 * @module
 */
import { errors as joseErrors } from 'jose'
import type { JwtPayload } from '../../core/jwt-types.ts'
import { DevsigRejected } from '../../dpop/devsig-verify.ts'
import { DEVSIG_HEADERS, DEVSIG_TYP } from '../../dpop/devsig-wire.ts'
import { KeysUnavailable, RejectedToken, verifyWith } from './bearer-keys.ts'
import type { ResolvedDevsigOptions } from './devsig-options.ts'
import type { GuardRequest } from './types.ts'

/** What a verified attestation says. */
export interface Attested {
  readonly sub: string
  readonly clientId: string
  readonly jkt: string
  readonly claims: JwtPayload
}

const MAX_LENGTH = 8192
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** The trimmed value of header `name`, undefined when absent or empty (two headers joined by a comma fail the compact-JWS checks). */
export function oneHeader(request: GuardRequest, name: string): string | undefined {
  const value = request.headers.get(name)?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** Rule: a `Device-Attestation` header is present (`attestation_missing`). */
function checkPresent(request: GuardRequest): string {
  const value = oneHeader(request, DEVSIG_HEADERS.attestation)
  if (value === undefined)
    throw new DevsigRejected('attestation_missing', 'a device attestation is required')
  if (value.length > MAX_LENGTH || !COMPACT.test(value))
    throw new DevsigRejected('attestation_invalid', 'the device attestation is not valid')
  return value
}

/**
 * Rule (RFC 7519 §7.2, RFC 8725 §3.1, §3.11): signed by the trusted OP with an allowed `alg`,
 * typed `devsig-attestation+jwt`, `iss` the OP, `sub`, `jti`, `iat` and `exp` present; an
 * expired one is `attestation_expired`, any other failure `attestation_invalid`.
 */
async function checkSigned(token: string, config: ResolvedDevsigOptions): Promise<JwtPayload> {
  const invalid = (why: string) => {
    config.logger.warn(`devsig: attestation refused: ${why}`)
    return new DevsigRejected('attestation_invalid', 'the device attestation is not valid')
  }
  const expired = () =>
    new DevsigRejected('attestation_expired', 'the device attestation has expired')
  try {
    const { payload } = await verifyWith(token, config.keys, {
      algorithms: config.attestationAlgorithms,
      issuer: config.issuer,
      typ: DEVSIG_TYP.attestation,
      requiredClaims: ['iss', 'sub', 'exp', 'iat', 'jti'],
      clockToleranceSeconds: config.clockToleranceSeconds,
      now: config.clock.now(),
    })
    return payload
  } catch (err) {
    if (err instanceof RejectedToken) throw err.expired ? expired() : invalid(err.message)
    if (err instanceof joseErrors.JWTExpired) throw expired()
    if (err instanceof joseErrors.JOSEError) throw invalid(err.message)
    if (err instanceof KeysUnavailable) {
      config.logger.warn(`devsig: ${err.message}`)
      throw new DevsigRejected('keys_unavailable', 'the device attestation cannot be checked now')
    }
    throw err
  }
}

/** Rule (RFC 7800 §3.1): `cnf.jkt` names the device key; `client_id` and `sub` are strings. */
function checkBinding(claims: JwtPayload, config: ResolvedDevsigOptions): Attested {
  const cnf = claims.cnf as { jkt?: unknown } | undefined
  const { sub, client_id } = claims
  const invalid = new DevsigRejected('attestation_invalid', 'the device attestation is not valid')
  if (typeof cnf?.jkt !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(cnf.jkt)) throw invalid
  if (typeof sub !== 'string' || sub === '' || typeof client_id !== 'string') throw invalid
  if (config.clients && !config.clients.includes(client_id)) throw invalid
  return { sub, clientId: client_id, jkt: cnf.jkt, claims }
}

/**
 * The attestation of the request, verified. Throws `DevsigRejected`.
 *
 * @example
 * ```ts
 * const { sub, jkt } = await verifyAttestation(request, config)
 * ```
 */
export async function verifyAttestation(
  request: GuardRequest,
  config: ResolvedDevsigOptions,
): Promise<Attested> {
  const token = checkPresent(request)
  return checkBinding(await checkSigned(token, config), config)
}
