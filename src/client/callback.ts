/**
 * Validation of the authorization response (RFC 6749 §4.1.2, RFC 9207), before anything is sent
 * to the provider. Checks run in order: shape (each parameter at most once, bounded sizes), then
 * `state` (constant time), then `iss`, then an `error` response, then the `code`.
 *
 * An error response is reported as the provider's error only after its `state` (required) and
 * `iss` have matched, so a forged error cannot pose as the provider's.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { sameString } from '../core/same-string.ts'
import { isOAuthErrorCode } from './oauth-error.ts'

/** The callback as a `Request`, an absolute URL (string or object), or its query parameters. */
export type CallbackInput = Request | string | URL | URLSearchParams

/** Longest query string accepted on a callback. */
export const MAX_CALLBACK_QUERY_LENGTH = 16_384
/** Longest single parameter value accepted. */
export const MAX_CALLBACK_VALUE_LENGTH = 4096
const SINGLE = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri'] as const

/** What the callback must match. */
export interface CallbackExpectations {
  readonly state: string
  /** The issuer identifier, when the provider has one. */
  readonly issuer: string | undefined
  /** RFC 9207: the provider promised to send `iss`. */
  readonly issRequired: boolean
  /** The `redirect_uri` of the login: a callback URL must arrive at its path (RFC 9700 §4.4.2). */
  readonly redirectUri: string
}

function invalid(message: string): AuthkestraError {
  return new AuthkestraError('callback_invalid', message)
}

function toParams(input: CallbackInput, redirectUri: string): URLSearchParams {
  if (input instanceof URLSearchParams) return input
  if (typeof Request !== 'undefined' && input instanceof Request && input.method !== 'GET') {
    throw invalid('callback must be a GET request (response_mode=query)')
  }
  let url: URL
  try {
    url = input instanceof URL ? input : new URL(typeof input === 'string' ? input : input.url)
  } catch {
    throw invalid('callback must be an absolute URL, a Request or URLSearchParams')
  }
  // Only the path is compared: behind a proxy the scheme and host an app sees may differ.
  if (url.pathname !== new URL(redirectUri).pathname) {
    throw invalid('callback did not arrive at the redirect URI of this login')
  }
  if (url.search.length > MAX_CALLBACK_QUERY_LENGTH) {
    throw invalid(`callback query is longer than ${MAX_CALLBACK_QUERY_LENGTH} characters`)
  }
  return url.searchParams
}

/**
 * Checks the callback and returns the authorization code. Throws `callback_invalid`,
 * `state_mismatch`, `issuer_missing`, `issuer_mismatch` or `authorization_error` (with the
 * provider's `error` in `oauthError`).
 */
export function validateCallback(input: CallbackInput, expected: CallbackExpectations): string {
  const params = toParams(input, expected.redirectUri)
  let total = 0
  for (const [, value] of params) total += value.length
  if (total > MAX_CALLBACK_QUERY_LENGTH) {
    throw invalid(`callback query is longer than ${MAX_CALLBACK_QUERY_LENGTH} characters`)
  }
  const values: Partial<Record<(typeof SINGLE)[number], string>> = {}
  for (const name of SINGLE) {
    const all = params.getAll(name)
    if (all.length > 1) throw invalid(`"${name}" must appear at most once in the callback`)
    const value = all[0]
    if (value === undefined) continue
    if (value.length > MAX_CALLBACK_VALUE_LENGTH) {
      throw invalid(`"${name}" is longer than ${MAX_CALLBACK_VALUE_LENGTH} characters`)
    }
    values[name] = value
  }

  // RFC 6749 §4.1.2.1: state is required in error responses too, so a forged error cannot
  // abort someone's login with a message of the attacker's choosing.
  if (values.state === undefined) throw invalid('"state" is missing from the callback')
  if (!sameString(values.state, expected.state)) {
    throw new AuthkestraError('state_mismatch', '"state" does not match the login that was started')
  }

  if (values.iss !== undefined) {
    if (expected.issuer !== undefined && values.iss !== expected.issuer) {
      throw new AuthkestraError('issuer_mismatch', `"iss" must be "${expected.issuer}"`)
    }
  } else if (expected.issRequired) {
    throw new AuthkestraError(
      'issuer_missing',
      '"iss" is missing but the provider advertises authorization_response_iss_parameter_supported',
    )
  }

  if (values.error !== undefined) {
    if (!isOAuthErrorCode(values.error))
      throw invalid('"error" has characters RFC 6749 does not allow')
    throw new AuthkestraError(
      'authorization_error',
      `the provider answered the authorization request with "${values.error}"`,
      {
        oauthError: values.error,
        ...(values.error_description === undefined
          ? {}
          : { oauthErrorDescription: values.error_description }),
      },
    )
  }
  if (values.code === undefined || values.code === '') {
    throw invalid('"code" is missing from the callback')
  }
  return values.code
}
