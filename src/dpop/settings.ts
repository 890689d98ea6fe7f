/**
 * What a server that checks DPoP proofs is configured with, checked once at start (the OP and
 * the `bearer` guard take the same options), and the check of a request made with a DPoP-bound
 * access token (RFC 9449 §7.1), which userinfo and the guard share.
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { DPOP_ALGORITHMS, type DpopAlgorithm } from './key.ts'
import type { DpopNonces } from './nonce.ts'
import type { ReplayCache } from './replay.ts'
import { type DpopExpectations, DpopRejected, readDpopHeader, verifyDpopProof } from './verify.ts'

/** A verifier's settings: allowed algorithms, nonces, proof age, where `jti`s are remembered. */
export interface DpopSettings {
  readonly algorithms: readonly DpopAlgorithm[]
  readonly nonces: DpopNonces | undefined
  readonly maxAgeSeconds: number | undefined
  /** How far ahead of now a proof's `iat` may be, in seconds (default 5). */
  readonly clockToleranceSeconds?: number | undefined
  readonly replay: ReplayCache
  readonly clock: Clock
}

const configError = (message: string) => new AuthkestraError('config_invalid', message)

/**
 * A configured list of proof algorithms (`field` names it in the error): non-empty, each one of
 * {@link DPOP_ALGORITHMS}; `fallback` when absent.
 *
 * @example
 * ```ts
 * const algorithms = checkDpopAlgorithms(options.algorithms, 'dpop.algorithms', ['ES256'])
 * ```
 */
export function checkDpopAlgorithms(
  value: unknown,
  field: string,
  fallback: readonly DpopAlgorithm[],
): readonly DpopAlgorithm[] {
  if (value === undefined) return fallback
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((a) => (DPOP_ALGORITHMS as readonly unknown[]).includes(a))
  )
    throw configError(`"${field}" may only list ${DPOP_ALGORITHMS.join(', ')}`)
  return [...value] as DpopAlgorithm[]
}

/**
 * A configured proof age in seconds (`field` names it): an integer from 5 to 600, or absent.
 *
 * @example
 * ```ts
 * const maxAge = checkProofMaxAge(options.proofMaxAgeSeconds, 'dpop.proofMaxAgeSeconds')
 * ```
 */
export function checkProofMaxAge(value: unknown, field: string): number | undefined {
  if (
    value !== undefined &&
    (!Number.isInteger(value) || (value as number) < 5 || (value as number) > 600)
  )
    throw configError(`"${field}" must be an integer from 5 to 600`)
  return value as number | undefined
}

/**
 * A configured clock tolerance for proofs' `iat` in seconds (`field` names it): an integer from
 * 0 to 60, or absent.
 *
 * @example
 * ```ts
 * const skew = checkClockTolerance(options.clockToleranceSeconds, 'dpop.clockToleranceSeconds')
 * ```
 */
export function checkClockTolerance(value: unknown, field: string): number | undefined {
  if (
    value !== undefined &&
    (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 60)
  )
    throw configError(`"${field}" must be an integer from 0 to 60`)
  return value as number | undefined
}

/**
 * What {@link verifyDpopProof} expects of a request to `url` under `settings`.
 *
 * @example
 * ```ts
 * await verifyDpopProof(proof, expectationsOf(settings, 'POST', tokenEndpoint))
 * ```
 */
export function expectationsOf(
  settings: DpopSettings,
  method: string,
  url: string | URL,
  accessToken?: string,
): DpopExpectations {
  return {
    method,
    url,
    algorithms: settings.algorithms,
    replay: settings.replay,
    nonces: settings.nonces,
    clock: settings.clock,
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(settings.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: settings.maxAgeSeconds }),
    ...(settings.clockToleranceSeconds === undefined
      ? {}
      : { clockToleranceSeconds: settings.clockToleranceSeconds }),
  }
}

/**
 * Rule (RFC 9449 §7.1, §4.3): a request with a DPoP-bound access token carries one proof, for
 * this method and URL, with the token's `ath`, signed by the key the token is bound to (`jkt`).
 * Throws {@link DpopRejected}; other errors (a replay cache that is down) pass through.
 *
 * @example
 * ```ts
 * await verifyBoundRequest(request.headers, 'GET', url, token, claims.cnf.jkt, settings)
 * ```
 */
export async function verifyBoundRequest(
  headers: { get(name: string): string | null },
  method: string,
  url: string | URL,
  accessToken: string,
  jkt: string,
  settings: DpopSettings,
): Promise<void> {
  const proof = readDpopHeader(headers)
  if (proof === undefined) throw new DpopRejected('invalid_dpop_proof', 'a DPoP proof is required')
  const { thumbprint } = await verifyDpopProof(
    proof,
    expectationsOf(settings, method, url, accessToken),
  )
  if (thumbprint !== jkt)
    throw new DpopRejected('invalid_dpop_proof', "the DPoP proof is not signed by the token's key")
}
