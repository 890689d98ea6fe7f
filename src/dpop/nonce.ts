/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9) without server state: a nonce is a time window's
 * number and an HMAC of it under the server's secret, so every process holding the secret
 * accepts it, and a nonce lives for one to two windows. Clients learn the current one from the
 * `DPoP-Nonce` header of any answer.
 *
 * @module
 */
import { decodeBase64url, encodeBase64url } from '../core/base64url.ts'
import { type Clock, systemClock } from '../core/clock.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import { AuthkestraError } from '../core/errors.ts'

/** Issues and checks nonces. */
export interface DpopNonces {
  /** The nonce of the current window (for the `DPoP-Nonce` header). */
  current(): Promise<string>
  /** True for a nonce of the current or the previous window made with this secret. */
  valid(nonce: string): Promise<boolean>
}

const MAC_BYTES = 16

/**
 * Nonces under `secret` (≥ 32 bytes), each window `windowSeconds` long (default 300).
 *
 * @example
 * ```ts
 * const nonces = createDpopNonces({ secret: crypto.getRandomValues(new Uint8Array(32)) })
 * response.headers.set('dpop-nonce', await nonces.current())
 * ```
 */
export function createDpopNonces(options: {
  secret: Uint8Array
  windowSeconds?: number
  clock?: Clock
}): DpopNonces {
  const { secret } = options
  if (!(secret instanceof Uint8Array) || secret.length < 32)
    throw new AuthkestraError('config_invalid', 'a DPoP nonce secret must be at least 32 bytes')
  const windowMs = (options.windowSeconds ?? 300) * 1000
  if (!Number.isInteger(windowMs) || windowMs < 10_000)
    throw new AuthkestraError('config_invalid', 'DPoP nonce "windowSeconds" must be ≥ 10')
  const clock = options.clock ?? systemClock
  const made = new Map<number, Promise<Uint8Array>>()

  const macOf = (window: number): Promise<Uint8Array> => {
    let mac = made.get(window)
    if (!mac) {
      mac = defaultCrypto
        .hmacSha256(secret, `authkestra-dpop-nonce:${window}`)
        .then((m) => m.subarray(0, MAC_BYTES))
      if (made.size > 4) made.clear()
      made.set(window, mac)
    }
    return mac
  }
  const encode = async (window: number) => {
    const bytes = new Uint8Array(8 + MAC_BYTES)
    new DataView(bytes.buffer).setBigUint64(0, BigInt(window))
    bytes.set(await macOf(window), 8)
    return encodeBase64url(bytes)
  }
  const windowNow = () => Math.floor(clock.now() / windowMs)

  return {
    current: () => encode(windowNow()),
    async valid(nonce) {
      if (typeof nonce !== 'string' || nonce.length > 64) return false
      const bytes = decodeBase64url(nonce)
      if (!bytes || bytes.length !== 8 + MAC_BYTES) return false
      const window = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0))
      const now = windowNow()
      if (window !== now && window !== now - 1) return false
      return defaultCrypto.timingSafeEqual(bytes.subarray(8), await macOf(window))
    },
  }
}
