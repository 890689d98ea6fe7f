/**
 * The user key: what "log out everywhere" finds a user's sessions and tokens by. By default the
 * provider account (`<provider>:<subject>`); an app that links several accounts to one user passes
 * `userKey: (user) => user.id`. Stores and tokens only ever hold its SHA-256.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { defaultCrypto } from '../core/crypto/index.ts'

/** Who logged in, as the engine records it. */
export interface LoginSubject {
  readonly provider: string
  readonly subject: string
}

/** Maps a signed-in user to the key "log out everywhere" uses. */
export type UserKeyOf<User> = (user: User, who: LoginSubject) => string

/**
 * The default user key: the provider account, `<provider>:<subject>` (provider ids never contain
 * `:`).
 *
 * @example
 * ```ts
 * await auth.logoutEverywhere(defaultUserKey(null, { provider: 'github', subject: '583231' }))
 * ```
 */
export function defaultUserKey(_user: unknown, who: LoginSubject): string {
  return `${who.provider}:${who.subject}`
}

/** The SHA-256 of a user key, base64url (43 characters): what stores and tokens keep. */
export async function userKeyHash(userKey: string): Promise<string> {
  return encodeBase64url(await defaultCrypto.sha256(userKey))
}
