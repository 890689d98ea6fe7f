/**
 * The crypto seam: the few primitives Authkestra needs, behind one interface, so the same code
 * runs on Web Crypto (every runtime) or on a faster `node:crypto` path where one exists.
 *
 * @module
 */

/** Bytes or a string (UTF-8 encoded before use). */
export type BinaryInput = Uint8Array | string

/** The hashes {@link CryptoBackend.hmac} takes. */
export type HmacHash = 'SHA-1' | 'SHA-256' | 'SHA-512'

/** The primitives every backend provides. All results are fresh `Uint8Array`s. */
export interface CryptoBackend {
  /** `'web'` (Web Crypto) or `'node'` (`node:crypto`). */
  readonly name: 'web' | 'node'
  /** Cryptographically secure random bytes. */
  randomBytes(length: number): Uint8Array
  /** SHA-256 digest. */
  sha256(data: BinaryInput): Promise<Uint8Array>
  /** HMAC-SHA-256 of `data` under `key`. */
  hmacSha256(key: Uint8Array, data: BinaryInput): Promise<Uint8Array>
  /** HMAC of `data` under `key` with another hash (HOTP/TOTP need SHA-1, RFC 4226 §5.2). */
  hmac(hash: HmacHash, key: Uint8Array, data: BinaryInput): Promise<Uint8Array>
  /**
   * Equality in time independent of where the inputs differ. Inputs of different lengths are
   * unequal (the length itself is not secret in any of our uses).
   */
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
  /** HKDF-SHA-256 (RFC 5869): `length` bytes from `ikm`, `salt` and `info`. */
  hkdf(ikm: Uint8Array, salt: BinaryInput, info: BinaryInput, length: number): Promise<Uint8Array>
  /** PBKDF2-HMAC-SHA-256 (RFC 8018). */
  pbkdf2Sha256(
    password: BinaryInput,
    salt: Uint8Array,
    iterations: number,
    length: number,
  ): Promise<Uint8Array>
  /**
   * Synchronous JWS signing and verification, where the runtime can do them without a round
   * trip to a thread pool (`node:crypto`); absent on Web Crypto, where callers use jose.
   */
  readonly jws?: JwsPrimitives
  /** scrypt (RFC 7914), where the runtime has it (Node, Bun, Deno); Web Crypto does not. */
  readonly scrypt?: (
    password: BinaryInput,
    salt: Uint8Array,
    params: ScryptParams,
  ) => Promise<Uint8Array>
}

/**
 * Synchronous primitives of compact JWS (RFC 7515 §7.1). Signers and verifiers are built once
 * per key (the key converted once) and then called per token.
 */
export interface JwsPrimitives {
  /** base64url, without padding, of the UTF-8 bytes of `text`. */
  encode(text: string): string
  /** UTF-8 text of base64url `b64`, or undefined when it is not canonical base64url. */
  decode(b64: string): string | undefined
  /**
   * Signs JWS signing inputs (`header.payload`) with a private key (an HMAC secret for `HS*`),
   * answering the base64url signature; undefined for an algorithm this backend does not do.
   */
  signer(key: CryptoKey | Uint8Array, alg: string): ((signingInput: string) => string) | undefined
  /**
   * Verifies base64url signatures of signing inputs with a public key (an HMAC secret for
   * `HS*`); undefined for an algorithm this backend does not do.
   */
  verifier(
    key: CryptoKey | Uint8Array,
    alg: string,
  ): ((signingInput: string, signature: string) => boolean) | undefined
  /**
   * Like {@link JwsPrimitives.verifier}, for a public key given as a JWK (an asymmetric `alg`
   * only); undefined for a JWK that is not a fitting public key (a private one included).
   */
  jwkVerifier?(
    jwk: Readonly<Record<string, string>>,
    alg: string,
  ): ((signingInput: string, signature: string) => boolean) | undefined
}

/** scrypt cost parameters. */
export interface ScryptParams {
  readonly N: number
  readonly r: number
  readonly p: number
  readonly length: number
}

const encoder = new TextEncoder()

/** UTF-8 bytes of a string; bytes pass through unchanged. */
export function toBytes(data: BinaryInput): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data
}
