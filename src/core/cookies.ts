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
  const header = request.headers.get('cookie')
  if (!header) return undefined
  const values: string[] = []
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim())
  }
  return values.length === 1 ? values[0] : undefined
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
