/**
 * The API key guard: a key in a request header (`x-api-key` by default), checked by the app's
 * `verify`. {@link apiKeyHashes} is a ready `verify` for keys stored as SHA-256 hashes.
 *
 * @module
 */
import { decodeBase64url } from '../../core/base64url.ts'
import { type CryptoBackend, defaultCrypto } from '../../core/crypto/index.ts'
import { AuthkestraError } from '../../core/errors.ts'
import { challenge, deny } from './challenge.ts'
import type { Guard } from './types.ts'

/** Longest key passed to `verify`, in characters; longer ones are refused unseen. */
const MAX_KEY_LENGTH = 1024
/** RFC 9110 §5.1 field name (a `token`). */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/

/** Options of {@link apiKey}. */
export interface ApiKeyOptions<Principal extends object> {
  /** The request header that carries the key (default `x-api-key`). */
  readonly header?: string
  /**
   * The principal for `key`, or null to refuse it. Must not leak through timing which key is
   * close to a valid one: compare hashes in constant time ({@link apiKeyHashes} does), never
   * `key === stored`. The key is 1 to 1024 characters; it never appears in a refusal.
   */
  readonly verify: (key: string) => Promise<Principal | null>
}

/**
 * A guard that requires a valid API key in a header. No key → 401 with
 * `WWW-Authenticate: ApiKey header="x-api-key"`; a key `verify` refuses (or one over 1024
 * characters) → 401 `invalid_api_key` with the same challenge. An error thrown by `verify`
 * propagates (a failing key store is not a bad key).
 *
 * @example
 * ```ts
 * const service = apiKey({ verify: apiKeyHashes([process.env.BILLING_KEY_SHA256!]) })
 * const result = await service(request)
 * if (!result.ok) return result.response
 * result.principal.keyHash // which key matched
 * ```
 */
export function apiKey<Principal extends object>(
  options: ApiKeyOptions<Principal>,
): Guard<Principal> {
  const header = (options.header ?? 'x-api-key').toLowerCase()
  if (!FIELD_NAME.test(header)) {
    throw new AuthkestraError('config_invalid', '"header" must be a header field name')
  }
  if (typeof options.verify !== 'function') {
    throw new AuthkestraError('config_invalid', '"verify" must be a function')
  }
  const challengeValue = challenge('ApiKey', [['header', header]])
  return async (request) => {
    const key = request.headers.get(header)
    if (key === null || key === '') {
      return deny('none', 401, challengeValue, 'unauthorized', 'an API key is required')
    }
    const principal = key.length > MAX_KEY_LENGTH ? null : await options.verify(key)
    if (typeof principal !== 'object' || principal === null) {
      return deny('presented', 401, challengeValue, 'invalid_api_key', 'the API key is not valid')
    }
    return { ok: true, principal }
  }
}

/** Which configured hash an API key matched. */
export interface ApiKeyMatch {
  /** The hash as configured. */
  readonly keyHash: string
}

function hashBytes(hash: unknown, index: number): Uint8Array {
  if (typeof hash === 'string' && /^[0-9a-fA-F]{64}$/.test(hash)) {
    return Uint8Array.from({ length: 32 }, (_, i) =>
      Number.parseInt(hash.slice(2 * i, 2 * i + 2), 16),
    )
  }
  if (typeof hash === 'string' && /^[A-Za-z0-9_-]{43}$/.test(hash)) {
    const bytes = decodeBase64url(hash)
    if (bytes?.length === 32) return bytes
  }
  throw new AuthkestraError(
    'config_invalid',
    `"hashes[${index}]" must be a SHA-256 hash in hex (64 characters) or base64url (43 characters)`,
  )
}

/**
 * A `verify` for {@link apiKey} that accepts the keys whose SHA-256 is listed (hex, as
 * `sha256sum` prints it, or base64url). Each key is hashed once and compared with every hash in
 * constant time through the crypto seam, so nothing is learned from timing. Plain SHA-256 fits
 * API keys because they are random (≥ 128 bits, e.g. `randomToken(32)`); a human-chosen secret
 * needs `hashPassword` instead. Throws `config_invalid` for an empty list or a malformed hash.
 *
 * @example
 * ```ts
 * // stored: printf %s "$KEY" | sha256sum
 * const verify = apiKeyHashes(['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'])
 * const guard = apiKey({ verify })
 * ```
 */
export function apiKeyHashes(
  hashes: readonly string[],
  options: { readonly crypto?: CryptoBackend } = {},
): (key: string) => Promise<ApiKeyMatch | null> {
  if (!Array.isArray(hashes) || hashes.length === 0) {
    throw new AuthkestraError('config_invalid', '"hashes" must be a non-empty list')
  }
  const entries = hashes.map((hash, i) => ({ keyHash: hash, bytes: hashBytes(hash, i) }))
  const backend = options.crypto ?? defaultCrypto
  return async (key) => {
    const digest = await backend.sha256(key)
    let match: ApiKeyMatch | null = null
    for (const entry of entries) {
      // every entry is compared, so the time does not depend on which one matches
      const equal = backend.timingSafeEqual(digest, entry.bytes)
      if (equal && match === null) match = { keyHash: entry.keyHash }
    }
    return match
  }
}
