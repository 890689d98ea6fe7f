/**
 * Compact JWS with `node:crypto`, synchronously: `crypto.sign`/`crypto.verify` on a `KeyObject`
 * made once per key, HMAC through `createHmac`, base64url through `Buffer`. No promise, no
 * thread-pool round trip per token (what Web Crypto costs), which is most of the price of a
 * signature at this size. Algorithms: ES256/384/512 (IEEE P1363 signatures, RFC 7518 §3.4),
 * RS256/384/512 and PS256/384/512 (keys of 2048 bits or more; PSS salt length = hash length,
 * RFC 7518 §3.5), EdDSA/Ed25519, HS256/384/512.
 *
 * @module
 */
import type * as NodeCrypto from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { JwsPrimitives } from './types.ts'

type Scheme =
  | { kind: 'ecdsa'; hash: string; bytes: number }
  | { kind: 'rsa'; hash: string }
  | { kind: 'pss'; hash: string; salt: number }
  | { kind: 'eddsa' }
  | { kind: 'hmac'; hash: string }

const SCHEMES: Readonly<Record<string, Scheme>> = {
  ES256: { kind: 'ecdsa', hash: 'sha256', bytes: 64 },
  ES384: { kind: 'ecdsa', hash: 'sha384', bytes: 96 },
  ES512: { kind: 'ecdsa', hash: 'sha512', bytes: 132 },
  RS256: { kind: 'rsa', hash: 'sha256' },
  RS384: { kind: 'rsa', hash: 'sha384' },
  RS512: { kind: 'rsa', hash: 'sha512' },
  PS256: { kind: 'pss', hash: 'sha256', salt: 32 },
  PS384: { kind: 'pss', hash: 'sha384', salt: 48 },
  PS512: { kind: 'pss', hash: 'sha512', salt: 64 },
  EdDSA: { kind: 'eddsa' },
  Ed25519: { kind: 'eddsa' },
  HS256: { kind: 'hmac', hash: 'sha256' },
  HS384: { kind: 'hmac', hash: 'sha384' },
  HS512: { kind: 'hmac', hash: 'sha512' },
}

const CURVE: Readonly<Record<string, string>> = {
  sha256: 'prime256v1',
  sha384: 'secp384r1',
  sha512: 'secp521r1',
}

/** The key as `node:crypto` wants it, or undefined when it does not fit the scheme. */
function keyObject(
  { KeyObject }: typeof NodeCrypto,
  key: CryptoKey,
  scheme: Scheme,
  type: 'private' | 'public',
): KeyObject | undefined {
  let object: KeyObject
  try {
    object = KeyObject.from(key)
  } catch {
    return undefined
  }
  return fitting(object, scheme, type)
}

/** `object` when it is a key of `type` that fits the scheme (curve, modulus size, kind). */
function fitting(
  object: KeyObject,
  scheme: Scheme,
  type: 'private' | 'public',
): KeyObject | undefined {
  if (object.type !== type) return undefined
  const kind = object.asymmetricKeyType
  if (scheme.kind === 'ecdsa')
    return kind === 'ec' && object.asymmetricKeyDetails?.namedCurve === CURVE[scheme.hash]
      ? object
      : undefined
  if (scheme.kind === 'rsa' || scheme.kind === 'pss') {
    // RFC 7518 §3.3: 2048 bits at least (jose refuses smaller keys too).
    if ((object.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined
    return kind === 'rsa' || (scheme.kind === 'pss' && kind === 'rsa-pss') ? object : undefined
  }
  if (scheme.kind === 'eddsa') return kind === 'ed25519' ? object : undefined
  return undefined
}

function options({ constants }: typeof NodeCrypto, scheme: Scheme, key: KeyObject) {
  if (scheme.kind === 'ecdsa') return { key, dsaEncoding: 'ieee-p1363' as const }
  if (scheme.kind === 'pss')
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.salt }
  return key
}

const hashOf = (scheme: Scheme): string | null => ('hash' in scheme ? scheme.hash : null)

/**
 * The `node:crypto` {@link JwsPrimitives}, over the module itself (handed in, so that nothing
 * here imports `node:crypto`: runtimes without it never load it).
 *
 * @example
 * ```ts
 * const jws = createNodeJws(process.getBuiltinModule('node:crypto'))
 * const sign = jws.signer(privateKey, 'ES256')
 * ```
 */
export function createNodeJws(nodeCrypto: typeof NodeCrypto): JwsPrimitives {
  const { createHmac, sign, timingSafeEqual } = nodeCrypto
  return {
    encode: (text) => Buffer.from(text, 'utf8').toString('base64url'),
    decode(b64) {
      if (!/^[A-Za-z0-9_-]*$/.test(b64) || b64.length % 4 === 1) return undefined
      const bytes = Buffer.from(b64, 'base64url')
      // Canonical only: re-encoding must give the same text (no stray trailing bits).
      if (bytes.toString('base64url') !== b64) return undefined
      return bytes.toString('utf8')
    },
    signer(key, alg) {
      const scheme = SCHEMES[alg]
      if (!scheme) return undefined
      if (scheme.kind === 'hmac') {
        if (!(key instanceof Uint8Array)) return undefined
        const secret = Buffer.from(key)
        return (input) =>
          createHmac(scheme.hash, secret).update(input, 'latin1').digest('base64url')
      }
      if (key instanceof Uint8Array) return undefined
      const object = keyObject(nodeCrypto, key, scheme, 'private')
      if (!object) return undefined
      const opts = options(nodeCrypto, scheme, object)
      const hash = hashOf(scheme)
      return (input) => sign(hash, Buffer.from(input, 'latin1'), opts).toString('base64url')
    },
    verifier(key, alg) {
      const scheme = SCHEMES[alg]
      if (!scheme) return undefined
      if (scheme.kind === 'hmac') {
        if (!(key instanceof Uint8Array)) return undefined
        const secret = Buffer.from(key)
        return (input, signature) => {
          const expected = createHmac(scheme.hash, secret).update(input, 'latin1').digest()
          const given = Buffer.from(signature, 'base64url')
          return (
            given.length === expected.length &&
            given.toString('base64url') === signature &&
            timingSafeEqual(given, expected)
          )
        }
      }
      if (key instanceof Uint8Array) return undefined
      const object = keyObject(nodeCrypto, key, scheme, 'public')
      return object && verifierOf(nodeCrypto, object, scheme)
    },
    jwkVerifier(jwk, alg) {
      const scheme = SCHEMES[alg]
      if (!scheme || scheme.kind === 'hmac') return undefined
      let object: KeyObject
      try {
        object = nodeCrypto.createPublicKey({ key: jwk as NodeCrypto.JsonWebKey, format: 'jwk' })
      } catch {
        return undefined
      }
      const fit = fitting(object, scheme, 'public')
      return fit && verifierOf(nodeCrypto, fit, scheme)
    },
  }
}

/** The verification of base64url signatures with a checked public key. */
function verifierOf(
  nodeCrypto: typeof NodeCrypto,
  object: KeyObject,
  scheme: Scheme,
): (signingInput: string, signature: string) => boolean {
  const opts = options(nodeCrypto, scheme, object)
  const hash = hashOf(scheme)
  return (input, signature) => {
    const given = Buffer.from(signature, 'base64url')
    if (given.toString('base64url') !== signature) return false
    if (scheme.kind === 'ecdsa' && given.length !== scheme.bytes) return false
    try {
      return nodeCrypto.verify(hash, Buffer.from(input, 'latin1'), opts, given)
    } catch {
      return false
    }
  }
}
