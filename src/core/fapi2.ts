/**
 * What the FAPI 2.0 Security Profile (final, February 2025) asks of every party alike, shared by
 * the OP's `profile`, the client's and the bearer guard's `securityProfile`: the algorithms of
 * §5.4.1 and the clock-skew rule of §5.3.2.1 for JWTs received.
 *
 * @module
 */

/** §5.4.1: the algorithms of every signature under the profile (RSA keys ≥ 2048 bits). */
export const FAPI2_ALGORITHMS = ['PS256', 'ES256', 'EdDSA'] as const

/** §5.3.2.1: JWTs up to this many seconds ahead are accepted (and 60 or more refused). */
export const FAPI2_CLOCK_SKEW_SECONDS = 10

/** True for one of {@link FAPI2_ALGORITHMS}. */
export const isFapi2Algorithm = (alg: unknown): boolean =>
  (FAPI2_ALGORITHMS as readonly unknown[]).includes(alg)

/** The list the profile's refusals name. */
export const FAPI2_ALLOWED = FAPI2_ALGORITHMS.join(', ')

/**
 * Rule (§5.3.2.1 clock skew): a configured tolerance of `field` lies in 10 to 59 seconds; the
 * problem sentence when it does not.
 */
export function fapi2SkewProblem(field: string, value: number | undefined): string[] {
  return value !== undefined && !(value >= FAPI2_CLOCK_SKEW_SECONDS && value < 60)
    ? [`"${field}" is ${value}; FAPI 2.0 accepts 10 seconds of skew and rejects 60`]
    : []
}
