/**
 * How the user authenticated at the provider, as its validated ID token said (OIDC Core §2:
 * `acr`, `amr`, `auth_time`), kept with the session, and the step-up requirement a guard checks
 * it against (RFC 9470 for the API answer).
 *
 * @module
 */
import { isAcrList, isAcrValue } from '../client/resolve-provider.ts'

/** The authentication behind a session. Every field is absent when the provider did not say. */
export interface AuthContext {
  /** The authentication context class the provider asserted (`acr`). */
  readonly acr?: string
  /** The methods (`amr`, RFC 8176: `pwd`, `otp`, `hwk`, `mfa`, …). */
  readonly amr?: readonly string[]
  /** When the user authenticated (`auth_time`), seconds since the epoch. */
  readonly authTime?: number
}

/** What a guard may require of the authentication (a step-up). */
export interface StepUpRequirement {
  /** One of these `acr` values (in order of preference, sent as `acr_values` on the way back). */
  readonly acr?: string | readonly string[]
  /** Every one of these `amr` values. */
  readonly amr?: readonly string[]
  /** An authentication at most this many seconds old (sent as `max_age`). */
  readonly maxAge?: number
}

/** The context of a validated ID token's claims; malformed members are dropped. */
export function authContextOf(claims: Readonly<Record<string, unknown>> | undefined): AuthContext {
  if (!claims) return {}
  const { acr, amr, auth_time: authTime } = claims
  return {
    ...(isAcrValue(acr) ? { acr } : {}),
    ...(Array.isArray(amr) && amr.length <= 16 && amr.every(isAcrValue)
      ? { amr: [...amr] as string[] }
      : {}),
    ...(Number.isSafeInteger(authTime) && (authTime as number) > 0
      ? { authTime: authTime as number }
      : {}),
  }
}

/** A requirement with its `acr` as a list, checked once when the guard is made. */
export interface ResolvedStepUp {
  readonly acr?: readonly string[]
  readonly amr?: readonly string[]
  readonly maxAge?: number
}

/** Checks a guard's step-up options; `undefined` when there are none. */
export function resolveStepUp(
  options: StepUpRequirement,
  fail: (message: string) => Error,
): ResolvedStepUp | undefined {
  const acr = typeof options.acr === 'string' ? [options.acr] : options.acr
  const { amr, maxAge } = options
  if (acr !== undefined && !isAcrList(acr)) throw fail('"acr" must be one to ten acr values')
  if (amr !== undefined && (amr.length === 0 || !amr.every(isAcrValue)))
    throw fail('"amr" must list amr values')
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0 && maxAge <= 1e9))
    throw fail('"maxAge" must be a whole number of seconds')
  if (acr === undefined && amr === undefined && maxAge === undefined) return undefined
  return {
    ...(acr === undefined ? {} : { acr: [...acr] }),
    ...(amr === undefined ? {} : { amr: [...amr] }),
    ...(maxAge === undefined ? {} : { maxAge }),
  }
}

/** Why a context falls short of a requirement (a short phrase), or undefined when it meets it. */
export function unmet(
  context: AuthContext,
  required: ResolvedStepUp,
  nowSeconds: number,
): string | undefined {
  if (required.acr && !(context.acr !== undefined && required.acr.includes(context.acr)))
    return 'a stronger authentication is required'
  if (required.amr && !required.amr.every((m) => context.amr?.includes(m)))
    return 'another authentication method is required'
  if (
    required.maxAge !== undefined &&
    !(context.authTime !== undefined && nowSeconds - context.authTime <= required.maxAge)
  )
    return 'a more recent authentication is required'
  return undefined
}

/** The RFC 9470 §3 challenge of an unmet requirement, on `scheme` (`realm` already quotable). */
export function stepUpChallenge(
  scheme: string,
  realm: string,
  required: ResolvedStepUp,
  why: string,
): string {
  const params = [
    `error="insufficient_user_authentication"`,
    `error_description="${why}"`,
    ...(required.acr ? [`acr_values="${required.acr.join(' ')}"`] : []),
    ...(required.maxAge === undefined ? [] : [`max_age="${required.maxAge}"`]),
  ]
  return `${scheme} realm="${realm}", ${params.join(', ')}`
}

/** The login query that asks the provider for the requirement (`acr_values`, `max_age`). */
export function stepUpQuery(required: ResolvedStepUp): string {
  const q = new URLSearchParams()
  if (required.acr) q.set('acr_values', required.acr.join(' '))
  if (required.maxAge !== undefined) q.set('max_age', String(required.maxAge))
  const text = q.toString()
  return text === '' ? '' : `&${text}`
}
