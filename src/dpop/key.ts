/**
 * DPoP key pairs (RFC 9449 §2): the client's proof-of-possession key, its public JWK and its
 * RFC 7638 thumbprint (the `jkt` tokens are bound to). A key made for one process stays
 * non-extractable; one that must outlive the process (kept with a session in a database) is
 * made extractable and moved with {@link exportDpopKey} / {@link importDpopKey}.
 *
 * @module
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import { AuthkestraError } from '../core/errors.ts'

/**
 * The algorithms a DPoP key may use: asymmetric only (RFC 9449 §4.2).
 *
 * @example
 * ```ts
 * const key = await generateDpopKey({ alg: DPOP_ALGORITHMS[0] })
 * ```
 */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const

/** One of {@link DPOP_ALGORITHMS}. */
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number]

/** A DPoP key pair. The private key never leaves it unless it was made extractable. */
export interface DpopKey {
  readonly alg: DpopAlgorithm
  readonly privateKey: CryptoKey
  /** The public key as it goes into each proof's `jwk` header: public members only. */
  readonly publicJwk: Readonly<Record<string, string>>
  /** The RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of bound tokens. */
  readonly thumbprint: string
}

/** A DPoP key as plain JSON (private JWK included): store it encrypted, never log it. */
export interface ExportedDpopKey {
  readonly alg: DpopAlgorithm
  readonly privateJwk: Readonly<Record<string, unknown>>
}

/** The JWK members of a public key of each type (RFC 7638 §3.2), in the order kept. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['kty', 'crv', 'x', 'y'],
  RSA: ['kty', 'n', 'e'],
  OKP: ['kty', 'crv', 'x'],
}

/** The public members of a JWK, or undefined for a key type DPoP does not use. */
export function publicMembers(
  jwk: Readonly<Record<string, unknown>>,
): Record<string, string> | undefined {
  const members = typeof jwk.kty === 'string' ? PUBLIC_MEMBERS[jwk.kty] : undefined
  if (!members) return undefined
  const out: Record<string, string> = {}
  for (const name of members) {
    const value = jwk[name]
    if (typeof value !== 'string' || value === '') return undefined
    out[name] = value
  }
  return out
}

function checkAlg(alg: unknown): DpopAlgorithm {
  if (!(DPOP_ALGORITHMS as readonly unknown[]).includes(alg)) {
    throw new AuthkestraError(
      'config_invalid',
      `DPoP "alg" must be one of ${DPOP_ALGORITHMS.join(', ')}`,
    )
  }
  return alg as DpopAlgorithm
}

async function fromPair(alg: DpopAlgorithm, privateKey: CryptoKey, publicKey: CryptoKey) {
  const jwk = publicMembers((await exportJWK(publicKey)) as Record<string, unknown>)
  if (!jwk) throw new AuthkestraError('config_invalid', 'DPoP key type is not supported')
  const thumbprint = await calculateJwkThumbprint(jwk as JWK, 'sha256')
  return { alg, privateKey, publicJwk: Object.freeze(jwk), thumbprint }
}

/**
 * Makes a DPoP key pair (ES256 by default). `extractable: true` only when the key must be
 * stored (see {@link exportDpopKey}); otherwise the private key cannot be read out.
 *
 * @example
 * ```ts
 * const key = await generateDpopKey()           // ES256, non-extractable
 * key.thumbprint                                // the jkt tokens will be bound to
 * ```
 */
export async function generateDpopKey(
  options: { alg?: DpopAlgorithm; extractable?: boolean } = {},
): Promise<DpopKey> {
  const alg = checkAlg(options.alg ?? 'ES256')
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: options.extractable === true,
    ...(alg === 'PS256' || alg === 'RS256' ? { modulusLength: 2048 } : {}),
  })
  return fromPair(alg, privateKey, publicKey)
}

/**
 * The key as JSON, to keep with a session in a store (encrypt it at rest). Throws
 * `config_invalid` for a key made without `extractable: true`.
 *
 * @example
 * ```ts
 * const saved = await exportDpopKey(key)   // { alg, privateJwk }
 * const again = await importDpopKey(saved)
 * ```
 */
export async function exportDpopKey(key: DpopKey): Promise<ExportedDpopKey> {
  if (!key.privateKey.extractable) {
    throw new AuthkestraError(
      'config_invalid',
      'this DPoP key is not extractable (make it with generateDpopKey({ extractable: true }))',
    )
  }
  return { alg: key.alg, privateJwk: (await exportJWK(key.privateKey)) as Record<string, unknown> }
}

/**
 * A key saved by {@link exportDpopKey}. The imported private key is non-extractable unless
 * `extractable` is set (to save it again).
 *
 * @example
 * ```ts
 * const key = await importDpopKey(JSON.parse(saved))
 * ```
 */
export async function importDpopKey(
  saved: ExportedDpopKey,
  options: { extractable?: boolean } = {},
): Promise<DpopKey> {
  const alg = checkAlg(saved?.alg)
  const jwk = saved.privateJwk as JWK
  if (typeof jwk?.d !== 'string')
    throw new AuthkestraError('config_invalid', 'a saved DPoP key must hold its private JWK')
  const publicJwk = publicMembers(jwk as Record<string, unknown>)
  if (!publicJwk) throw new AuthkestraError('config_invalid', 'DPoP key type is not supported')
  const privateKey = (await importJWK({ ...jwk, ext: options.extractable === true }, alg, {
    extractable: options.extractable === true,
  })) as CryptoKey
  const publicKey = (await importJWK(publicJwk as JWK, alg)) as CryptoKey
  return fromPair(alg, privateKey, publicKey)
}
