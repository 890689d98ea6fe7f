/**
 * The Basic guard (RFC 7617): `Authorization: Basic base64(user-id ":" password)`, UTF-8
 * (the challenge says `charset="UTF-8"`, §2.1), split at the first colon, checked by the app's
 * `verify`. Send it over HTTPS only: the password travels in every request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7617
 * @module
 */
import { AuthkestraError } from '../../core/errors.ts'
import { authorization, challenge, checkQuotable, deny } from './challenge.ts'
import type { Guard } from './types.ts'

/** Longest base64 credentials accepted, in characters. */
const MAX_CREDENTIALS_LENGTH = 4096
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** RFC 5234 CTL: user-id and password must not contain them (RFC 7617 §2). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Options of {@link basic}. */
export interface BasicOptions<Principal extends object> {
  /** The protection space named in the challenge (printable ASCII, no `"` or `\`). */
  readonly realm: string
  /**
   * The principal for these credentials, or null to refuse them. Check passwords with
   * `verifyPassword` (constant time, hashed at rest), never `password === stored`; spend the
   * same time on an unknown user as on a wrong password.
   */
  readonly verify: (username: string, password: string) => Promise<Principal | null>
}

/** The user-id and password in `rest`, or undefined when they are malformed. */
function decode(rest: string): { username: string; password: string } | undefined {
  if (rest === '' || rest.length > MAX_CREDENTIALS_LENGTH || !BASE64.test(rest)) return undefined
  const binary = atob(rest)
  let text: string
  try {
    text = utf8.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
  } catch {
    return undefined
  }
  const colon = text.indexOf(':')
  if (colon === -1 || CONTROL.test(text)) return undefined
  return { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

/**
 * A guard that requires HTTP Basic credentials. No `Authorization: Basic` → 401 with
 * `WWW-Authenticate: Basic realm="…", charset="UTF-8"`; malformed credentials (not base64, not
 * UTF-8, no colon, control characters) → 401 `invalid_request`; credentials `verify` refuses →
 * 401 `invalid_credentials`; all with that challenge. The strings reach `verify` exactly as
 * decoded (the password may contain colons). An error thrown by `verify` propagates.
 *
 * @example
 * ```ts
 * const admin = basic({
 *   realm: 'admin',
 *   verify: async (username, password) => {
 *     const user = await users.find(username)
 *     const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH)
 *     return user && ok ? user : null
 *   },
 * })
 * ```
 */
export function basic<Principal extends object>(
  options: BasicOptions<Principal>,
): Guard<Principal> {
  const realm = checkQuotable(options.realm, 'realm')
  if (typeof options.verify !== 'function') {
    throw new AuthkestraError('config_invalid', '"verify" must be a function')
  }
  const challengeValue = challenge('Basic', [
    ['realm', realm],
    ['charset', 'UTF-8'],
  ])
  return async (request) => {
    const credentials = authorization(request)
    if (credentials?.scheme !== 'basic') {
      return deny('none', 401, challengeValue, 'unauthorized', 'credentials are required')
    }
    const decoded = decode(credentials.rest)
    if (!decoded) {
      return deny(
        'presented',
        401,
        challengeValue,
        'invalid_request',
        'the Basic credentials are malformed',
      )
    }
    const principal = await options.verify(decoded.username, decoded.password)
    if (typeof principal !== 'object' || principal === null) {
      return deny(
        'presented',
        401,
        challengeValue,
        'invalid_credentials',
        'the username or password is not valid',
      )
    }
    return { ok: true, principal }
  }
}
