/**
 * What DPoP proofs (RFC 9449 §4.3) and device request signatures (docs/devsig.md) share: a
 * compact JWS that carries its own public key in the `jwk` header. Decoding it, the header rules
 * (one `typ`, an asymmetric `alg` of an allow-list, a public key alone, no `crit`), the signature
 * check with that key (synchronous on `node:crypto`, jose elsewhere) and the key's RFC 7638
 * thumbprint. Each caller turns a failure into its own error through `fail`.
 *
 * @module
 */
import { compactVerify, importJWK, type JWK, errors as joseErrors } from 'jose'
import { decodeBase64url, encodeBase64url } from '../core/base64url.ts'
import type { CryptoBackend } from '../core/crypto/index.ts'
import { DPOP_ALGORITHMS } from './key.ts'

/** A decoded compact JWS: header and payload as JSON objects. */
export interface DecodedKeyJws {
  readonly header: Record<string, unknown>
  readonly payload: Record<string, unknown>
}

/** Builds the error thrown for a failed rule from a message safe to send. */
export type Fail = (message: string) => Error

const ASYMMETRIC: ReadonlySet<string> = new Set(DPOP_ALGORITHMS)
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

function json(part: string | undefined): Record<string, unknown> | undefined {
  const bytes = part === undefined ? undefined : decodeBase64url(part)
  if (!bytes) return undefined
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Rule (RFC 7515 §7.1, RFC 9449 §4.3 step 2): a compact JWS of at most `maxLength` characters
 * whose header and payload are JSON objects; undefined otherwise.
 *
 * @example
 * ```ts
 * const decoded = decodeKeyJws(proof, 8192) // undefined for garbage
 * ```
 */
export function decodeKeyJws(jws: string, maxLength: number): DecodedKeyJws | undefined {
  if (jws.length === 0 || jws.length > maxLength) return undefined
  const parts = jws.split('.')
  if (parts.length !== 3) return undefined
  const header = json(parts[0])
  const payload = json(parts[1])
  return header && payload ? { header, payload } : undefined
}

/**
 * Rule (RFC 9449 §4.3 steps 4, 5, 7; RFC 7515 §4.1.11): `typ` is `typ`; `alg` an allowed
 * asymmetric algorithm (never `none`, never HMAC; `Ed25519`, RFC 9864's fully-specified name,
 * wherever EdDSA is allowed); `jwk` a public key alone; no `crit`. `label` names the JWS in
 * messages ("DPoP proof").
 *
 * @example
 * ```ts
 * checkKeyJwsHeader(header, { typ: 'dpop+jwt', algorithms: ['ES256'], label: 'DPoP proof', fail })
 * ```
 */
export function checkKeyJwsHeader(
  header: Record<string, unknown>,
  rules: { typ: string; algorithms: readonly string[]; label: string; fail: Fail },
): void {
  const { label, fail } = rules
  if (header.typ !== rules.typ) throw fail(`${label} "typ" must be "${rules.typ}"`)
  const { alg, jwk } = header
  const family = alg === 'Ed25519' ? 'EdDSA' : alg
  if (typeof family !== 'string' || !ASYMMETRIC.has(family) || !rules.algorithms.includes(family))
    throw fail(`${label} "alg" is not allowed`)
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw fail(`${label} "jwk" header is missing`)
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw fail(`${label} "jwk" is not a public key`)
  if ('crit' in header) throw fail(`${label} "crit" is not supported`)
}

type Verify = (signingInput: string, signature: string) => boolean
/** Verifiers of recently seen keys: a client signs many proofs with one key. Bounded. */
const VERIFIERS = new WeakMap<CryptoBackend, Map<string, Verify | undefined>>()
const MAX_CACHED_KEYS = 1000

/**
 * The synchronous verifier of `jwk` for `alg` made by the backend's `jwkVerifier`, cached per
 * backend for the last {@link MAX_CACHED_KEYS} keys (the OP's client-assertion check uses it too).
 *
 * @example
 * ```ts
 * const verify = cachedVerifier(crypto, jwk, 'ES256', jwkVerifier)
 * verify?.(signingInput, signature) // true or false; undefined: the key does not fit
 * ```
 */
export function cachedVerifier(
  crypto: CryptoBackend,
  jwk: Record<string, string>,
  alg: string,
  make: NonNullable<NonNullable<CryptoBackend['jws']>['jwkVerifier']>,
): Verify | undefined {
  let cache = VERIFIERS.get(crypto)
  if (!cache) {
    cache = new Map()
    VERIFIERS.set(crypto, cache)
  }
  const id = `${alg} ${JSON.stringify(jwk)}`
  if (cache.has(id)) return cache.get(id)
  const verify = make(jwk, alg)
  if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value as string)
  cache.set(id, verify)
  return verify
}

/**
 * Rule (RFC 9449 §4.3 step 6, RFC 7515 §5.2): the signature verifies with the public key in
 * `jwk`, for its own `alg` (a key of another type or curve than `alg` names is refused).
 *
 * @example
 * ```ts
 * await checkKeyJwsSignature(jws, 'ES256', jwk, defaultCrypto, () => new Error('bad signature'))
 * ```
 */
export async function checkKeyJwsSignature(
  jws: string,
  alg: string,
  jwk: Record<string, string>,
  crypto: CryptoBackend,
  fail: () => Error,
): Promise<void> {
  const fast = crypto.jws?.jwkVerifier
  if (fast) {
    const verify = cachedVerifier(crypto, jwk, alg, fast)
    const end = jws.lastIndexOf('.')
    if (!verify?.(jws.slice(0, end), jws.slice(end + 1))) throw fail()
    return
  }
  try {
    await compactVerify(jws, await importJWK(jwk as JWK, alg), { algorithms: [alg] })
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError) throw fail()
    throw err
  }
}

/**
 * RFC 7638 §3: the SHA-256 thumbprint of a public JWK (its required members only, as
 * `publicMembers` keeps them), lexicographic order, compact JSON, base64url.
 *
 * @example
 * ```ts
 * const jkt = await jwkThumbprint(publicJwk, defaultCrypto) // equals cnf.jkt of bound tokens
 * ```
 */
export async function jwkThumbprint(
  jwk: Record<string, string>,
  crypto: CryptoBackend,
): Promise<string> {
  const members = Object.keys(jwk).sort()
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])))
  return encodeBase64url(await crypto.sha256(canonical))
}
