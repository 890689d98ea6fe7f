/**
 * The one-time CSRF tokens of the interaction forms, stateless until spent: a page render stores
 * nothing. A token is `<random>.<mac>`, the MAC an HMAC-SHA-256 over the interaction's uid and
 * the random part under the OP's `'op-csrf'` key (`seal-keys.ts`, every key verifies), so it is
 * good only for its own interaction and only made by this OP. A POST spends it with
 * `useOnce` (atomic: one of two concurrent submissions wins), remembered for `ttl.interaction`,
 * as long as its interaction can live: a form is submitted once.
 *
 * @module
 */
import { decodeBase64url, encodeBase64url } from '../../../core/base64url.ts'
import { defaultCrypto } from '../../../core/crypto/index.ts'
import { AuthkestraError } from '../../../core/errors.ts'
import { randomToken } from '../../../core/random.ts'
import type { OpRuntime } from '../../setup.ts'
import { secretId } from '../../tokens/secrets.ts'

const PURPOSE = 'op-csrf'
const encoder = new TextEncoder()

type Deps = Pick<OpRuntime, 'seal' | 'settings' | 'store'>

const macOf = (key: Uint8Array, uid: string, random: string) =>
  defaultCrypto.hmacSha256(key, encoder.encode(`csrf ${uid} ${random}`))

/** A fresh CSRF token for a form of interaction `uid` (nothing stored). */
export async function csrfFor(uid: string, deps: Pick<Deps, 'seal'>): Promise<string> {
  const [current] = await deps.seal.keys(PURPOSE)
  if (!current) throw new AuthkestraError('config_invalid', 'the OP has no sealing key')
  const random = randomToken(16)
  return `${random}.${encodeBase64url(await macOf(current.key, uid, random))}`
}

/** Whether `token` was made by this OP for interaction `uid` (no state read or written). */
export async function csrfValid(
  token: string,
  uid: string,
  deps: Pick<Deps, 'seal'>,
): Promise<boolean> {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token)
  const mac = match ? decodeBase64url(match[2] as string) : undefined
  if (!match || !mac) return false
  for (const key of await deps.seal.keys(PURPOSE)) {
    const expected = await macOf(key.key, uid, match[1] as string)
    if (defaultCrypto.timingSafeEqual(expected, mac)) return true
  }
  return false
}

/** Spends a valid token once; false when it was spent before. */
export async function spendCsrf(token: string, deps: Deps): Promise<boolean> {
  return deps.store.useOnce(`csrf:${await secretId(token)}`, deps.settings.ttl.interaction)
}
