/**
 * Synchronous verification of compact JWTs through the crypto seam's `jws` primitives, for the
 * hot paths (the bearer guard, the OP's own access tokens, stateless session tokens). It makes
 * exactly the checks of jose's `jwtVerify` with the options those callers pass, in the same
 * order, and is stricter where jose is lenient (base64url must be canonical, `crit` and unknown
 * `b64` headers are refused, ECDSA signatures must have their exact length, RSA keys ≥ 2048
 * bits); a differential test holds the two to the same verdicts. Where the runtime has no `jws`
 * primitives (Web Crypto), callers use jose itself.
 *
 * @module
 */
import type { JwsPrimitives } from './crypto/types.ts'

/** What a token must satisfy (the subset of jose's `JWTVerifyOptions` the library uses). */
export interface JwtExpectations {
  readonly algorithms: readonly string[]
  /** `typ` header, compared like jose (case-insensitive, `application/` implied). */
  readonly typ?: string | undefined
  readonly issuer?: string | readonly string[] | undefined
  /** The token's `aud` must contain one of these. */
  readonly audience?: string | readonly string[] | undefined
  readonly requiredClaims?: readonly string[]
  readonly clockToleranceSeconds: number
  /** The current time, ms since the epoch. */
  readonly now: number
  /**
   * Accept a token past its `exp` (every other check still applies): only for acting on a token
   * to end it (a logout), never to grant access. jose's equivalent is catching `JWTExpired`.
   */
  readonly ignoreExpiry?: boolean
}

/** Why a token was refused. `expired` alone is jose's `JWTExpired`. */
export interface JwtRejection {
  /**
   * `no-key`: no key has the token's `kid` (or fits its `alg`); `key`: there are keys, but none
   * of a kind these primitives verify (the caller then falls back to jose).
   */
  readonly reason: 'malformed' | 'alg' | 'no-key' | 'key' | 'signature' | 'claim' | 'expired'
  readonly message: string
  /** The claim at fault, for `claim` and `expired`. */
  readonly claim?: string
}

/** A compact JWS split and decoded, not yet verified. */
export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>
  readonly payload: Readonly<Record<string, unknown>>
  readonly signingInput: string
  readonly signature: string
}

/** A verified token's header and claims. */
export interface VerifiedJwt {
  readonly header: Readonly<Record<string, unknown>>
  readonly payload: Readonly<Record<string, unknown>>
}

const reject = (reason: JwtRejection['reason'], message: string, claim?: string): JwtRejection =>
  claim === undefined ? { reason, message } : { reason, message, claim }

/** A JSON object with a plain prototype, as jose's `isObject` accepts. */
function plainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === null || proto === Object.prototype
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return plainObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** Splits and decodes a compact JWS (RFC 7515 §7.1); no signature check yet. */
export function decodeJwt(token: string, jws: JwsPrimitives): DecodedJwt | JwtRejection {
  const parts = token.split('.')
  if (parts.length !== 3) return reject('malformed', 'Invalid Compact JWS')
  const [h, p, signature] = parts as [string, string, string]
  const header = parseJson(jws.decode(h))
  if (!header) return reject('malformed', 'JWS Protected Header is invalid')
  const payload = parseJson(jws.decode(p))
  if (!payload) return reject('malformed', 'JWT Claims Set must be a top-level JSON object')
  return { header, payload, signingInput: `${h}.${p}`, signature }
}

/** Rule (RFC 7515 §4.1.1, §4.1.11; RFC 8725 §3.1): a known, allowed `alg`; no `crit`. */
export function checkHeader(
  header: Readonly<Record<string, unknown>>,
  expected: JwtExpectations,
): JwtRejection | undefined {
  if ('crit' in header || 'b64' in header)
    return reject('malformed', 'JWS "crit" and "b64" are not supported')
  const { alg } = header
  if (typeof alg !== 'string' || alg === '')
    return reject('malformed', 'JWS "alg" (Algorithm) Header Parameter missing or invalid')
  if (!expected.algorithms.includes(alg))
    return reject('alg', '"alg" (Algorithm) Header Parameter value not allowed')
  return undefined
}

const normalizeTyp = (value: string): string => {
  const lower = value.toLowerCase()
  return value.includes('/') ? lower : `application/${lower}`
}

function numericDate(
  payload: Readonly<Record<string, unknown>>,
  claim: string,
): number | undefined | JwtRejection {
  const value = payload[claim]
  if (value === undefined) return undefined
  return typeof value === 'number'
    ? value
    : reject('claim', `"${claim}" claim must be a number`, claim)
}

const isRejection = (value: unknown): value is JwtRejection =>
  typeof value === 'object' && value !== null && 'reason' in value

/**
 * Rule (RFC 7519 §4.1, RFC 9068 §4): `typ`, required claims, `iss`, `aud`, then `iat`, `nbf` and
 * `exp` against the clock with the tolerance, in jose's order.
 */
export function checkClaims(
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
  expected: JwtExpectations,
): JwtRejection | undefined {
  if (
    expected.typ !== undefined &&
    (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(expected.typ))
  ) {
    return reject('claim', 'unexpected "typ" JWT header value', 'typ')
  }
  const required = [...(expected.requiredClaims ?? [])]
  if (expected.audience !== undefined) required.push('aud')
  if (expected.issuer !== undefined) required.push('iss')
  for (const claim of new Set(required.reverse())) {
    if (!Object.hasOwn(payload, claim))
      return reject('claim', `missing required "${claim}" claim`, claim)
  }
  if (expected.issuer !== undefined) {
    const issuers: readonly unknown[] =
      typeof expected.issuer === 'string' ? [expected.issuer] : expected.issuer
    if (!issuers.includes(payload.iss))
      return reject('claim', 'unexpected "iss" claim value', 'iss')
  }
  if (expected.audience !== undefined) {
    const wanted = typeof expected.audience === 'string' ? [expected.audience] : expected.audience
    const aud = payload.aud
    const ok =
      typeof aud === 'string'
        ? wanted.includes(aud)
        : Array.isArray(aud) && wanted.some((a) => aud.includes(a))
    if (!ok) return reject('claim', 'unexpected "aud" claim value', 'aud')
  }
  const now = Math.floor(expected.now / 1000)
  const tolerance = expected.clockToleranceSeconds
  const iat = numericDate(payload, 'iat')
  if (isRejection(iat)) return iat
  const nbf = numericDate(payload, 'nbf')
  if (isRejection(nbf)) return nbf
  if (nbf !== undefined && nbf > now + tolerance)
    return reject('claim', '"nbf" claim timestamp check failed', 'nbf')
  const exp = numericDate(payload, 'exp')
  if (isRejection(exp)) return exp
  if (exp !== undefined && exp <= now - tolerance && expected.ignoreExpiry !== true)
    return reject('expired', '"exp" claim timestamp check failed', 'exp')
  return undefined
}

type Verifier = (signingInput: string, signature: string) => boolean
const verifiers = new WeakMap<object, Map<string, Verifier | null>>()

/** The verifier of `key` for `alg`, made once per key and algorithm; null when unsupported. */
export function verifierFor(
  jws: JwsPrimitives,
  key: CryptoKey | Uint8Array,
  alg: string,
): Verifier | null {
  let byAlg = verifiers.get(key)
  if (!byAlg) {
    byAlg = new Map()
    verifiers.set(key, byAlg)
  }
  let verifier = byAlg.get(alg)
  if (verifier === undefined) {
    verifier = jws.verifier(key, alg) ?? null
    byAlg.set(alg, verifier)
  }
  return verifier
}

/**
 * Verifies a token: decoded, header checked, signature checked with the first of `keys` (tried
 * in order, for rotated secrets) that verifies it, claims checked. `keys` is called with the
 * header once it passed its checks (so garbage never causes a key lookup).
 */
export async function verifyJwt(
  token: string,
  jws: JwsPrimitives,
  keys: (
    header: Readonly<Record<string, unknown>>,
  ) => Promise<readonly (CryptoKey | Uint8Array)[]> | readonly (CryptoKey | Uint8Array)[],
  expected: JwtExpectations,
): Promise<VerifiedJwt | JwtRejection> {
  const decoded = decodeJwt(token, jws)
  if (isRejection(decoded)) return decoded
  const { header, payload } = decoded
  const bad = checkHeader(header, expected)
  if (bad) return bad
  const alg = header.alg as string
  const candidates = await keys(header)
  if (candidates.length === 0) return reject('no-key', 'no key for this token')
  let usable = false
  for (const key of candidates) {
    const verify = verifierFor(jws, key, alg)
    if (!verify) continue
    usable = true
    if (verify(decoded.signingInput, decoded.signature)) {
      return checkClaims(header, payload, expected) ?? { header, payload }
    }
  }
  return usable
    ? reject('signature', 'signature verification failed')
    : reject('key', 'no key of this type for the algorithm')
}

/** True when `value` is a {@link JwtRejection}. */
export { isRejection }

/**
 * The same expectations as options of jose's `jwtVerify`, for the portable path (plain data:
 * this module does not import jose).
 *
 * @example
 * ```ts
 * const { payload } = await jwtVerify(token, key, joseOptions(expected))
 * ```
 */
export function joseOptions(expected: JwtExpectations): {
  algorithms: string[]
  typ?: string
  issuer?: string | string[]
  audience?: string | string[]
  requiredClaims: string[]
  clockTolerance: number
  currentDate: Date
} {
  const list = (v: string | readonly string[]) => (typeof v === 'string' ? v : [...v])
  return {
    algorithms: [...expected.algorithms],
    ...(expected.typ === undefined ? {} : { typ: expected.typ }),
    ...(expected.issuer === undefined ? {} : { issuer: list(expected.issuer) }),
    ...(expected.audience === undefined ? {} : { audience: list(expected.audience) }),
    requiredClaims: [...(expected.requiredClaims ?? [])],
    clockTolerance: expected.clockToleranceSeconds,
    currentDate: new Date(expected.now),
  }
}

/**
 * A signer of compact JWTs under a fixed `header` with `key`: the header encoded once, the
 * signature synchronous through `jws`. Undefined when `jws` cannot sign with this key and `alg`.
 *
 * @example
 * ```ts
 * const sign = compactSigner(jws, secret, { alg: 'HS256', typ: 'JWT' })
 * const token = sign?.({ sub: 'alice', exp })
 * ```
 */
export function compactSigner(
  jws: JwsPrimitives,
  key: CryptoKey | Uint8Array,
  header: Readonly<Record<string, unknown> & { alg: string }>,
): ((claims: Readonly<Record<string, unknown>>) => string) | undefined {
  const sign = jws.signer(key, header.alg)
  if (!sign) return undefined
  const encodedHeader = jws.encode(JSON.stringify(header))
  return (claims) => {
    const input = `${encodedHeader}.${jws.encode(JSON.stringify(claims))}`
    return `${input}.${sign(input)}`
  }
}
