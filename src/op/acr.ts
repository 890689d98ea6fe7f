/**
 * Authentication context: which methods a login used (`amr`, RFC 8176) and which of the OP's
 * assurance levels (`acr`, OIDC Core §2) that meets. Each level includes the ones before it:
 *
 * - `sfa`: one factor (a password, or a passkey without user verification);
 * - `mfa`: two factors (a password and a TOTP code, recovery code or passkey; or a passkey that
 *   verified the user, which is possession plus a PIN or biometric);
 * - `phr`: multi-factor with a passkey among them, so phishing-resistant (OpenID EAP ACR Values
 *   1.0). No level claims hardware protection: passkeys are registered without attestation, so
 *   the OP cannot know (`amr` says `hwk` or `swk` from the authenticator's own backup flag).
 *
 * @module
 */

/** The `acr` values the OP can assert, weakest first (each includes the ones before it). */
export const ACR_VALUES = ['sfa', 'mfa', 'phr'] as const

/** One of {@link ACR_VALUES}. */
export type AcrValue = (typeof ACR_VALUES)[number]

/** A method of a login: `pwd`, `otp` (TOTP or recovery code), `hwk`/`swk` (a passkey). */
export type AuthMethod = 'pwd' | 'otp' | 'hwk' | 'swk'

/** What a passkey proved, for {@link amrOf}. */
export interface MethodUse {
  readonly method: AuthMethod
  /** A passkey that verified the user (PIN or biometric). */
  readonly userVerified?: boolean
}

const POSSESSION: ReadonlySet<string> = new Set(['otp', 'hwk', 'swk'])

/**
 * The `amr` after one more method: the methods in order, with `mfa` once they span two kinds of
 * factor (RFC 8176 §2: knowledge and possession, or a passkey that verified the user).
 */
export function addMethod(amr: readonly string[], use: MethodUse): string[] {
  const methods = [...new Set([...amr.filter((m) => m !== 'mfa'), use.method])]
  const knowledge = methods.includes('pwd') || use.userVerified === true
  const possession = methods.some((m) => POSSESSION.has(m))
  return amr.includes('mfa') || (knowledge && possession) ? [...methods, 'mfa'] : methods
}

/** The method of a passkey that signed in: `swk` when synced across devices, else `hwk`. */
export function passkeyUse(result: {
  readonly deviceType: 'singleDevice' | 'multiDevice'
  readonly userVerified: boolean
}): MethodUse {
  return {
    method: result.deviceType === 'multiDevice' ? 'swk' : 'hwk',
    userVerified: result.userVerified,
  }
}

/** Whether a login used a factor beyond the password (a code or a passkey). */
export function usedFactor(amr: readonly string[]): boolean {
  return amr.some((m) => POSSESSION.has(m))
}

/** Whether a login with this `amr` meets `acr`. Unknown values are never met. */
export function meets(amr: readonly string[], acr: string): boolean {
  switch (acr) {
    case 'sfa':
      return amr.length > 0
    case 'mfa':
      return amr.includes('mfa')
    case 'phr':
      return amr.includes('mfa') && (amr.includes('hwk') || amr.includes('swk'))
    default:
      return false
  }
}

/**
 * The `acr` to assert: the first requested value the login meets (OIDC Core §3.1.2.1: in order of
 * preference) or, with none requested, the strongest it meets; undefined when it meets none of
 * those requested.
 */
export function chooseAcr(
  amr: readonly string[],
  requested?: readonly string[],
): string | undefined {
  if (requested !== undefined && requested.length > 0) return requested.find((v) => meets(amr, v))
  return [...ACR_VALUES].reverse().find((v) => meets(amr, v))
}

/** The second factors an account has, as the OP's pages offer them. */
export interface SecondFactors {
  readonly totp: boolean
  readonly recovery: boolean
  readonly passkey: boolean
}

/**
 * The second factors worth offering after a first step with this `amr`: those the account has,
 * and, when `requested` names levels, only those that could reach one of them (a passkey counted
 * as verifying the user). None left means no second step can help.
 */
export function usefulFactors(
  amr: readonly string[],
  has: SecondFactors,
  requested: readonly string[] = [],
): SecondFactors {
  const helps = (use: MethodUse) =>
    requested.length === 0
      ? !amr.includes(use.method)
      : requested.some((v) => meets(addMethod(amr, use), v))
  return {
    totp: has.totp && helps({ method: 'otp' }),
    recovery: has.recovery && helps({ method: 'otp' }),
    passkey:
      has.passkey &&
      !amr.includes('hwk') &&
      !amr.includes('swk') &&
      helps({ method: 'hwk', userVerified: true }),
  }
}

/**
 * The `amr` and `acr` of tokens for a login with `amr` answering a request for `requested`: the
 * first requested level met, else the strongest met. Nothing without an `amr` (auto-login, or an
 * app-hosted page that did not say).
 */
export function authContext(
  amr: readonly string[] | undefined,
  requested?: readonly string[],
): { amr?: readonly string[]; acr?: string } {
  if (amr === undefined || amr.length === 0) return {}
  const acr = chooseAcr(amr, requested) ?? chooseAcr(amr)
  return acr === undefined ? { amr } : { amr, acr }
}
