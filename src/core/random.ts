/**
 * Random, URL-safe tokens for state, nonce, ids and secrets.
 *
 * @module
 */
import { encodeBase64url } from './base64url.ts'
import { type CryptoBackend, defaultCrypto } from './crypto/index.ts'
import { AuthkestraError } from './errors.ts'

/**
 * A base64url string carrying `bytes` random bytes (default 32, i.e. 256 bits; 43 characters).
 *
 * @example
 * ```ts
 * const state = randomToken() // e.g. 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
 * ```
 */
export function randomToken(bytes = 32, backend: CryptoBackend = defaultCrypto): string {
  if (!Number.isInteger(bytes) || bytes < 16) {
    throw new AuthkestraError('config_invalid', `"bytes" must be an integer of at least 16`)
  }
  return encodeBase64url(backend.randomBytes(bytes))
}
