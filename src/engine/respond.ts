/**
 * What the engine answers when a login fails: a short HTML page for browsers, JSON for API
 * clients (by `Accept`), always with the stable error code and never with request values.
 *
 * @module
 */
import type { AuthkestraError, AuthkestraErrorCode } from '../core/errors.ts'
import type { MessageResponse } from '../core/http-message.ts'
import type { Logger } from '../core/logger.ts'
import type { GuardRequest } from './guards/types.ts'
import { jsonResponse } from './message.ts'
import { type AuthPage, type PagesOptions, pageResponse } from './pages.ts'

const STATUS: Partial<Record<AuthkestraErrorCode | string, number>> = {
  provider_unreachable: 502,
  provider_timeout: 504,
  provider_response_too_large: 502,
  provider_bad_response: 502,
  discovery_invalid: 502,
  discovery_issuer_mismatch: 502,
  store_unavailable: 503,
  rate_limited: 429,
  login_rejected: 403,
  authorization_error: 403,
  unauthorized: 401,
  forbidden_origin: 403,
  not_found: 404,
  internal_error: 500,
}

const MESSAGE: Partial<Record<string, string>> = {
  authorization_error: 'The sign-in was cancelled or refused at the provider.',
  login_rejected: 'This account is not allowed to sign in here.',
  flow_state_expired: 'The sign-in took too long. Please start again.',
  store_unavailable: 'The service is temporarily unavailable. Please try again shortly.',
  rate_limited: 'Too many sign-in attempts from your network.',
  forbidden_origin: 'This request did not come from this site.',
  not_found: 'Not found.',
}

/** True when the client prefers JSON. */
export function wantsJson(request: GuardRequest): boolean {
  const accept = request.headers.get('accept') ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

/** What to do about a failure, in plain language. */
const HINT: Partial<Record<string, string>> = {
  authorization_error: 'Try again, and allow the app when the provider asks.',
  login_rejected: 'Sign in with another account, or ask the site for access.',
  flow_state_expired: 'Go back to the start and sign in again.',
  store_unavailable: 'Wait a moment, then try again.',
  rate_limited: 'Wait a minute, then sign in again.',
  forbidden_origin: 'Use the buttons of this site itself.',
  not_found: 'Check the address, or go back to the start.',
  provider_unreachable: 'The sign-in provider could not be reached. Try again in a moment.',
  provider_timeout: 'The sign-in provider did not answer in time. Try again in a moment.',
  internal_error: 'Try again; if it keeps happening, tell the site.',
}

/** The error pages made by {@link failure}, so a themed engine can render them its own way. */
const errorPages = new WeakMap<
  MessageResponse,
  { page: AuthPage; cookies: readonly string[]; headers: Readonly<Record<string, string>> }
>()

/** The failure response for `code`, with any cookies the route set before failing. */
export function failure(
  request: GuardRequest,
  code: string,
  cookies: readonly string[] = [],
): MessageResponse {
  const status = STATUS[code] ?? 400
  const message = MESSAGE[code] ?? 'The sign-in could not be completed.'
  if (wantsJson(request)) return jsonResponse({ error: code, message }, status, cookies)
  const hint = HINT[code] ?? 'Go back to the start and sign in again.'
  const page: AuthPage = { kind: 'error', status, code, message, hint }
  const response = pageResponse({}, page, status, cookies)
  errorPages.set(response, { page, cookies, headers: {} })
  return response
}

/** A 429 {@link failure} (`rate_limited`) with `Retry-After`, themed like the others. */
export function tooManyRequests(request: GuardRequest, retryAfterSeconds: number): MessageResponse {
  const refused = failure(request, 'rate_limited')
  const headers = { 'retry-after': String(retryAfterSeconds) }
  const response = { ...refused, headers: { ...refused.headers, ...headers } }
  const made = errorPages.get(refused)
  if (made) errorPages.set(response, { ...made, headers })
  return response
}

/** An error page of {@link failure} in the engine's theme; any other response as it is. */
export function themed(response: MessageResponse, pages: PagesOptions): MessageResponse {
  const made = errorPages.get(response)
  if (!made) return response
  const page = pageResponse(pages, made.page, response.status, made.cookies)
  return { ...page, headers: { ...page.headers, ...made.headers } }
}

/**
 * Tells the logger why a request failed, once, with the error's code and message (written never
 * to hold a token, code, verifier or secret), e.g. `GET /auth/callback/github failed
 * (discovery_issuer_mismatch): discovery "issuer" must equal "http://localhost:9000" exactly`.
 */
export function logFailure(logger: Logger, request: GuardRequest, error: AuthkestraError): void {
  const path = new URL(request.url).pathname
  logger.warn(`${request.method} ${path} failed (${error.code}): ${oneLine(error.message)}`)
}

/**
 * `text` on one line: a provider's error text (quoted in some messages) cannot forge further
 * log lines.
 */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ')
}
