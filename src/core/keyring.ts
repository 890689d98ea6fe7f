/**
 * The app secret(s) and the keys derived from them. Authkestra never uses a secret directly:
 * each purpose (`'flow-state'`, `'session'`, …) gets its own HKDF-SHA-256 key, so a key leaked
 * from one purpose says nothing about another. Several secrets rotate: the first seals or signs,
 * every one still opens or verifies.
 *
 * @module
 */
import { encodeBase64url } from './base64url.ts'
import { type CryptoBackend, defaultCrypto, toBytes } from './crypto/index.ts'
import { AuthkestraError } from './errors.ts'

/** A secret of at least 32 bytes (a string counts its UTF-8 bytes). */
export type Secret = string | Uint8Array

/** A key derived for one purpose, with a short public id that names it (no key material). */
export interface DerivedKey {
  readonly kid: string
  readonly key: Uint8Array
}

/** Derives per-purpose keys from the app secret(s). */
export interface Keyring {
  /** Keys for `purpose`, newest secret first: `[0]` seals/signs, all open/verify. */
  keys(purpose: string): Promise<readonly DerivedKey[]>
}

/**
 * Minimum secret length in bytes (256 bits).
 *
 * @example
 * ```ts
 * if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) throw new Error('secret too short')
 * ```
 */
export const MIN_SECRET_BYTES = 32
const SALT = 'authkestra/v1'

/**
 * Builds a {@link Keyring}. Throws `config_invalid` when no secret is given or one is shorter
 * than 32 bytes; there is no default secret.
 *
 * @example
 * ```ts
 * const keyring = createKeyring([process.env.AUTH_SECRET!, process.env.AUTH_SECRET_OLD!])
 * const [current] = await keyring.keys('flow-state')
 * ```
 */
export function createKeyring(
  secret: Secret | readonly Secret[],
  options: { crypto?: CryptoBackend } = {},
): Keyring {
  const list = (Array.isArray(secret) ? secret : [secret]) as readonly Secret[]
  if (list.length === 0) throw new AuthkestraError('config_invalid', '"secret" must not be empty')
  const secrets = list.map((s, i) => {
    if (typeof s !== 'string' && !(s instanceof Uint8Array)) {
      throw new AuthkestraError('config_invalid', `"secret[${i}]" must be a string or Uint8Array`)
    }
    const bytes = toBytes(s)
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new AuthkestraError(
        'config_invalid',
        `"secret[${i}]" must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 32)`,
      )
    }
    return bytes.slice()
  })
  const backend = options.crypto ?? defaultCrypto
  const cache = new Map<string, Promise<readonly DerivedKey[]>>()

  async function derive(purpose: string): Promise<readonly DerivedKey[]> {
    return Promise.all(
      secrets.map(async (ikm) => {
        const key = await backend.hkdf(ikm, SALT, `authkestra ${purpose} key`, 32)
        const id = await backend.hkdf(ikm, SALT, `authkestra ${purpose} kid`, 9)
        return { kid: encodeBase64url(id), key }
      }),
    )
  }

  return {
    keys(purpose: string): Promise<readonly DerivedKey[]> {
      let keys = cache.get(purpose)
      if (!keys) {
        keys = derive(purpose)
        cache.set(purpose, keys)
      }
      return keys
    },
  }
}
