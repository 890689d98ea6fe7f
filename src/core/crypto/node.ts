/**
 * The `node:crypto` backend: synchronous hashing and HMAC without the promise and key-import
 * overhead of Web Crypto, and random bytes drawn from a pooled buffer (one system call per 4 KiB
 * instead of one per token). `BENCHMARKS.md` records the measured difference. Loaded only where
 * `node:crypto` exists (Node, Bun, Deno).
 *
 * @module
 */
import type * as NodeCrypto from 'node:crypto'
import { createNodeJws } from './node-jws.ts'
import {
  type BinaryInput,
  type CryptoBackend,
  type HmacHash,
  type ScryptParams,
  toBytes,
} from './types.ts'

const POOL_SIZE = 4096
const NODE_HASHES: Readonly<Record<string, string>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-512': 'sha512',
}

/**
 * The `node:crypto` implementation of {@link CryptoBackend}, over the module itself (handed in:
 * nothing here imports `node:crypto`, so the package loads where it does not exist).
 *
 * @example
 * ```ts
 * const backend = createNodeCrypto(process.getBuiltinModule('node:crypto'))
 * const mac = await backend.hmacSha256(key, 'message')
 * ```
 */
export function createNodeCrypto(nodeCrypto: typeof NodeCrypto): CryptoBackend {
  const { createHash, createHmac, hkdfSync, pbkdf2, randomFillSync, scrypt } = nodeCrypto
  // One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object; fall back where it is missing.
  const oneShot = (
    nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Uint8Array }
  ).hash
  const pool = new Uint8Array(POOL_SIZE)
  let poolOffset = POOL_SIZE
  return {
    name: 'node',
    jws: createNodeJws(nodeCrypto),
    randomBytes(length: number): Uint8Array {
      if (length > POOL_SIZE / 8) return randomFillSync(new Uint8Array(length))
      if (poolOffset + length > POOL_SIZE) {
        randomFillSync(pool)
        poolOffset = 0
      }
      const out = pool.slice(poolOffset, poolOffset + length)
      // Bytes handed out are wiped from the pool, so they exist only in the caller's copy.
      pool.fill(0, poolOffset, poolOffset + length)
      poolOffset += length
      return out
    },
    async sha256(data: BinaryInput): Promise<Uint8Array> {
      const bytes = toBytes(data)
      return new Uint8Array(
        oneShot ? oneShot('sha256', bytes, 'buffer') : createHash('sha256').update(bytes).digest(),
      )
    },
    async hmacSha256(key: Uint8Array, data: BinaryInput): Promise<Uint8Array> {
      return new Uint8Array(createHmac('sha256', key).update(toBytes(data)).digest())
    },
    async hmac(hash: HmacHash, key: Uint8Array, data: BinaryInput): Promise<Uint8Array> {
      const name = NODE_HASHES[hash]
      if (!name) throw new TypeError('unsupported HMAC hash')
      return new Uint8Array(createHmac(name, key).update(toBytes(data)).digest())
    },
    timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
      return a.length === b.length && nodeCrypto.timingSafeEqual(a, b)
    },
    async hkdf(
      ikm: Uint8Array,
      salt: BinaryInput,
      info: BinaryInput,
      length: number,
    ): Promise<Uint8Array> {
      return new Uint8Array(hkdfSync('sha256', ikm, toBytes(salt), toBytes(info), length))
    },
    pbkdf2Sha256(
      password: BinaryInput,
      salt: Uint8Array,
      iterations: number,
      length: number,
    ): Promise<Uint8Array> {
      return new Promise((resolve, reject) => {
        pbkdf2(toBytes(password), salt, iterations, length, 'sha256', (err, key) =>
          err ? reject(err) : resolve(new Uint8Array(key)),
        )
      })
    },
    scrypt(password: BinaryInput, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
      const { N, r, p, length } = params
      // Runs on libuv's thread pool, so a login does not block the event loop.
      return new Promise((resolve, reject) => {
        scrypt(
          toBytes(password),
          salt,
          length,
          { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
          (err, key) => (err ? reject(err) : resolve(new Uint8Array(key))),
        )
      })
    },
  }
}
