/**
 * Responses the OP sends: JSON (never cached when it carries tokens), OAuth errors, redirects, and
 * HTML pages with a strict Content-Security-Policy.
 *
 * @module
 */
import type { OAuthProblem } from '../errors.ts'

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

/** A JSON response; `Cache-Control: no-store` unless `cacheable`. */
export function json(
  body: unknown,
  status = 200,
  headers: Readonly<Record<string, string>> = {},
  cacheable = false,
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(cacheable ? {} : NO_STORE),
      ...headers,
    },
  })
}

/** An RFC 6749 §5.2 error body with the problem's status and headers. */
export function oauthError(problem: OAuthProblem): Response {
  return json(
    { error: problem.error, error_description: problem.description },
    problem.status,
    problem.headers,
  )
}

/** A 303 redirect (a POST is never replayed at the target). */
export function redirect(
  location: string | URL,
  headers: Readonly<Record<string, string>> = {},
  status = 303,
): Response {
  return new Response(null, {
    status,
    headers: { location: String(location), ...NO_STORE, ...headers },
  })
}

/** An HTML page that cannot be framed, cached, or run any script. */
export function html(
  body: string,
  status = 200,
  headers: Readonly<Record<string, string> | Headers> = {},
): Response {
  const out = new Headers(headers)
  out.set('content-type', 'text/html; charset=utf-8')
  out.set(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  )
  out.set('x-frame-options', 'DENY')
  out.set('x-content-type-options', 'nosniff')
  out.set('referrer-policy', 'no-referrer')
  out.set('cache-control', 'no-store')
  return new Response(body, { status, headers: out })
}
