/**
 * The Web Crypto backend: `crypto.getRandomValues` and `crypto.subtle`, available on Node ≥ 20,
 * Deno, Bun, browsers and edge runtimes.
 *
 * @module
 */
import { type BinaryInput, type CryptoBackend, type HmacHash, toBytes } from './types.ts'

const MAX_RANDOM_CHUNK = 65_536
const HMAC_HASHES: ReadonlySet<string> = new Set<HmacHash>(['SHA-1', 'SHA-256', 'SHA-512'])
const hmacKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>()

function hmacKey(key: Uint8Array): Promise<CryptoKey> {
  let cached = hmacKeys.get(key)
  if (!cached) {
    cached = crypto.subtle.importKey(
      'raw',
      key as BufferSource,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    hmacKeys.set(key, cached)
  }
  return cached
}

/**
 * The Web Crypto implementation of {@link CryptoBackend}.
 *
 * @example
 * ```ts
 * const digest = await webCrypto.sha256('abc')
 * ```
 */
export const webCrypto: CryptoBackend = {
  name: 'web',
  randomBytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let offset = 0; offset < length; offset += MAX_RANDOM_CHUNK) {
      crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + MAX_RANDOM_CHUNK)))
    }
    return out
  },
  async sha256(data: BinaryInput): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', toBytes(data) as BufferSource))
  },
  async hmacSha256(key: Uint8Array, data: BinaryInput): Promise<Uint8Array> {
    const signature = await crypto.subtle.sign(
      'HMAC',
      await hmacKey(key),
      toBytes(data) as BufferSource,
    )
    return new Uint8Array(signature)
  },
  async hmac(hash: HmacHash, key: Uint8Array, data: BinaryInput): Promise<Uint8Array> {
    if (!HMAC_HASHES.has(hash)) throw new TypeError('unsupported HMAC hash')
    const cryptoKey = await crypto.subtle.importKey(
      'raw',
      key as BufferSource,
      { name: 'HMAC', hash },
      false,
      ['sign'],
    )
    return new Uint8Array(
      await crypto.subtle.sign('HMAC', cryptoKey, toBytes(data) as BufferSource),
    )
  },
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
    if (a.length !== b.length) return false
    let diff = 0
    for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
    return diff === 0
  },
  async hkdf(
    ikm: Uint8Array,
    salt: BinaryInput,
    info: BinaryInput,
    length: number,
  ): Promise<Uint8Array> {
    const key = await crypto.subtle.importKey('raw', ikm as BufferSource, 'HKDF', false, [
      'deriveBits',
    ])
    const bits = await crypto.subtle.deriveBits(
      {
        name: 'HKDF',
        hash: 'SHA-256',
        salt: toBytes(salt) as BufferSource,
        info: toBytes(info) as BufferSource,
      },
      key,
      length * 8,
    )
    return new Uint8Array(bits)
  },
  async pbkdf2Sha256(
    password: BinaryInput,
    salt: Uint8Array,
    iterations: number,
    length: number,
  ): Promise<Uint8Array> {
    const key = await crypto.subtle.importKey(
      'raw',
      toBytes(password) as BufferSource,
      'PBKDF2',
      false,
      ['deriveBits'],
    )
    const bits = await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
      key,
      length * 8,
    )
    return new Uint8Array(bits)
  },
}
