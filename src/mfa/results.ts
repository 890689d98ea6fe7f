/**
 * What the second-factor checks answer: a success with its facts, or one stable reason. A check
 * never throws for a wrong or hostile input; it throws only when the store fails.
 *
 * @module
 */

/** Why a check failed. */
export type MfaFailure =
  /** The TOTP or recovery code is wrong, reused, or the account has none. */
  | 'invalid_code'
  /** Too many attempts for this account in the window; `retryAfter` says when to try again. */
  | 'rate_limited'
  /** The WebAuthn challenge is unknown, expired, used, or was issued for something else. */
  | 'challenge_invalid'
  /** The passkey is not registered (for this account). */
  | 'credential_unknown'
  /** The WebAuthn response does not verify (signature, origin, RP ID, counter, flags). */
  | 'verification_failed'
  /** The passkey is registered already. */
  | 'credential_exists'

/** A failed check. */
export interface MfaFailed {
  readonly ok: false
  readonly reason: MfaFailure
  /** Seconds until the next attempt may succeed (with `rate_limited`). */
  readonly retryAfter?: number
}

/** The result of a check: `T` on success. */
export type MfaResult<T> = ({ readonly ok: true } & T) | MfaFailed

/** A failure. */
export const fail = (reason: MfaFailure, retryAfter?: number): MfaFailed =>
  retryAfter === undefined ? { ok: false, reason } : { ok: false, reason, retryAfter }
