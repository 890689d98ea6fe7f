/**
 * Chooses the crypto backend once, at load: `node:crypto` where the runtime has it (Node
 * ≥ 20.16, Bun, Deno), Web Crypto everywhere else (and on Node before 20.16, which lacks
 * `process.getBuiltinModule`). Both implement the same {@link CryptoBackend} and are tested against each other.
 *
 * @module
 */
import { createNodeCrypto } from './node.ts'
import type { CryptoBackend } from './types.ts'
import { webCrypto } from './web.ts'

/** The `node:crypto` module, as the Node backend takes it. */
type NodeCryptoModule = Parameters<typeof createNodeCrypto>[0]

/**
 * `node:crypto` where the runtime has it, read synchronously with `process.getBuiltinModule`
 * (Node ≥ 20.16, Bun, Deno): no top-level `await` and no static import, so the package loads
 * as CommonJS (`require`) too, and in runtimes without `node:crypto`.
 */
function nodeCryptoModule(): NodeCryptoModule | undefined {
  const runtime = globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown }
  }
  try {
    const module = runtime.process?.getBuiltinModule?.('node:crypto') as
      | NodeCryptoModule
      | undefined
    return typeof module?.createHash === 'function' ? module : undefined
  } catch {
    return undefined
  }
}

const nodeModule = nodeCryptoModule()

/**
 * The backend Authkestra uses unless a caller passes another one.
 *
 * @example
 * ```ts
 * const bytes = defaultCrypto.randomBytes(32)
 * ```
 */
export const defaultCrypto: CryptoBackend = nodeModule ? createNodeCrypto(nodeModule) : webCrypto

export type { BinaryInput, CryptoBackend, HmacHash, ScryptParams } from './types.ts'
export { toBytes } from './types.ts'
export { webCrypto } from './web.ts'
