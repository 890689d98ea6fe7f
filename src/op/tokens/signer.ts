/**
 * The OP's JWT signer for one key: on `node:crypto` (the crypto seam's `jws`), the protected
 * header of each `typ` is encoded once and the compact JWS is assembled and signed synchronously;
 * elsewhere jose's `SignJWT` signs (the portable path). Both produce the same JWS: header
 * `{ alg, kid, typ }`, the claims as given.
 *
 * @module
 */
import { SignJWT } from 'jose'
import { compactSigner } from '../../core/compact-jwt.ts'
import { type CryptoBackend, defaultCrypto } from '../../core/crypto/index.ts'

/** Signs JWTs with one key. */
export interface TokenSigner {
  readonly kid: string
  readonly alg: string
  /** A compact JWS of `claims` with header `{ alg, kid, typ }`. */
  sign(typ: string, claims: Readonly<Record<string, unknown>>): Promise<string>
}

/**
 * A signer for `key` (a private key of `alg`), synchronous through `backend.jws` when it can.
 *
 * @example
 * ```ts
 * const signer = createTokenSigner({ kid, alg: 'ES256', key: privateKey })
 * const jwt = await signer.sign('at+jwt', { iss, sub, aud, exp, iat, jti })
 * ```
 */
export function createTokenSigner(
  signing: { readonly kid: string; readonly alg: string; readonly key: CryptoKey },
  backend: CryptoBackend = defaultCrypto,
): TokenSigner {
  const { kid, alg, key } = signing
  const jws = backend.jws
  const signers = new Map<
    string,
    ((claims: Readonly<Record<string, unknown>>) => string) | undefined
  >()
  const fast = (typ: string) => {
    if (!jws) return undefined
    if (!signers.has(typ)) signers.set(typ, compactSigner(jws, key, { alg, kid, typ }))
    return signers.get(typ)
  }
  return {
    kid,
    alg,
    async sign(typ, claims) {
      const sign = fast(typ)
      if (sign) return sign(claims)
      return new SignJWT({ ...claims }).setProtectedHeader({ alg, kid, typ }).sign(key)
    },
  }
}
