/**
 * Errors raised by Authkestra. Every error is an {@link AuthkestraError} with a stable string
 * `code` (see `docs/errors.md`); codes are public API and are never reused for another meaning.
 *
 * Messages name the offending input in quotes and say what was expected. They never contain a
 * token, code, verifier, secret or cookie value.
 *
 * @module
 */

/** Every code an {@link AuthkestraError} can carry. The table in `docs/errors.md` explains each. */
export type AuthkestraErrorCode =
  // configuration and arguments
  | 'config_invalid'
  | 'insecure_url'
  // PKCE
  | 'pkce_verifier_invalid'
  | 'pkce_method_unsupported'
  // sealed flow state
  | 'flow_state_malformed'
  | 'flow_state_tampered'
  | 'flow_state_key_unknown'
  | 'flow_state_expired'
  | 'flow_state_provider_mismatch'
  // authorization response (callback)
  | 'callback_invalid'
  | 'state_mismatch'
  | 'issuer_missing'
  | 'issuer_mismatch'
  | 'authorization_error'
  | 'return_to_invalid'
  // calls to the provider
  | 'provider_unreachable'
  | 'provider_timeout'
  | 'provider_response_too_large'
  | 'provider_bad_response'
  | 'token_error'
  | 'token_response_invalid'
  | 'discovery_invalid'
  | 'discovery_issuer_mismatch'
  | 'unsupported_operation'
  // device flow
  | 'device_access_denied'
  | 'device_code_expired'
  // ID token
  | 'id_token_missing'
  | 'id_token_invalid'
  | 'id_token_alg_unsupported'
  | 'id_token_key_not_found'
  | 'id_token_signature_invalid'
  | 'id_token_expired'
  | 'id_token_claim_invalid'
  | 'id_token_nonce_mismatch'
  // back-channel logout
  | 'logout_token_invalid'
  // userinfo / identity
  | 'userinfo_subject_mismatch'
  | 'identity_invalid'
  // stores
  | 'store_unavailable'
  // engine
  | 'login_rejected'
  | 'forbidden_origin'

/** Options accepted by the {@link AuthkestraError} constructor. */
export interface AuthkestraErrorOptions {
  /** The underlying error, kept for operators; never shown to end users. */
  cause?: unknown
  /** For `authorization_error` and `token_error`: the provider's OAuth `error` value. */
  oauthError?: string
  /** The provider's `error_description`, when it sent one (provider text, shown as-is). */
  oauthErrorDescription?: string
  /** HTTP status of the provider response that caused the error, when there was one. */
  status?: number
}

/**
 * The one error class of Authkestra. Switch on `code`, never on `message`.
 *
 * @example
 * ```ts
 * try {
 *   await flow.finalizeLogin(request.url, flowState)
 * } catch (err) {
 *   if (err instanceof AuthkestraError && err.code === 'authorization_error') {
 *     console.log('the provider said', err.oauthError) // e.g. 'access_denied'
 *   }
 * }
 * ```
 */
export class AuthkestraError extends Error {
  override name = 'AuthkestraError'
  /** Stable, documented code; see `docs/errors.md`. */
  readonly code: AuthkestraErrorCode
  /** The provider's OAuth `error` value (`access_denied`, `invalid_grant`, …), when relevant. */
  readonly oauthError: string | undefined
  /** The provider's `error_description`, when it sent one. */
  readonly oauthErrorDescription: string | undefined
  /** HTTP status of the provider response behind this error, when there was one. */
  readonly status: number | undefined

  constructor(code: AuthkestraErrorCode, message: string, options: AuthkestraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.oauthError = options.oauthError
    this.oauthErrorDescription = options.oauthErrorDescription
    this.status = options.status
  }
}

/**
 * True when `err` is an {@link AuthkestraError}, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isAuthkestraError(err, 'flow_state_expired')) restartLogin()
 * ```
 */
export function isAuthkestraError(
  err: unknown,
  code?: AuthkestraErrorCode,
): err is AuthkestraError {
  return err instanceof AuthkestraError && (code === undefined || err.code === code)
}
