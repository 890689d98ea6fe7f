/**
 * Known browsers (OWASP's "device cookie" defence against lock-out): a browser in which a user
 * signed in with a password gets a long-lived random cookie, remembered in the store for that
 * username (under the hash of cookie and username). Password failures for a username are then
 * counted in two places: per username for browsers unknown for it (so credential stuffing from
 * anywhere is slowed), and per known browser for its own (so that an attacker hammering a
 * username cannot lock out the user in the browser they always use).
 *
 * @module
 */
import { readCookie, serializeCookie } from '../../../core/cookies.ts'
import type { OpRequest } from '../../http/message.ts'
import type { OpRuntime } from '../../setup.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'
import { cookieScope } from './session.ts'

const COOKIE = 'ak_op_known'
/** A browser stays known for 90 days after its last password sign-in. */
const KNOWN_SECONDS = 90 * 86_400

/** The form a username is counted under: trimmed, NFKC, lower case. */
function normalUsername(username: string): string {
  return username.trim().normalize('NFKC').toLowerCase()
}

function cookieOf(request: OpRequest): string | undefined {
  const value = readCookie(request, COOKIE)
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined
}

async function recordId(cookie: string, username: string): Promise<string> {
  return secretId(`known-browser:${cookie} ${normalUsername(username)}`)
}

/**
 * What the `passwordPerUsername` limit counts this attempt under: the known browser when this
 * browser signed in as `username` before, else the username.
 *
 * @example
 * ```ts
 * const subject = await usernameSubject(request, 'alice', deps)
 * ```
 */
export async function usernameSubject(
  request: OpRequest,
  username: string,
  deps: Pick<OpRuntime, 'store'>,
): Promise<string> {
  const cookie = cookieOf(request)
  if (cookie !== undefined) {
    const id = await recordId(cookie, username)
    if (await deps.store.get('knownBrowser', id)) return `browser ${id}`
  }
  return `user ${normalUsername(username)}`
}

/**
 * Remembers this browser for `username` after a correct password; the `Set-Cookie` to send (the
 * browser's cookie, kept when it has one).
 *
 * @example
 * ```ts
 * addCookie(response, await rememberBrowser(request, 'alice', deps))
 * ```
 */
export async function rememberBrowser(
  request: OpRequest,
  username: string,
  deps: Pick<OpRuntime, 'store' | 'settings'>,
): Promise<string> {
  const cookie = cookieOf(request) ?? newSecret()
  await deps.store.set(
    'knownBrowser',
    await recordId(cookie, username),
    {},
    { ttlSeconds: KNOWN_SECONDS },
  )
  const scope = cookieScope(deps)
  const path = `${deps.settings.basePath}/interaction`
  return serializeCookie(COOKIE, cookie, { ...scope, path }, KNOWN_SECONDS)
}
