/**
 * The JWT and JWK shapes the package's own signatures use, declared here rather than taken from
 * jose, so that the published declarations never import jose's (which need TypeScript 5): an app
 * on an older TypeScript with `skipLibCheck: false` compiles against ours. They are structurally
 * compatible with jose's where values pass between the two.
 *
 * @module
 */

/** The claims of a JWT (RFC 7519 §4.1: the registered ones typed, any other allowed). */
export interface JwtPayload {
  readonly iss?: string
  readonly sub?: string
  readonly aud?: string | string[]
  readonly jti?: string
  readonly nbf?: number
  readonly exp?: number
  readonly iat?: number
  readonly [claim: string]: unknown
}

/** A JSON Web Key (RFC 7517 §4; RFC 7518 §6 for the key parameters), as JWKS documents carry it. */
export interface Jwk {
  readonly kty?: string
  readonly kid?: string
  readonly alg?: string
  readonly use?: string
  readonly key_ops?: string[]
  readonly crv?: string
  readonly x?: string
  readonly y?: string
  readonly d?: string
  readonly n?: string
  readonly e?: string
  readonly [parameter: string]: unknown
}

/** What a key resolver reads of a token's JWS protected header. */
export interface JwsHeader {
  readonly alg?: string
  readonly kid?: string
  readonly typ?: string
}

/** Finds the key that verifies a token, from its protected header (a JWKS lookup, say). */
export type KeyResolver = (
  header: JwsHeader,
  token: { readonly signature: string },
) => Promise<CryptoKey | Uint8Array>
