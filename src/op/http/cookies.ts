/**
 * Cookies of the OP (login session, interaction binding): parse and serialize, `HttpOnly`,
 * `SameSite=Lax`, `Secure` unless the issuer is plain http on loopback.
 *
 * @module
 */

/** The value of cookie `name` in a request, if present exactly once. */
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

/** Attributes shared by every OP cookie. */
export interface CookieScope {
  readonly path: string
  readonly secure: boolean
}

/** A `Set-Cookie` value; `maxAge` 0 deletes. */
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
