/**
 * Base64url without padding (RFC 4648 §5), the encoding of PKCE values, state and JWTs.
 *
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const LOOKUP = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i
const PAIRS: string[] = []
for (let i = 0; i < 4096; i++) PAIRS.push(ALPHABET.charAt(i >> 6) + ALPHABET.charAt(i & 63))

/**
 * Encodes bytes as base64url without padding.
 *
 * @example
 * ```ts
 * encodeBase64url(new Uint8Array([251, 255])) // '-_8'
 * ```
 */
export function encodeBase64url(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  // Two characters per lookup: a 4,096-entry table of pairs halves the string concatenations.
  for (; i + 2 < bytes.length; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out += (PAIRS[n >> 12] as string) + (PAIRS[n & 4095] as string)
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = (bytes[i] as number) << 16
    out += PAIRS[n >> 12] as string
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8)
    out += (PAIRS[n >> 12] as string) + ALPHABET.charAt((n >> 6) & 63)
  }
  return out
}

/**
 * Decodes unpadded base64url; returns `undefined` for any character outside the alphabet or an
 * impossible length, so callers decide which error to raise.
 *
 * @example
 * ```ts
 * decodeBase64url('-_8') // Uint8Array [251, 255]
 * ```
 */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined
  const out = new Uint8Array(Math.floor((text.length * 3) / 4))
  let buffer = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? (LOOKUP[code] as number) : -1
    if (value < 0) return undefined
    buffer = (buffer << 6) | value
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (buffer >> bits) & 0xff
    }
  }
  // Canonical form only (RFC 4648 §3.5): the unused trailing bits must be zero.
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined
  return out
}

/**
 * True when `text` is non-empty unpadded base64url.
 *
 * @example
 * ```ts
 * isBase64url('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM') // true
 * isBase64url('a+b=') // false
 * ```
 */
export function isBase64url(text: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(text) && text.length % 4 !== 1
}

/**
 * Decodes the base64url of a 32-byte digest (43 characters, canonical) into `out`, without
 * allocating; false, `out` unspecified, for any other string. The session stores use it to keep
 * SHA-256 ids as raw bytes.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(32)
 * if (decodeDigest(storageId, bytes)) table.add(bytes)
 * ```
 */
export function decodeDigest(text: string, out: Uint8Array): boolean {
  if (text.length !== 43 || out.length < 32) return false
  let o = 0
  for (let i = 0; i < 40; i += 4) {
    const a = digit(text, i)
    const b = digit(text, i + 1)
    const c = digit(text, i + 2)
    const d = digit(text, i + 3)
    if ((a | b | c | d) < 0) return false
    const n = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = n >> 16
    out[o++] = (n >> 8) & 255
    out[o++] = n & 255
  }
  const a = digit(text, 40)
  const b = digit(text, 41)
  const c = digit(text, 42)
  // Canonical only (RFC 4648 §3.5): the two unused low bits of the last character are zero.
  if ((a | b | c) < 0 || (c & 3) !== 0) return false
  const n = (a << 18) | (b << 12) | (c << 6)
  out[o++] = n >> 16
  out[o] = (n >> 8) & 255
  return true
}

function digit(text: string, i: number): number {
  const code = text.charCodeAt(i)
  return code < 128 ? (LOOKUP[code] as number) : -1
}
