/**
 * Cookies Authkestra sets (sessions, flow state, the OP's interaction binding): read one from a
 * request, and serialize with `HttpOnly`, `SameSite=Lax` and, unless on plain-http loopback,
 * `Secure`.
 *
 * @module
 */

/** Anything with headers to look up: a Web `Request`, or the OP's own request shape. */
export interface HasHeaders {
  readonly headers: { get(name: string): string | null }
}

const ows = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, '')

/**
 * The value of cookie `name` in a request, if present exactly once (a duplicated name is
 * treated as absent: someone may be injecting a cookie).
 *
 * @example
 * ```ts
 * const sid = readCookie(request, 'ak_session')
 * ```
 */
export function readCookie(request: HasHeaders, name: string): string | undefined {
  const header = request.headers.get('cookie')
  if (!header) return undefined
  let found: string | undefined
  // On every guarded request: a scan of the header, allocating only the value it returns.
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || ows(part.slice(0, eq)) !== name) continue
    if (found !== undefined) return undefined
    found = ows(part.slice(eq + 1))
  }
  return found
}

/**
 * Every `name=value` pair of a request's `Cookie` header, in order (a name may repeat).
 *
 * @example
 * ```ts
 * const flows = cookiePairs(request).filter(([name]) => name.startsWith('ak_flow_'))
 * ```
 */
export function cookiePairs(request: HasHeaders): [name: string, value: string][] {
  const header = request.headers.get('cookie')
  if (!header) return []
  const pairs: [string, string][] = []
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    // Only spaces and tabs are trimmed (RFC 6265bis §5.4): `trim()` would also drop U+00A0, and
    // read a cookie named "\u00a0__Host-x" (which a browser may let a sibling domain set) as
    // the prefixed "__Host-x".
    if (eq >= 0) pairs.push([ows(part.slice(0, eq)), ows(part.slice(eq + 1))])
  }
  return pairs
}

/** Path and `Secure` flag of a cookie. */
export interface CookieScope {
  readonly path: string
  readonly secure: boolean
}

/**
 * A `Set-Cookie` value (`HttpOnly; SameSite=Lax`); `maxAgeSeconds` 0 deletes it.
 *
 * @example
 * ```ts
 * headers.append('set-cookie', serializeCookie('ak_session', id, { path: '/', secure: true }, 3600))
 * ```
 */
export function serializeCookie(
  name: string,
  value: string,
  scope: CookieScope,
  maxAgeSeconds: number,
): string {
  return [
    `${name}=${value}`,
    `Path=${scope.path}`,
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(scope.secure ? ['Secure'] : []),
  ].join('; ')
}
