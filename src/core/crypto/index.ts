/**
 * Chooses the crypto backend once, at load: `node:crypto` where the runtime has it, Web Crypto
 * everywhere else. Both implement the same {@link CryptoBackend} and are tested against each other.
 *
 * @module
 */
import type { CryptoBackend } from './types.ts'
import { webCrypto } from './web.ts'

async function loadNodeBackend(): Promise<CryptoBackend | undefined> {
  const runtime = globalThis as { process?: { versions?: { node?: string } } }
  if (typeof runtime.process?.versions?.node !== 'string') return undefined
  try {
    return (await import('./node.ts')).nodeCrypto
  } catch {
    return undefined
  }
}

/**
 * The backend Authkestra uses unless a caller passes another one.
 *
 * @example
 * ```ts
 * const bytes = defaultCrypto.randomBytes(32)
 * ```
 */
export const defaultCrypto: CryptoBackend = (await loadNodeBackend()) ?? webCrypto

export type { BinaryInput, CryptoBackend, ScryptParams } from './types.ts'
export { toBytes } from './types.ts'
export { webCrypto } from './web.ts'
