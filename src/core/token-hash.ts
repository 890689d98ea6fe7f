/**
 * `at_hash` / `c_hash` (OpenID Connect Core §3.1.3.8, §3.3.2.11): base64url of the left half of
 * the hash of a token, the hash chosen by the JWS algorithm. SHA-256 goes through the crypto
 * seam (the `node:crypto` fast path where there is one).
 *
 * @module
 */
import { encodeBase64url } from './base64url.ts'
import { defaultCrypto } from './crypto/index.ts'

const HASH_OF: Readonly<Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'>> = {
  RS256: 'SHA-256',
  PS256: 'SHA-256',
  ES256: 'SHA-256',
  RS384: 'SHA-384',
  PS384: 'SHA-384',
  ES384: 'SHA-384',
  RS512: 'SHA-512',
  PS512: 'SHA-512',
  ES512: 'SHA-512',
  EdDSA: 'SHA-512',
  Ed25519: 'SHA-512',
}

/**
 * The half-hash of `token` for JWS algorithm `alg`; undefined for an algorithm it does not know.
 *
 * @example
 * ```ts
 * const atHash = await accessTokenHash(accessToken, 'ES256')
 * ```
 */
export async function accessTokenHash(token: string, alg: string): Promise<string | undefined> {
  const hash = HASH_OF[alg]
  if (!hash) return undefined
  const digest =
    hash === 'SHA-256'
      ? await defaultCrypto.sha256(token)
      : new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(token)))
  return encodeBase64url(digest.subarray(0, digest.length / 2))
}
