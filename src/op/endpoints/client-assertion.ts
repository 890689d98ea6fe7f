/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9): the client
 * sends `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a JWT
 * it signed with its private key. An ordered list of named checks, each citing its section; the
 * signature is checked before any claim is trusted, and the `jti` is recorded last, so an
 * assertion that fails any other check never fills the store. Every refusal is an
 * {@link AssertionRefused}, which the caller turns into the one `invalid_client` answer.
 *
 * @module
 */
import { compactVerify, importJWK, type JWK, errors as joseErrors } from 'jose'
import { decodeBase64url } from '../../core/base64url.ts'
import { type CryptoBackend, defaultCrypto } from '../../core/crypto/index.ts'
import { publicMembers } from '../../dpop/key.ts'
import { cachedVerifier } from '../../dpop/verify.ts'
import { type ClientAssertionAlgorithm, KTY_OF } from '../client-keys.ts'
import { hashedId } from '../dpop.ts'
import type { OpRequest } from '../http/message.ts'
import type { Params } from '../http/params.ts'
import type { OpRuntime } from '../setup.ts'
import type { ClientRecord } from '../store/types.ts'

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** What the assertion checks read. */
export type ClientAssertionDeps = Pick<OpRuntime, 'settings' | 'store' | 'clock' | 'clientKeys'>

/**
 * Why an assertion was refused: for the operator's log only (no token, no claim value). The
 * client always gets the same `invalid_client`.
 *
 * @example
 * ```ts
 * try {
 *   await verifyClientAssertion(request, params, deps)
 * } catch (err) {
 *   if (err instanceof AssertionRefused) logger.warn(`client assertion refused: ${err.message}`)
 * }
 * ```
 */
export class AssertionRefused extends Error {
  override name = 'AssertionRefused'
}

/** Longest assertion accepted, in characters. */
const MAX_ASSERTION_LENGTH = 8192
/** Longest `jti` accepted. */
const MAX_JTI_LENGTH = 256
/** The curve an algorithm needs, where the key type has several (RFC 7518 §3.4, RFC 8037 §3.1). */
const CRV_OF: Readonly<Partial<Record<ClientAssertionAlgorithm, string>>> = {
  ES256: 'P-256',
  ES384: 'P-384',
  EdDSA: 'Ed25519',
}

type Json = Record<string, unknown>
type Jwk = Readonly<Record<string, unknown>> & { readonly kty: string }

const refuse = (why: string): never => {
  throw new AssertionRefused(why)
}

/** True when the request carries either JWT-assertion parameter: it chose this method. */
export function presentsAssertion(params: Params): boolean {
  return params.raw.has('client_assertion') || params.raw.has('client_assertion_type')
}

/**
 * Rule (RFC 6749 §2.3, RFC 7523 §2.2): one method only — no Authorization header credentials
 * and no `client_secret` beside the assertion — and `client_assertion_type` is exactly the
 * JWT-bearer URN with a `client_assertion`.
 */
function checkSingleMethod(request: OpRequest, params: Params): string {
  const authorization = request.headers.get('authorization')
  if (authorization !== null && /^basic(?:\s|$)/i.test(authorization))
    refuse('an Authorization header beside the assertion')
  if (params.raw.has('client_secret')) refuse('a client_secret beside the assertion')
  if (single(params, 'client_assertion_type') !== JWT_BEARER_ASSERTION)
    refuse('client_assertion_type is not the JWT-bearer URN')
  return single(params, 'client_assertion') ?? refuse('no single client_assertion')
}

/** A parameter sent exactly once and not empty (a repeated one is refused like a wrong one). */
function single(params: Params, name: string): string | undefined {
  const all = params.raw.getAll(name)
  return all.length === 1 && all[0] !== '' ? all[0] : undefined
}

function jsonPart(part: string | undefined): Json | undefined {
  const bytes = part === undefined ? undefined : decodeBase64url(part)
  if (!bytes) return undefined
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Json)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Rule (RFC 7523 §3 item 9, RFC 7515 §7.1, RFC 7519 §7.2): a compact JWS whose header and
 * payload are JSON objects, no `crit` we would have to understand.
 */
function checkCompactJws(assertion: string): { header: Json; payload: Json } {
  if (assertion.length > MAX_ASSERTION_LENGTH) refuse('assertion too long')
  const parts = assertion.split('.')
  if (parts.length !== 3) refuse('not a compact JWS')
  const header = jsonPart(parts[0]) ?? refuse('header is not a JSON object')
  const payload = jsonPart(parts[1]) ?? refuse('payload is not a JSON object')
  if ('crit' in header) refuse('"crit" is not supported')
  return { header, payload }
}

/**
 * An assertion's `alg`: one of the configured algorithms, or `Ed25519` (RFC 9864's
 * fully-specified name of EdDSA over Ed25519, what openid-client 6 sends) wherever EdDSA is.
 */
interface AssertionAlg {
  readonly alg: string
  /** The configured algorithm it counts as. */
  readonly family: ClientAssertionAlgorithm
}

/**
 * Rule (RFC 8725 §3.1, RFC 7523 §3 item 9): `alg` is one of the OP's allowed asymmetric
 * algorithms (never `none`, never HMAC with a public key as the secret).
 */
function checkAlgorithm(header: Json, deps: ClientAssertionDeps): AssertionAlg {
  const alg = header.alg
  const family = alg === 'Ed25519' ? 'EdDSA' : alg
  const allowed: readonly string[] = deps.settings.clientAssertion.algorithms
  if (typeof alg !== 'string' || typeof family !== 'string' || !allowed.includes(family))
    refuse('"alg" is not allowed')
  return { alg: alg as string, family: family as ClientAssertionAlgorithm }
}

/**
 * Rule (RFC 7523 §3 items 1 and 2, OIDC Core §9): `iss` and `sub` are both the `client_id` of
 * a client registered for `private_key_jwt` (and equal a body `client_id`, if one is sent), and
 * `alg` is its `token_endpoint_auth_signing_alg` when it registered one. Read before the
 * signature only to find the key; the signature then covers them.
 */
async function identifyClient(
  payload: Json,
  alg: AssertionAlg,
  params: Params,
  deps: ClientAssertionDeps,
): Promise<ClientRecord> {
  const { iss, sub } = payload
  if (typeof iss !== 'string' || iss === '' || iss !== sub) refuse('"iss" and "sub" differ')
  if (params.raw.has('client_id') && single(params, 'client_id') !== iss)
    refuse('body client_id differs from "iss"')
  const client = await deps.store.get('client', iss as string)
  if (client?.tokenEndpointAuthMethod !== 'private_key_jwt')
    refuse('no private_key_jwt client of that id')
  const only = (client as ClientRecord).tokenEndpointAuthSigningAlg
  if (only !== undefined && only !== alg.family && only !== alg.alg)
    refuse('"alg" is not the registered signing alg')
  return client as ClientRecord
}

function fits(key: Jwk, { alg, family }: AssertionAlg): boolean {
  if (key.kty !== KTY_OF[family]) return false
  const crv = CRV_OF[family]
  if (crv !== undefined && key.crv !== crv) return false
  const algOk = key.alg === undefined || key.alg === alg || key.alg === family
  return algOk && (key.use === undefined || key.use === 'sig')
}

/**
 * Rule (RFC 7515 §4.1.4, RFC 7517 §4.5): the key is the one whose `kid` the header names (an
 * unknown `kid` refetches a `jwks_uri` set once, rate-limited), or without `kid` the only key
 * of the client that fits `alg`.
 */
async function selectKey(
  header: Json,
  alg: AssertionAlg,
  client: ClientRecord,
  deps: ClientAssertionDeps,
): Promise<Jwk> {
  const kid = header.kid
  if (kid !== undefined && typeof kid !== 'string') refuse('"kid" is not a string')
  const pick = (keys: readonly Jwk[]) => {
    const fitting = keys.filter((k) => fits(k, alg))
    return kid === undefined
      ? fitting.length === 1
        ? fitting[0]
        : undefined
      : fitting.find((k) => k.kid === kid)
  }
  const key =
    pick(await deps.clientKeys.keysOf(client)) ??
    (kid !== undefined && client.jwksUri !== undefined
      ? pick(await deps.clientKeys.keysOf(client, true))
      : undefined)
  return key ?? refuse(kid === undefined ? 'no single key fits "alg"' : 'unknown "kid"')
}

/** Rule (RFC 7523 §3 item 9, RFC 7515 §5.2): the signature verifies with that key for `alg`. */
async function checkSignature(
  assertion: string,
  { alg }: AssertionAlg,
  key: Jwk,
  crypto: CryptoBackend,
): Promise<void> {
  const jwk = publicMembers(key) ?? refuse('key is not a usable public key')
  const fast = crypto.jws?.jwkVerifier
  if (fast) {
    const verify = cachedVerifier(crypto, jwk, alg, fast)
    const end = assertion.lastIndexOf('.')
    if (!verify?.(assertion.slice(0, end), assertion.slice(end + 1))) refuse('bad signature')
    return
  }
  try {
    await compactVerify(assertion, await importJWK(jwk as JWK, alg), { algorithms: [alg] })
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError) refuse('bad signature')
    throw err
  }
}

/**
 * Rule (RFC 7523 §3 item 3, OIDC Core §9): `aud` (a string or an array) contains the issuer
 * identifier or the token endpoint URL, compared exactly. Under the FAPI 2.0 profile (§5.3.2.1:
 * "shall only accept its issuer identifier value as a string in the aud claim"), it is the
 * issuer identifier itself, a string.
 */
function checkAudience(payload: Json, deps: ClientAssertionDeps): void {
  const { issuer, urls, profile } = deps.settings
  const aud = payload.aud
  if (profile === 'fapi2') {
    if (aud !== issuer) refuse('"aud" is not the issuer identifier as a string (FAPI 2.0)')
    return
  }
  const values = Array.isArray(aud) ? aud : [aud]
  if (!values.some((v) => v === issuer || v === urls.token)) refuse('"aud" is not this OP')
}

/**
 * Rule (RFC 7523 §3 items 4 to 6): `exp` is required and not past; `nbf` and `iat`, when
 * present, not in the future; the lifetime `exp - iat` (`exp - now` without `iat`) at most
 * `maxLifetimeSeconds`; each within the clock tolerance. Answers the seconds left until `exp`.
 */
function checkTimes(payload: Json, deps: ClientAssertionDeps): number {
  const { maxLifetimeSeconds, clockToleranceSeconds: skew } = deps.settings.clientAssertion
  const now = Math.floor(deps.clock.now() / 1000)
  const { exp, nbf, iat } = payload
  const time = (v: unknown) => typeof v === 'number' && Number.isFinite(v)
  if (!time(exp)) refuse('"exp" is missing')
  if ((exp as number) <= now - skew) refuse('expired')
  if (nbf !== undefined && (!time(nbf) || (nbf as number) > now + skew)) refuse('"nbf" is ahead')
  if (iat !== undefined && (!time(iat) || (iat as number) > now + skew)) refuse('"iat" is ahead')
  const start = iat === undefined ? now : (iat as number)
  if ((exp as number) - start > maxLifetimeSeconds) refuse('lifetime too long')
  return (exp as number) - now
}

/**
 * Rule (OIDC Core §9, RFC 7523 §3 item 7): `jti` is required and used once: remembered in the
 * store (shared by every instance), keyed by client so two clients' `jti`s never collide, until
 * the assertion's `exp` has passed.
 */
async function checkJti(
  payload: Json,
  client: ClientRecord,
  secondsLeft: number,
  deps: ClientAssertionDeps,
): Promise<void> {
  const jti = payload.jti
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
    refuse('"jti" is missing')
  const id = await hashedId(`${client.clientId}\u0000${jti as string}`)
  const ttl = Math.max(
    1,
    Math.ceil(secondsLeft + deps.settings.clientAssertion.clockToleranceSeconds),
  )
  if (!(await deps.store.useOnce(`client-assertion:${id}`, ttl))) refuse('"jti" replayed')
}

/**
 * Authenticates a client by its JWT assertion. Throws {@link AssertionRefused} with the reason
 * (for the log); the caller answers `invalid_client`.
 *
 * @example
 * ```ts
 * if (presentsAssertion(params)) return verifyClientAssertion(request, params, runtime)
 * ```
 */
export async function verifyClientAssertion(
  request: OpRequest,
  params: Params,
  deps: ClientAssertionDeps,
  crypto: CryptoBackend = defaultCrypto,
): Promise<ClientRecord> {
  const assertion = checkSingleMethod(request, params)
  const { header, payload } = checkCompactJws(assertion)
  const alg = checkAlgorithm(header, deps)
  const client = await identifyClient(payload, alg, params, deps)
  const key = await selectKey(header, alg, client, deps)
  await checkSignature(assertion, alg, key, crypto)
  checkAudience(payload, deps)
  const secondsLeft = checkTimes(payload, deps)
  await checkJti(payload, client, secondsLeft, deps)
  return client
}
