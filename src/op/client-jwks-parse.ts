/**
 * A fetched JWK Set (RFC 7517 §5) as a client's signing keys: JSON with a `keys` array, each
 * key a public asymmetric key. A set holding a private or symmetric key is refused whole: the
 * client has published what it must keep secret, and none of its keys is trusted.
 *
 * @module
 */
import { unfitPublicJwk } from './client-keys.ts'

/** Why a fetched set was refused (safe to log: never the document). */
export class PublicJwkSetError extends Error {
  override name = 'PublicJwkSetError'
}

/**
 * The usable keys of a JWK Set document: keys for another purpose (`use` other than `sig`, an
 * unknown `kty`) are skipped; a private or symmetric member anywhere refuses the set.
 *
 * @example
 * ```ts
 * const keys = publicKeysOf('{"keys":[{"kty":"OKP","crv":"Ed25519","x":"..."}]}')
 * ```
 */
export function publicKeysOf(
  text: string,
): (Readonly<Record<string, unknown>> & { kty: string })[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new PublicJwkSetError('not JSON')
  }
  const keys = (doc as { keys?: unknown } | null)?.keys
  if (typeof doc !== 'object' || doc === null || !Array.isArray(keys))
    throw new PublicJwkSetError('not a JWK Set')
  const out: (Readonly<Record<string, unknown>> & { kty: string })[] = []
  for (const key of keys) {
    const why = unfitPublicJwk(key)
    if (why === 'is a symmetric key' || why === 'holds private key members')
      throw new PublicJwkSetError('the set holds a private or symmetric key')
    if (why === undefined) out.push(key as Readonly<Record<string, unknown>> & { kty: string })
  }
  return out
}
