/**
 * The FAPI 2.0 Security Profile for a resource server (§5.3.4): `bearer({ securityProfile:
 * 'fapi2' })`. The rules run when the guard is made and name every problem at once; a config
 * that passes gets the profile's settings: only sender-constrained (DPoP-bound) tokens, token
 * and proof signatures in PS256, ES256 or EdDSA, 10 seconds of clock skew on proofs (§5.3.2.1's
 * rule for JWTs received).
 *
 * @module
 */
import { AuthkestraError } from '../../core/errors.ts'
import {
  FAPI2_ALLOWED as allowed,
  FAPI2_ALGORITHMS,
  FAPI2_CLOCK_SKEW_SECONDS,
  fapi2SkewProblem,
  isFapi2Algorithm as isFapiAlg,
} from '../../core/fapi2.ts'
import type { BearerOptions } from './bearer-options.ts'

type Rule = (options: BearerOptions) => readonly string[]

/** Rule (§5.3.4: "shall only accept sender-constrained access tokens"). */
function senderConstrainedOnly(options: BearerOptions): string[] {
  return options.dpop?.required === false
    ? ['"dpop.required" is false; FAPI 2.0 resource servers accept only sender-constrained tokens']
    : []
}

/** Rule (§5.4.1): PS256, ES256 or EdDSA for tokens and proofs; no shared-secret HMAC. */
function algorithms(options: BearerOptions): string[] {
  const problems: string[] = []
  if (options.secret !== undefined)
    problems.push(`"secret" is set (HMAC); FAPI 2.0 allows ${allowed}`)
  const bad = (options.algorithms ?? []).filter((alg: string) => !isFapiAlg(alg))
  if (options.secret === undefined && bad.length > 0)
    problems.push(`"algorithms" lists ${bad.join(', ')}; FAPI 2.0 allows ${allowed}`)
  const badProofs = (options.dpop?.algorithms ?? []).filter((alg) => !isFapiAlg(alg))
  if (badProofs.length > 0)
    problems.push(`"dpop.algorithms" lists ${badProofs.join(', ')}; FAPI 2.0 allows ${allowed}`)
  return problems
}

/** Rule (§5.3.2.1 clock skew): accept 10 s ahead, reject 60 s or more ahead. */
function clockSkew(options: BearerOptions): string[] {
  return fapi2SkewProblem('dpop.clockToleranceSeconds', options.dpop?.clockToleranceSeconds)
}

/** The rules, in the order they run. */
export const FAPI2_BEARER_RULES: readonly Rule[] = [senderConstrainedOnly, algorithms, clockSkew]

/**
 * The options a guard runs on: as given, or with its security profile checked and applied
 * (`config_invalid` naming every problem).
 *
 * @example
 * ```ts
 * const effective = applyBearerProfile({ issuer, audience, securityProfile: 'fapi2' })
 * ```
 */
export function applyBearerProfile<T extends BearerOptions>(options: T): T {
  if (options?.securityProfile === undefined) return options
  if (options.securityProfile !== 'fapi2')
    throw new AuthkestraError('config_invalid', '"securityProfile" must be "fapi2" when set')
  const problems = FAPI2_BEARER_RULES.flatMap((rule) => rule(options))
  if (problems.length > 0)
    throw new AuthkestraError(
      'config_invalid',
      `the bearer guard cannot meet the FAPI 2.0 Security Profile: ${problems.join('; ')}`,
    )
  return {
    ...options,
    algorithms: options.algorithms ?? [...FAPI2_ALGORITHMS],
    dpop: {
      ...options.dpop,
      required: true,
      algorithms: options.dpop?.algorithms ?? [...FAPI2_ALGORITHMS],
      clockToleranceSeconds: options.dpop?.clockToleranceSeconds ?? FAPI2_CLOCK_SKEW_SECONDS,
    },
  }
}
