/**
 * Device-bound request signatures at the OP (docs/devsig.md): opt-in with `createOp({ devsig })`.
 * A device enrols a key (`POST {issuer}/devsig/challenge`, then `POST {issuer}/devsig/enroll`)
 * and gets a short-lived attestation JWT of that key, signed with the OP's keys (published in its
 * JWKS), for APIs guarded by `devsig()`.
 *
 * @module
 */
import type { DpopAlgorithm } from '../dpop/key.ts'
import { checkDpopAlgorithms } from '../dpop/settings.ts'
import { configError } from './config.ts'

/** The `devsig` option of `createOp`. */
export interface OpDevsigOptions {
  /** Seconds an attestation lives, 60 to 86 400 (default 3600): enrol again to renew. */
  readonly attestationTtlSeconds?: number
  /** Seconds a challenge lives, 30 to 600 (default 300). */
  readonly challengeTtlSeconds?: number
  /** Device key algorithms accepted (default: all of `DPOP_ALGORITHMS`). */
  readonly algorithms?: readonly DpopAlgorithm[]
  /**
   * Which enrolments must prove a second factor (a TOTP code through `createOp({ mfa })`):
   * `'when-enrolled'` (default) every account with an authenticator app; `'always'` every
   * account (one without a TOTP factor cannot enrol a device).
   */
  readonly secondFactor?: 'when-enrolled' | 'always'
}

/** {@link OpDevsigOptions} checked. */
export interface ResolvedDevsig {
  readonly attestationTtlSeconds: number
  readonly challengeTtlSeconds: number
  readonly algorithms: readonly DpopAlgorithm[]
  readonly secondFactor: 'when-enrolled' | 'always'
}

function integer(value: unknown, fallback: number, min: number, max: number, name: string) {
  const n = value ?? fallback
  if (!Number.isInteger(n) || (n as number) < min || (n as number) > max)
    throw configError(`"devsig.${name}" must be an integer from ${min} to ${max}`)
  return n as number
}

/**
 * Checks the `devsig` option; undefined when devsig is off.
 *
 * @example
 * ```ts
 * const devsig = resolveDevsig({ attestationTtlSeconds: 900 })
 * ```
 */
export function resolveDevsig(options: OpDevsigOptions | undefined): ResolvedDevsig | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null)
    throw configError('"devsig" must be an object')
  const secondFactor = options.secondFactor ?? 'when-enrolled'
  if (secondFactor !== 'when-enrolled' && secondFactor !== 'always')
    throw configError('"devsig.secondFactor" must be "when-enrolled" or "always"')
  return {
    attestationTtlSeconds: integer(
      options.attestationTtlSeconds,
      3600,
      60,
      86_400,
      'attestationTtlSeconds',
    ),
    challengeTtlSeconds: integer(options.challengeTtlSeconds, 300, 30, 600, 'challengeTtlSeconds'),
    algorithms: checkDpopAlgorithms(options.algorithms, 'devsig.algorithms', [
      'ES256',
      'ES384',
      'PS256',
      'RS256',
      'EdDSA',
    ]),
    secondFactor,
  }
}
