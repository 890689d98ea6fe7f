/**
 * User codes (RFC 8628 §6.1): 8 characters from 20 consonants (`BCDFGHJKLMNPQRSTVWXZ`: no vowels,
 * so no words; none that look like digits), about 34.5 bits, shown `XXXX-XXXX`. What a person
 * types is normalised before the lookup (case, dashes and spaces ignored), and a code is stored
 * only under the SHA-256 of its normal form.
 *
 * @module
 */
import { defaultCrypto } from '../../../core/crypto/index.ts'
import { secretId } from '../../tokens/secrets.ts'

const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'
const LENGTH = 8

/** A fresh user code in its normal form (8 letters, no dash). */
export function newUserCode(): string {
  let code = ''
  while (code.length < LENGTH) {
    // Rejection sampling: 240 = 12 × 20, so every letter is equally likely.
    for (const byte of defaultCrypto.randomBytes(16)) {
      if (byte < 240 && code.length < LENGTH) code += ALPHABET[byte % 20]
    }
  }
  return code
}

/** The code as shown to people: `XXXX-XXXX`. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

/**
 * The normal form of what someone typed (upper case, no dashes or spaces), or undefined when it
 * cannot be a user code of this OP (so a lookup is never even tried).
 */
export function normalizeUserCode(typed: string): string | undefined {
  if (typed.length > 32) return undefined
  const code = typed.toUpperCase().replace(/[\s-]/g, '')
  if (code.length !== LENGTH) return undefined
  for (const c of code) if (!ALPHABET.includes(c)) return undefined
  return code
}

/** The id a user code's index record is stored under. */
export function userCodeId(normalized: string): Promise<string> {
  return secretId(`user-code:${normalized}`)
}
