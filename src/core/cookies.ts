/**
 * Cookies Authkestra sets (sessions, flow state, the OP's interaction binding): read one from a
 * request, and serialize with `HttpOnly`, `SameSite=Lax` and, unless on plain-http loopback,
 * `Secure`.
 *
 * @module
 */

/**
 * The value of cookie `name` in a request, if present exactly once (a duplicated name is
 * treated as absent: someone may be injecting a cookie).
 *
 * @example
 * ```ts
 * const sid = readCookie(request, 'ak_session')
 * ```
 */
export function readCookie(request: Request, name: string): string | undefined {
  const values = cookiePairs(request).filter(([n]) => n === name)
  return values.length === 1 ? values[0]?.[1] : undefined
}

/**
 * Every `name=value` pair of a request's `Cookie` header, in order (a name may repeat).
 *
 * @example
 * ```ts
 * const flows = cookiePairs(request).filter(([name]) => name.startsWith('ak_flow_'))
 * ```
 */
export function cookiePairs(request: Request): [name: string, value: string][] {
  const header = request.headers.get('cookie')
  if (!header) return []
  const pairs: [string, string][] = []
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq >= 0) pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()])
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
