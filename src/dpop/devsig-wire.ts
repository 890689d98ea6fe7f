/**
 * The wire format of device-bound request signatures ("devsig", docs/devsig.md): the JWS types,
 * the HTTP headers, and the hashes a request signature carries of its query string (`hqh`) and
 * body (`hbh`). No HTTP in here; the client signer, the OP's enrolment endpoint and the
 * `devsig()` guard all use these.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { type CryptoBackend, defaultCrypto } from '../core/crypto/index.ts'

/**
 * The `typ` of each devsig JWS: the request signature, the OP's attestation of an enrolled key,
 * and the enrolment proof the device signs over the OP's challenge.
 *
 * @example
 * ```ts
 * DEVSIG_TYP.signature // 'devsig+jwt'
 * ```
 */
export const DEVSIG_TYP = {
  signature: 'devsig+jwt',
  attestation: 'devsig-attestation+jwt',
  enrollment: 'devsig-enroll+jwt',
} as const

/**
 * The request headers of a devsig call: the attestation JWT and the request signature JWS.
 *
 * @example
 * ```ts
 * headers.set(DEVSIG_HEADERS.attestation, attestation)
 * ```
 */
export const DEVSIG_HEADERS = {
  attestation: 'device-attestation',
  signature: 'device-signature',
} as const

/**
 * The longest a request signature may live (`exp - iat`), in seconds.
 *
 * @example
 * ```ts
 * const exp = iat + DEVSIG_MAX_LIFETIME_SECONDS
 * ```
 */
export const DEVSIG_MAX_LIFETIME_SECONDS = 60

/** Bytes of a body as given: a string is UTF-8 encoded. */
export type BodyBytes = Uint8Array | ArrayBuffer | string

function bytesOf(body: BodyBytes | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0)
  if (typeof body === 'string') return new TextEncoder().encode(body)
  return body instanceof Uint8Array ? body : new Uint8Array(body)
}

/**
 * `hbh`: base64url (no padding) of the SHA-256 of the body bytes exactly as sent; no body hashes
 * the empty string.
 *
 * @example
 * ```ts
 * await bodyHash('{"amount":10}') // 43 characters
 * await bodyHash(undefined)       // '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'
 * ```
 */
export async function bodyHash(
  body: BodyBytes | undefined,
  crypto: CryptoBackend = defaultCrypto,
): Promise<string> {
  return encodeBase64url(await crypto.sha256(bytesOf(body)))
}

/**
 * `hqh`: base64url of the SHA-256 of the raw query string as the WHATWG URL parser serialises it,
 * without the `?` (no query, or a bare `?`, hashes the empty string).
 *
 * @example
 * ```ts
 * await queryHash('https://api.example/orders?page=2') // SHA-256 of "page=2"
 * ```
 */
export async function queryHash(
  url: string | URL,
  crypto: CryptoBackend = defaultCrypto,
): Promise<string> {
  return encodeBase64url(await crypto.sha256(new URL(url).search.replace(/^\?/, '')))
}

/**
 * `htp`: the request's path as the URL parser normalises it (dot segments removed), without
 * query and fragment.
 *
 * @example
 * ```ts
 * pathOf('https://api.example/a/../orders?x=1') // '/orders'
 * ```
 */
export function pathOf(url: string | URL): string {
  return new URL(url).pathname
}
