/**
 * Comparing a secret string a request carries with the one kept, in constant time (for equal
 * lengths; a different length is simply unequal).
 *
 * @module
 */
import { defaultCrypto } from './crypto/index.ts'

const encoder = new TextEncoder()

/**
 * Whether `a` and `b` are the same string, without a timing signal of where they differ.
 *
 * @example
 * ```ts
 * if (!sameString(returnedState, keptState)) throw new Error('state mismatch')
 * ```
 */
export function sameString(a: string, b: string): boolean {
  return defaultCrypto.timingSafeEqual(encoder.encode(a), encoder.encode(b))
}
