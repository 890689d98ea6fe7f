/**
 * Recovery codes: ten random codes of 50 bits each (`xxxxx-xxxxx`, base32 lowercase), shown once
 * and stored only as keyed hashes (HMAC-SHA-256 under a key the keyring derives for
 * `'mfa-recovery'`, so a copy of the store alone cannot test guesses). Each is its own record,
 * so using one is an atomic delete: a code works once.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { type CryptoBackend, defaultCrypto } from '../core/crypto/index.ts'
import type { Keyring } from '../core/keyring.ts'
import { encodeBase32 } from './base32.ts'

const PURPOSE = 'mfa-recovery'

/**
 * How many codes a set has.
 *
 * @example
 * ```ts
 * console.log(`Save these ${RECOVERY_CODE_COUNT} codes somewhere safe`)
 * ```
 */
export const RECOVERY_CODE_COUNT = 10

/** A new recovery code, e.g. `'k3j9x-pq2mz'`. */
export function generateRecoveryCode(backend: CryptoBackend = defaultCrypto): string {
  const text = encodeBase32(backend.randomBytes(7)).slice(0, 10).toLowerCase()
  return `${text.slice(0, 5)}-${text.slice(5)}`
}

/**
 * A typed code in its one form (case, spaces and dashes ignored); undefined if not a code.
 *
 * @example
 * ```ts
 * normalizeRecoveryCode(' K3J9X PQ2MZ ') // 'k3j9xpq2mz'
 * ```
 */
export function normalizeRecoveryCode(typed: string): string | undefined {
  const clean = typed.replace(/[\s-]/g, '').toLowerCase()
  return /^[a-z2-7]{10}$/.test(clean) ? clean : undefined
}

/**
 * The record ids a code could have, one per keyring key (newest first): `rc_` and the keyed
 * hash of the account and the code.
 */
export async function recoveryCodeIds(
  keyring: Keyring,
  accountId: string,
  normalized: string,
  backend: CryptoBackend = defaultCrypto,
): Promise<string[]> {
  const keys = await keyring.keys(PURPOSE)
  return Promise.all(
    keys.map(
      async (k) =>
        `rc_${encodeBase64url(await backend.hmacSha256(k.key, `${accountId}\u0000${normalized}`))}`,
    ),
  )
}
