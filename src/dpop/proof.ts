/**
 * Making DPoP proofs (RFC 9449 §4.2): a JWT typed `dpop+jwt`, signed with the client's key,
 * carrying its public key in the `jwk` header, and naming the one request it is for: `htm`,
 * `htu` (the URI without query and fragment), a fresh `jti`, `iat`, and, on requests with an
 * access token, `ath` (its SHA-256). A server nonce, once given, goes into `nonce`.
 *
 * @module
 */
import { SignJWT } from 'jose'
import { encodeBase64url } from '../core/base64url.ts'
import { type Clock, systemClock } from '../core/clock.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import { randomToken } from '../core/random.ts'
import type { DpopKey } from './key.ts'

/** What one proof is for. */
export interface ProofTarget {
  /** The HTTP method of the request (`POST`, `GET`, …). */
  readonly method: string
  /** The request URI; its query and fragment are left out of `htu`. */
  readonly url: string | URL
  /** The access token sent with the request: its hash becomes `ath` (RFC 9449 §4.2). */
  readonly accessToken?: string | undefined
  /** The server's latest `DPoP-Nonce`, if it gave one (RFC 9449 §8, §9). */
  readonly nonce?: string | undefined
}

/**
 * The `htu` of a request URI (RFC 9449 §4.2, §4.3 step 9): the URI, normalised as by the URL
 * parser (scheme and host lowercased, default port dropped, dot segments removed), without its
 * query and fragment.
 *
 * @example
 * ```ts
 * htuOf('https://API.example:443/a/../orders?page=2#top') // 'https://api.example/orders'
 * ```
 */
export function htuOf(url: string | URL): string {
  const u = new URL(url)
  u.search = ''
  u.hash = ''
  u.username = ''
  u.password = ''
  return u.href
}

/**
 * `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token's ASCII bytes.
 *
 * @example
 * ```ts
 * const ath = await accessTokenThumbprint(accessToken) // 43 characters
 * ```
 */
export async function accessTokenThumbprint(accessToken: string): Promise<string> {
  return encodeBase64url(await defaultCrypto.sha256(accessToken))
}

/**
 * Makes a proof for one request.
 *
 * @example
 * ```ts
 * const proof = await createDpopProof(key, { method: 'POST', url: tokenEndpoint })
 * await fetch(tokenEndpoint, { method: 'POST', headers: { DPoP: proof }, body })
 * ```
 */
export async function createDpopProof(
  key: DpopKey,
  target: ProofTarget,
  clock: Clock = systemClock,
): Promise<string> {
  const claims: Record<string, unknown> = {
    htm: target.method.toUpperCase(),
    htu: htuOf(target.url),
  }
  if (target.accessToken !== undefined) claims.ath = await accessTokenThumbprint(target.accessToken)
  if (target.nonce !== undefined) claims.nonce = target.nonce
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: { ...key.publicJwk } })
    .setJti(randomToken(16))
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(key.privateKey)
}
