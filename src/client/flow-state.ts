/**
 * The flow state: what the callback needs from the login that started it (state, nonce, PKCE
 * verifier, provider, returnTo, expiry). {@link sealFlowState} turns it into an opaque string for
 * a per-flow cookie (JWE `dir` + `A256GCM`, key derived from the app secret by HKDF);
 * {@link openFlowState} checks it and tells apart the ways it can fail.
 *
 * @module
 */
import { decodeProtectedHeader, EncryptJWT, errors as joseErrors, jwtDecrypt } from 'jose'
import { aesKeyOf } from '../core/aes-key.ts'
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { Keyring } from '../core/keyring.ts'
import { type DpopKey, exportDpopKey, importDpopKey } from '../dpop/key.ts'
import { joseCause } from './jose-cause.ts'

/** What a login leaves for its callback. Secret: keep it server-side or sealed. */
export interface FlowState {
  /** The provider this login went to; the callback must be for the same one. */
  readonly providerId: string
  /** The `state` sent in the authorization request. */
  readonly state: string
  /** The `nonce` sent in the authorization request (OIDC). */
  readonly nonce: string
  /** The PKCE `code_verifier`; absent only when PKCE was disabled for the provider. */
  readonly codeVerifier?: string
  /** The `redirect_uri` sent, to be sent again at the token exchange. */
  readonly redirectUri: string
  /** The scopes asked for. */
  readonly scopes: readonly string[]
  /** Where to send the user after the login: a same-origin path (see `isSafeReturnTo`). */
  readonly returnTo?: string
  /** The `max_age` sent, in seconds; the ID token's `auth_time` must honour it. */
  readonly maxAge?: number
  /** The `acr` values asked for as essential: the ID token's `acr` must be one of them. */
  readonly acrValues?: readonly string[]
  /**
   * The DPoP key the authorization request was pushed with (RFC 9449 §10.1): the code may be
   * bound to it, so the token exchange proves it. Sealed only when the key is extractable
   * (`dpop: { extractable: true }`), as its private JWK inside the encrypted state.
   */
  readonly dpopKey?: DpopKey
  /** RFC 8707: the resources (`resource`) asked for; the token request names the first. */
  readonly resources?: readonly string[]
  /** When this flow stops being acceptable, ms since the epoch. */
  readonly expiresAt: number
}

/**
 * Longest life of a flow state: 10 minutes. Use it as the flow cookie's `Max-Age` (in seconds).
 *
 * @example
 * ```ts
 * const maxAge = FLOW_STATE_MAX_TTL_MS / 1000 // 600
 * ```
 */
export const FLOW_STATE_MAX_TTL_MS = 600_000
/** Longest sealed flow state accepted, in characters (a cookie holds about 4 KiB). */
export const MAX_SEALED_LENGTH = 4096
const PURPOSE = 'flow-state'
const TYP = 'authkestra-flow+jwt'

/** Capabilities for sealing and opening. */
export interface FlowStateSealDeps {
  readonly keys: Keyring
  readonly clock?: Clock
}

/**
 * Seals a flow state for a cookie. The JWE expires with the flow state (10 minutes at most).
 *
 * @example
 * ```ts
 * const { url, flowState } = await flow.initiateLogin()
 * const cookie = await sealFlowState(flowState, { keys: createKeyring(process.env.AUTH_SECRET!) })
 * ```
 */
export async function sealFlowState(
  flowState: FlowState,
  deps: FlowStateSealDeps,
): Promise<string> {
  const [current] = await deps.keys.keys(PURPOSE)
  if (!current) throw new AuthkestraError('config_invalid', '"secret" must not be empty')
  const now = (deps.clock ?? systemClock).now()
  const exp = Math.min(flowState.expiresAt, now + FLOW_STATE_MAX_TTL_MS)
  // `iat` (ms) in the protected header lets a holder of many sealed states order them without
  // opening any (the engine drops the oldest flow cookies that way); the payload uses short keys
  // to keep the cookie small.
  const payload = compact({ ...flowState, expiresAt: exp })
  if (flowState.dpopKey !== undefined) payload.k = await sealableKey(flowState.dpopKey)
  const sealed = await new EncryptJWT(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid, typ: TYP, iat: now })
    .encrypt(await aesKeyOf(current))
  if (sealed.length > MAX_SEALED_LENGTH) {
    // It could not be opened again, and browsers drop cookies over 4 KiB.
    throw new AuthkestraError(
      'config_invalid',
      `sealed flow state is longer than ${MAX_SEALED_LENGTH} characters`,
    )
  }
  return sealed
}

/**
 * When a sealed flow state was sealed (ms since the epoch), read from its protected header
 * without opening it; undefined when it is not one. Not authenticated until opened: use it only
 * to order states, never to trust one.
 *
 * @example
 * ```ts
 * const oldestFirst = cookies.sort((a, b) => (sealedAt(a) ?? 0) - (sealedAt(b) ?? 0))
 * ```
 */
export function sealedAt(sealed: string): number | undefined {
  if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_LENGTH) return undefined
  try {
    const { iat, typ } = decodeProtectedHeader(sealed) as { iat?: unknown; typ?: unknown }
    return typ === TYP && typeof iat === 'number' && Number.isFinite(iat) ? iat : undefined
  } catch {
    return undefined
  }
}

/**
 * A DPoP key as sealed: its private JWK. A non-extractable key cannot leave the process, and
 * the code the push bound to it could not be redeemed without it: `config_invalid`.
 */
async function sealableKey(key: DpopKey): Promise<Record<string, unknown>> {
  if (!key.privateKey.extractable)
    throw new AuthkestraError(
      'config_invalid',
      'this flow state holds the non-extractable DPoP key its request was pushed with: keep the flow state in memory, or set dpop: { extractable: true } to seal it',
    )
  const { alg, privateJwk } = await exportDpopKey(key)
  return { a: alg, j: privateJwk }
}

/** The payload of a sealed flow state: the same fields under one- or two-letter names. */
function compact(f: FlowState): Record<string, unknown> {
  return {
    p: f.providerId,
    s: f.state,
    n: f.nonce,
    ...(f.codeVerifier === undefined ? {} : { v: f.codeVerifier }),
    r: f.redirectUri,
    sc: f.scopes,
    ...(f.returnTo === undefined ? {} : { rt: f.returnTo }),
    ...(f.maxAge === undefined ? {} : { ma: f.maxAge }),
    ...(f.acrValues === undefined ? {} : { ac: f.acrValues }),
    ...(f.resources === undefined ? {} : { rs: f.resources }),
    e: f.expiresAt,
  }
}

/**
 * Opens a sealed flow state and checks it belongs to `providerId` and has not expired.
 *
 * Fails with `flow_state_malformed` (not a sealed flow state at all), `flow_state_key_unknown`
 * (sealed under a secret this app does not have), `flow_state_tampered` (decryption failed),
 * `flow_state_expired`, or `flow_state_provider_mismatch`.
 *
 * @example
 * ```ts
 * const flowState = await openFlowState(cookieValue, { keys, providerId: 'github' })
 * const { identity } = await flow.finalizeLogin(request.url, flowState)
 * ```
 */
export async function openFlowState(
  sealed: string,
  deps: FlowStateSealDeps & { readonly providerId: string },
): Promise<FlowState> {
  if (
    typeof sealed !== 'string' ||
    sealed.length > MAX_SEALED_LENGTH ||
    sealed.split('.').length !== 5
  ) {
    throw malformed()
  }
  let header: { kid?: unknown; alg?: unknown; enc?: unknown; typ?: unknown }
  try {
    header = decodeProtectedHeader(sealed)
  } catch {
    throw malformed()
  }
  if (header.alg !== 'dir' || header.enc !== 'A256GCM' || header.typ !== TYP) throw malformed()
  const key = (await deps.keys.keys(PURPOSE)).find((k) => k.kid === header.kid)
  if (!key) {
    throw new AuthkestraError(
      'flow_state_key_unknown',
      'flow state was sealed with a secret this app does not have',
    )
  }
  const now = (deps.clock ?? systemClock).now()
  let payload: Record<string, unknown>
  try {
    ;({ payload } = await jwtDecrypt(sealed, await aesKeyOf(key), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      typ: TYP,
      currentDate: new Date(now),
    }))
  } catch (err) {
    if (err instanceof joseErrors.JWEDecryptionFailed) {
      throw new AuthkestraError('flow_state_tampered', 'flow state failed its integrity check', {
        cause: joseCause(err),
      })
    }
    throw malformed(joseCause(err))
  }
  const parsed = parse(payload)
  const flowState =
    payload.k === undefined ? parsed : { ...parsed, dpopKey: await openKey(payload.k) }
  if (now >= flowState.expiresAt) {
    throw new AuthkestraError('flow_state_expired', 'flow state has expired; start the login again')
  }
  if (flowState.providerId !== deps.providerId) {
    throw new AuthkestraError(
      'flow_state_provider_mismatch',
      `flow state belongs to provider "${flowState.providerId}", not "${deps.providerId}"`,
    )
  }
  return flowState
}

function malformed(cause?: unknown): AuthkestraError {
  return new AuthkestraError(
    'flow_state_malformed',
    'flow state is not a sealed Authkestra flow state',
    {
      cause,
    },
  )
}

/** The sealed DPoP key, imported extractable again (it was made so). */
async function openKey(sealed: unknown): Promise<DpopKey> {
  const { a, j } = (sealed ?? {}) as { a?: unknown; j?: unknown }
  if (typeof a !== 'string' || typeof j !== 'object' || j === null) throw malformed()
  try {
    return await importDpopKey({ alg: a, privateJwk: j } as Parameters<typeof importDpopKey>[0], {
      extractable: true,
    })
  } catch (err) {
    throw malformed(err)
  }
}

function parse(v: Record<string, unknown>): FlowState {
  const ok =
    typeof v.p === 'string' &&
    typeof v.s === 'string' &&
    typeof v.n === 'string' &&
    typeof v.r === 'string' &&
    typeof v.e === 'number' &&
    Array.isArray(v.sc) &&
    v.sc.every((s) => typeof s === 'string') &&
    (v.v === undefined || typeof v.v === 'string') &&
    (v.rt === undefined || typeof v.rt === 'string') &&
    (v.ma === undefined || (typeof v.ma === 'number' && Number.isInteger(v.ma))) &&
    (v.ac === undefined || (Array.isArray(v.ac) && v.ac.every((a) => typeof a === 'string'))) &&
    (v.rs === undefined || (Array.isArray(v.rs) && v.rs.every((r) => typeof r === 'string')))
  if (!ok) throw malformed()
  return {
    providerId: v.p as string,
    state: v.s as string,
    nonce: v.n as string,
    ...(v.v === undefined ? {} : { codeVerifier: v.v as string }),
    redirectUri: v.r as string,
    scopes: v.sc as string[],
    ...(v.rt === undefined ? {} : { returnTo: v.rt as string }),
    ...(v.ma === undefined ? {} : { maxAge: v.ma as number }),
    ...(v.ac === undefined ? {} : { acrValues: v.ac as string[] }),
    ...(v.rs === undefined ? {} : { resources: v.rs as string[] }),
    expiresAt: v.e as number,
  }
}
