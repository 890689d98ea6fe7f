/**
 * Token endpoint calls (RFC 6749 §4.1.3, §6) and the validation of what comes back (§5.1, §5.2).
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { DpopKey } from '../dpop/key.ts'
import { applyClientAuth, type ClientCredentials } from './client-auth.ts'
import { type DpopContext, withDpop } from './dpop.ts'
import {
  type HttpResponse,
  httpRequest,
  parseJsonObject,
  type ResolvedHttpOptions,
} from './http.ts'
import { isOAuthErrorCode } from './oauth-error.ts'

/** The tokens a grant returned. Secret: never log it. */
export interface TokenSet {
  readonly accessToken: string
  /**
   * `'Bearer'`, or `'DPoP'` for a token bound to {@link TokenSet.dpopKey} (RFC 9449); other
   * token types are refused, and `'DPoP'` is refused when no proof was sent.
   */
  readonly tokenType: 'Bearer' | 'DPoP'
  /**
   * The key a DPoP-bound token (and a public client's refresh token) is bound to: every request
   * with the token must be signed by it, so keep it with the tokens.
   */
  readonly dpopKey?: DpopKey
  /** When the access token expires (ms since the epoch), if the provider said. */
  readonly expiresAt?: number
  readonly refreshToken?: string
  readonly idToken?: string
  /** Verified ID token claims, when an ID token came back. */
  readonly idTokenClaims?: Readonly<Record<string, unknown>>
  /** Granted scopes, when the provider said (it may grant fewer than asked). */
  readonly scope?: readonly string[]
  /** The token response as received. */
  readonly raw: Readonly<Record<string, unknown>>
}

/** What a grant request needs. */
export interface GrantDeps {
  readonly tokenEndpoint: URL
  readonly client: ClientCredentials
  readonly http: ResolvedHttpOptions
  readonly clock: Clock
  readonly scopeSeparator: string
  /** Send a DPoP proof signed by this key (RFC 9449 §5). */
  readonly dpop?: DpopContext | undefined
}

/** Sends a grant to the token endpoint and validates the response into a {@link TokenSet}. */
export async function requestTokens(
  grant: Record<string, string> | URLSearchParams,
  deps: GrantDeps,
): Promise<TokenSet> {
  const body = new URLSearchParams(grant)
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
  }
  // Authentication per attempt: a DPoP nonce retry gets a fresh client assertion (a new jti).
  const send = async (extra: Record<string, string>) => {
    const attempt = new URLSearchParams(body)
    const attemptHeaders = { ...headers }
    await applyClientAuth(deps.client, attempt, attemptHeaders)
    return httpRequest(
      deps.tokenEndpoint,
      { method: 'POST', headers: { ...attemptHeaders, ...extra }, body: attempt.toString() },
      deps.http,
      'token endpoint',
    )
  }
  const response = deps.dpop
    ? await withDpop(deps.dpop, 'POST', deps.tokenEndpoint, undefined, send)
    : await send({})
  return processTokenResponse(response, deps)
}

/**
 * Turns an OAuth error body into `token_error` (with `oauthError` and the HTTP status), or
 * returns when the body is not one.
 */
export function throwIfOAuthError(
  json: Record<string, unknown>,
  response: HttpResponse,
  what: string,
): void {
  if (json.error === undefined) return
  if (!isOAuthErrorCode(json.error)) {
    throw new AuthkestraError(
      'provider_bad_response',
      `${what} "error" is not a valid OAuth error code`,
      {
        status: response.status,
      },
    )
  }
  const description = json.error_description
  throw new AuthkestraError('token_error', `${what} answered "${json.error}"`, {
    oauthError: json.error,
    ...(typeof description === 'string' ? { oauthErrorDescription: description } : {}),
    status: response.status,
  })
}

/** RFC 6749 Appendix A.12/A.17: tokens are VSCHAR (printable ASCII). */
const VSCHARS = /^[\x20-\x7e]+$/
/** Lifetimes beyond ten years are read as ten years. */
const MAX_EXPIRES_IN = 315_360_000

function invalid(message: string): AuthkestraError {
  return new AuthkestraError('token_response_invalid', message)
}

/** Validates a token endpoint response (RFC 6749 §5.1 / §5.2). */
export function processTokenResponse(
  response: HttpResponse,
  deps: Pick<GrantDeps, 'clock' | 'scopeSeparator' | 'dpop'>,
): TokenSet {
  let json: Record<string, unknown>
  try {
    json = parseJsonObject(response, 'token endpoint')
  } catch (err) {
    if (response.status !== 200) {
      throw new AuthkestraError(
        'provider_bad_response',
        `token endpoint answered ${response.status} without an OAuth error body`,
        { status: response.status, cause: err },
      )
    }
    throw err
  }
  // Some providers (GitHub) answer errors with 200 and an `error` member.
  throwIfOAuthError(json, response, 'token endpoint')
  if (response.status !== 200) {
    throw new AuthkestraError(
      'provider_bad_response',
      `token endpoint answered ${response.status} without an OAuth error body`,
      { status: response.status },
    )
  }
  const { access_token, token_type, expires_in, refresh_token, id_token, scope } = json
  if (typeof access_token !== 'string' || !VSCHARS.test(access_token)) {
    throw invalid('token response "access_token" must be a non-empty string of printable ASCII')
  }
  const type = typeof token_type === 'string' ? token_type.toLowerCase() : undefined
  if (type !== 'bearer' && !(type === 'dpop' && deps.dpop)) {
    throw invalid(
      deps.dpop
        ? 'token response "token_type" must be "DPoP" or "Bearer"'
        : 'token response "token_type" must be "Bearer"',
    )
  }
  let expiresIn: number | undefined
  if (expires_in !== undefined && expires_in !== null) {
    const value =
      typeof expires_in === 'string' && /^\d{1,10}$/.test(expires_in)
        ? Number(expires_in)
        : expires_in
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalid('token response "expires_in" must be a non-negative number')
    }
    expiresIn = Math.min(value, MAX_EXPIRES_IN)
  }
  if (
    refresh_token !== undefined &&
    refresh_token !== null &&
    (typeof refresh_token !== 'string' || !VSCHARS.test(refresh_token))
  ) {
    throw invalid('token response "refresh_token" must be a string of printable ASCII')
  }
  for (const [name, value] of Object.entries({ refresh_token, id_token, scope })) {
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw invalid(`token response "${name}" must be a string`)
    }
  }
  return {
    accessToken: access_token,
    ...(type === 'dpop' && deps.dpop
      ? { tokenType: 'DPoP' as const, dpopKey: deps.dpop.key }
      : { tokenType: 'Bearer' as const }),
    ...(expiresIn === undefined ? {} : { expiresAt: deps.clock.now() + expiresIn * 1000 }),
    ...(typeof refresh_token === 'string' && refresh_token !== ''
      ? { refreshToken: refresh_token }
      : {}),
    ...(typeof id_token === 'string' && id_token !== '' ? { idToken: id_token } : {}),
    ...(typeof scope === 'string'
      ? {
          scope: scope
            .split(deps.scopeSeparator)
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    raw: json,
  }
}
