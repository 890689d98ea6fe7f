/**
 * The `node:crypto` backend: synchronous hashing and HMAC without the promise and key-import
 * overhead of Web Crypto (see `BENCHMARKS.md` for the measured difference). Loaded only where
 * `node:crypto` exists (Node, Bun, Deno).
 *
 * @module
 */
import {
  createHash,
  createHmac,
  hkdfSync,
  timingSafeEqual as nodeTimingSafeEqual,
  randomFillSync,
} from 'node:crypto'
import { type BinaryInput, type CryptoBackend, toBytes } from './types.ts'

/**
 * The `node:crypto` implementation of {@link CryptoBackend}.
 *
 * @example
 * ```ts
 * const mac = await nodeCrypto.hmacSha256(key, 'message')
 * ```
 */
export const nodeCrypto: CryptoBackend = {
  name: 'node',
  randomBytes(length: number): Uint8Array {
    return randomFillSync(new Uint8Array(length))
  },
  async sha256(data: BinaryInput): Promise<Uint8Array> {
    return new Uint8Array(createHash('sha256').update(toBytes(data)).digest())
  },
  async hmacSha256(key: Uint8Array, data: BinaryInput): Promise<Uint8Array> {
    return new Uint8Array(createHmac('sha256', key).update(toBytes(data)).digest())
  },
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
    return a.length === b.length && nodeTimingSafeEqual(a, b)
  },
  async hkdf(
    ikm: Uint8Array,
    salt: BinaryInput,
    info: BinaryInput,
    length: number,
  ): Promise<Uint8Array> {
    return new Uint8Array(hkdfSync('sha256', ikm, toBytes(salt), toBytes(info), length))
  },
}
