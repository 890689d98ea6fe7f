/**
 * Opaque secrets the OP hands out (codes, refresh tokens, session ids, CSRF tokens): 256 random
 * bits, stored only as their SHA-256, compared in constant time.
 *
 * @module
 */
import { encodeBase64url } from '../../core/base64url.ts'
import { defaultCrypto } from '../../core/crypto/index.ts'
import { randomToken } from '../../core/random.ts'

/** A fresh opaque secret (43 characters). */
export function newSecret(): string {
  return randomToken(32)
}

/** The id a secret is stored under: base64url(SHA-256(secret)). */
export async function secretId(secret: string): Promise<string> {
  return encodeBase64url(await defaultCrypto.sha256(secret))
}

const encoder = new TextEncoder()

/** Whether `secret` hashes to `hash`, in constant time. */
export async function matchesHash(secret: string, hash: string): Promise<boolean> {
  return defaultCrypto.timingSafeEqual(encoder.encode(await secretId(secret)), encoder.encode(hash))
}
