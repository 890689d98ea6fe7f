/**
 * Base32 (RFC 4648 §6), the encoding authenticator apps take TOTP secrets in (Key Uri Format).
 * Encoded without padding, decoded case-insensitively with spaces and padding ignored.
 *
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/**
 * Encodes bytes as unpadded base32.
 *
 * @example
 * ```ts
 * encodeBase32(new TextEncoder().encode('foobar')) // 'MZXW6YTBOI'
 * ```
 */
export function encodeBase32(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET.charAt((buffer >>> (bits - 5)) & 31)
      bits -= 5
    }
    buffer &= 0xff
  }
  if (bits > 0) out += ALPHABET.charAt((buffer << (5 - bits)) & 31)
  return out
}

/**
 * Decodes base32 (any case; spaces, dashes and `=` padding ignored); undefined when a character
 * is outside the alphabet or the trailing bits are not zero.
 *
 * @example
 * ```ts
 * decodeBase32('mzxw 6ytb oi') // the bytes of 'foobar'
 * ```
 */
export function decodeBase32(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s=-]/g, '').toUpperCase()
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8))
  let buffer = 0
  let bits = 0
  let index = 0
  for (const char of clean) {
    const value = ALPHABET.indexOf(char)
    if (value < 0) return undefined
    buffer = ((buffer << 5) | value) & 0xfff
    bits += 5
    if (bits >= 8) {
      out[index++] = (buffer >>> (bits - 8)) & 0xff
      bits -= 8
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined
  return out
}
