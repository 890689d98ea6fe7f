/**
 * Proof Key for Code Exchange (RFC 7636). `OAuth2Flow` uses it on every login; custom flows and
 * authorization servers use it directly.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636
 * @module
 */
import { encodeBase64url } from './base64url.ts'
import { type CryptoBackend, defaultCrypto } from './crypto/index.ts'
import { AuthkestraError } from './errors.ts'

/** `code_challenge_method` values defined by RFC 7636 §4.3. */
export type PkceMethod = 'S256' | 'plain'

/** A fresh verifier with its S256 challenge. */
export interface PkcePair {
  /** Sent only at the token exchange. 43–128 characters of `[A-Za-z0-9-._~]`. */
  readonly codeVerifier: string
  /** `BASE64URL(SHA256(ASCII(codeVerifier)))`, sent in the authorization request. */
  readonly codeChallenge: string
  readonly codeChallengeMethod: 'S256'
}

/** Options for {@link Pkce.generate}. */
export interface PkceGenerateOptions {
  /** Verifier length, 43 (the default, 256 bits) to 128 characters. */
  length?: number
  /** The crypto backend (default: the fastest one this runtime has). */
  crypto?: CryptoBackend
}

/** Options for {@link Pkce.verify}. */
export interface PkceVerifyOptions {
  /**
   * Accept `code_challenge_method=plain`, where the challenge is the verifier itself and a leaked
   * authorization request leaks the proof. RFC 9700 §2.1.1 says not to; only for legacy clients.
   */
  dangerouslyAllowPlain?: boolean
  crypto?: CryptoBackend
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const encoder = new TextEncoder()

function assertVerifier(verifier: unknown): asserts verifier is string {
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) {
    throw new AuthkestraError(
      'pkce_verifier_invalid',
      '"code_verifier" must be 43 to 128 characters of [A-Za-z0-9-._~]',
    )
  }
}

async function challengeOf(verifier: string, backend: CryptoBackend): Promise<string> {
  return encodeBase64url(await backend.sha256(verifier))
}

/**
 * PKCE primitives. Keep these names: they are the public contract.
 *
 * @example
 * ```ts
 * import { Pkce } from 'authkestra/core'
 *
 * const { codeVerifier, codeChallenge } = await Pkce.generate()
 * // authorization request: code_challenge=<codeChallenge>&code_challenge_method=S256
 * // token request:         code_verifier=<codeVerifier>
 * await Pkce.verify(codeVerifier, codeChallenge) // true (what the authorization server checks)
 * ```
 */
export const Pkce = {
  /**
   * A new verifier from at least 32 random bytes, and its S256 challenge.
   * Throws `pkce_verifier_invalid` for a `length` outside 43–128.
   */
  async generate(options: PkceGenerateOptions = {}): Promise<PkcePair> {
    const length = options.length ?? 43
    if (!Number.isInteger(length) || length < 43 || length > 128) {
      throw new AuthkestraError(
        'pkce_verifier_invalid',
        '"length" must be an integer from 43 to 128',
      )
    }
    const backend = options.crypto ?? defaultCrypto
    // Each base64url character carries 6 bits; draw enough bytes, then cut to the length.
    const bytes = Math.max(32, Math.ceil((length * 6) / 8))
    const codeVerifier = encodeBase64url(backend.randomBytes(bytes)).slice(0, length)
    return {
      codeVerifier,
      codeChallenge: await challengeOf(codeVerifier, backend),
      codeChallengeMethod: 'S256',
    }
  },

  /**
   * The S256 challenge of a verifier. Throws `pkce_verifier_invalid` for a malformed verifier.
   */
  async challenge(verifier: string, options: { crypto?: CryptoBackend } = {}): Promise<string> {
    assertVerifier(verifier)
    return challengeOf(verifier, options.crypto ?? defaultCrypto)
  },

  /**
   * Whether `verifier` proves `challenge`, compared in constant time. False for a malformed
   * verifier or challenge. Throws `pkce_method_unsupported` for an unknown method, or for
   * `plain` unless `dangerouslyAllowPlain` is set.
   */
  async verify(
    verifier: string,
    challenge: string,
    method: PkceMethod = 'S256',
    options: PkceVerifyOptions = {},
  ): Promise<boolean> {
    if (method !== 'S256' && method !== 'plain') {
      throw new AuthkestraError('pkce_method_unsupported', '"code_challenge_method" must be S256')
    }
    if (method === 'plain' && options.dangerouslyAllowPlain !== true) {
      throw new AuthkestraError(
        'pkce_method_unsupported',
        '"code_challenge_method" plain is refused; pass dangerouslyAllowPlain to accept it',
      )
    }
    if (typeof verifier !== 'string' || !VERIFIER.test(verifier) || typeof challenge !== 'string') {
      return false
    }
    const backend = options.crypto ?? defaultCrypto
    if (method === 'plain') {
      if (!VERIFIER.test(challenge)) return false
      return backend.timingSafeEqual(encoder.encode(verifier), encoder.encode(challenge))
    }
    if (!S256_CHALLENGE.test(challenge)) return false
    const expected = await challengeOf(verifier, backend)
    return backend.timingSafeEqual(encoder.encode(expected), encoder.encode(challenge))
  },
} as const
