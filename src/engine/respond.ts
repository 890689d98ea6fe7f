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
import { jsonResponse, noStore } from './message.ts'

const STATUS: Partial<Record<AuthkestraErrorCode | string, number>> = {
  provider_unreachable: 502,
  provider_timeout: 504,
  provider_response_too_large: 502,
  provider_bad_response: 502,
  discovery_invalid: 502,
  discovery_issuer_mismatch: 502,
  store_unavailable: 503,
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
  forbidden_origin: 'This request did not come from this site.',
  not_found: 'Not found.',
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** True when the client prefers JSON. */
export function wantsJson(request: GuardRequest): boolean {
  const accept = request.headers.get('accept') ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

/** The failure response for `code`, with any cookies the route set before failing. */
export function failure(
  request: GuardRequest,
  code: string,
  cookies: readonly string[] = [],
): MessageResponse {
  const status = STATUS[code] ?? 400
  const message = MESSAGE[code] ?? 'The sign-in could not be completed. Please start again.'
  if (wantsJson(request)) return jsonResponse({ error: code, message }, status, cookies)
  const body = `<!doctype html><meta charset="utf-8"><title>Sign-in error</title><body style="font:16px system-ui;margin:3rem"><h1>Sign-in error</h1><p>${escapeHtml(message)}</p><p><small>Error code: <code>${escapeHtml(code)}</code></small></p><p><a href="/">Back to the start</a></p></body>`
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  }
  return noStore(status, headers, body, cookies)
}

/**
 * Tells the logger why a request failed, once, with the error's code and message (written never
 * to hold a token, code, verifier or secret), e.g. `GET /auth/callback/github failed
 * (discovery_issuer_mismatch): discovery "issuer" must equal "http://localhost:9000" exactly`.
 */
export function logFailure(logger: Logger, request: GuardRequest, error: AuthkestraError): void {
  const path = new URL(request.url).pathname
  logger.warn(`${request.method} ${path} failed (${error.code}): ${error.message}`)
}
