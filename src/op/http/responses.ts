/**
 * Responses the OP sends: JSON (never cached when it carries tokens), OAuth errors, redirects, and
 * HTML pages with a strict Content-Security-Policy.
 *
 * @module
 */
import type { OAuthProblem } from '../errors.ts'
import type { OpResponse } from './message.ts'

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

const lower = (headers: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))

/** A JSON response; `Cache-Control: no-store` unless `cacheable`. */
export function json(
  body: unknown,
  status = 200,
  headers: Readonly<Record<string, string>> = {},
  cacheable = false,
): OpResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(cacheable ? {} : NO_STORE),
      ...lower(headers),
    },
    body: JSON.stringify(body),
  }
}

/** An RFC 6749 §5.2 error body with the problem's status and headers. */
export function oauthError(problem: OAuthProblem): OpResponse {
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
): OpResponse {
  return {
    status,
    headers: { location: String(location), ...NO_STORE, ...lower(headers) },
    body: null,
  }
}

/** An empty answer (`no-store`). */
export function empty(status: number, headers: Readonly<Record<string, string>> = {}): OpResponse {
  return { status, headers: { ...NO_STORE, ...lower(headers) }, body: null }
}

/** Third-party sources a page's CSP allows besides its own (a bot-check provider's). */
export interface CspSources {
  readonly script?: readonly string[]
  readonly connect?: readonly string[]
  readonly style?: readonly string[]
}

/**
 * An HTML page that cannot be framed, cached, or run any script. `frameSources` lists the only
 * origins it may frame (the front-channel logout page, a bot-check widget), none by default;
 * `sources` the only third-party scripts, connections and styles it may use (a bot check's).
 */
export function html(
  body: string,
  status = 200,
  headers: Readonly<Record<string, string>> = {},
  frameSources: readonly string[] = [],
  /** `'sha256-…'` sources of the page's own inline scripts; they may fetch from the OP only. */
  scriptHashes: readonly string[] = [],
  sources: CspSources = {},
): OpResponse {
  const frames = frameSources.length === 0 ? '' : `; frame-src ${frameSources.join(' ')}`
  const scriptList = [...scriptHashes.map((h) => `'${h}'`), ...(sources.script ?? [])]
  const connectList = [...(scriptHashes.length === 0 ? [] : ["'self'"]), ...(sources.connect ?? [])]
  const scripts = scriptList.length === 0 ? '' : `; script-src ${scriptList.join(' ')}`
  const connect = connectList.length === 0 ? '' : `; connect-src ${connectList.join(' ')}`
  const style = ["'unsafe-inline'", ...(sources.style ?? [])].join(' ')
  return {
    status,
    headers: {
      ...lower(headers),
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; style-src ${style}; frame-ancestors 'none'; base-uri 'none'${frames}${scripts}${connect}`,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
    body,
  }
}
