/**
 * DPoP at the OP (RFC 9449): the proof of a token request is checked against the token
 * endpoint's URL, its key's thumbprint becomes the sender binding of what the request issues
 * (`cnf.jkt`, `token_type: DPoP`), `jti`s are remembered in the store (shared by every instance),
 * and, when configured, a server nonce is required (§8) and handed out on every answer.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import type { Clock } from '../core/clock.ts'
import { defaultCrypto, toBytes } from '../core/crypto/index.ts'
import type { DpopAlgorithm } from '../dpop/key.ts'
import { createDpopNonces, type DpopNonces } from '../dpop/nonce.ts'
import type { ReplayCache } from '../dpop/replay.ts'
import {
  checkClockTolerance,
  checkDpopAlgorithms,
  checkProofMaxAge,
  type DpopSettings,
  expectationsOf,
} from '../dpop/settings.ts'
import { DpopRejected, readDpopHeader, verifyDpopProof } from '../dpop/verify.ts'
import { configError, type OpDpopOptions, type OpLogger } from './config.ts'
import { OAuthProblem } from './errors.ts'
import type { OpRequest } from './http/message.ts'
import type { OpRuntime } from './setup.ts'
import type { ClientRecord } from './store/types.ts'

/** DPoP as the OP runs it. */
export interface ResolvedDpop {
  readonly algorithms: readonly DpopAlgorithm[]
  /** Present when proofs must carry a server nonce. */
  readonly nonces: DpopNonces | undefined
  readonly maxAgeSeconds: number | undefined
  /** How far ahead a proof's `iat` may be (default 5 s; FAPI 2.0: 10 s). */
  readonly clockToleranceSeconds: number | undefined
}

/** What a request proved: the thumbprint its tokens are bound to. */
export interface SenderBinding {
  readonly jkt: string
  /** A public client: its refresh tokens are bound to the key too (RFC 9449 §5). */
  readonly bindsRefreshTokens: boolean
}

/** Checks `dpop` options; a nonce without a shared secret works for one process only. */
export function resolveDpop(
  options: OpDpopOptions | undefined,
  clock: Clock,
  logger: OpLogger,
): ResolvedDpop {
  const algorithms = checkDpopAlgorithms(options?.algorithms, 'dpop.algorithms', [
    'ES256',
    'PS256',
    'EdDSA',
    'RS256',
    'ES384',
  ])
  const maxAge = checkProofMaxAge(options?.proofMaxAgeSeconds, 'dpop.proofMaxAgeSeconds')
  const nonce = options?.nonce ?? 'off'
  if (nonce !== 'off' && nonce !== 'required')
    throw configError('"dpop.nonce" must be "required" or "off"')
  let nonces: DpopNonces | undefined
  if (nonce === 'required') {
    const secret = options?.nonceSecret
    if (secret === undefined) {
      logger.warn(
        'dpop.nonce is required without a "nonceSecret": nonces of this process only (set one for several instances)',
      )
    } else if (typeof secret !== 'string' || toBytes(secret).length < 32) {
      throw configError('"dpop.nonceSecret" must be a string of at least 32 bytes')
    }
    nonces = createDpopNonces({
      secret: secret === undefined ? defaultCrypto.randomBytes(32) : toBytes(secret),
      clock,
    })
  }
  const skew = checkClockTolerance(options?.clockToleranceSeconds, 'dpop.clockToleranceSeconds')
  return { algorithms, nonces, maxAgeSeconds: maxAge, clockToleranceSeconds: skew }
}

/** The OP's DPoP settings with the store's one-time ids as the replay cache of proofs. */
export function dpopSettingsOf(
  deps: Pick<OpRuntime, 'settings' | 'store' | 'clock'>,
): DpopSettings {
  const { store } = deps
  const replay: ReplayCache = { use: (id, ttl) => store.useOnce(`dpop:${id}`, ttl) }
  return { ...deps.settings.dpop, replay, clock: deps.clock }
}

/** Headers every answer of a DPoP-aware endpoint carries: the current nonce, if any. */
export async function nonceHeader(settings: {
  dpop: ResolvedDpop
}): Promise<Record<string, string>> {
  return settings.dpop.nonces ? { 'dpop-nonce': await settings.dpop.nonces.current() } : {}
}

/**
 * A refused proof as the OAuth answer (RFC 9449 §5, §8): `invalid_dpop_proof`, or
 * `use_dpop_nonce` with the nonce to retry with in `DPoP-Nonce`.
 */
export async function dpopProblem(
  err: DpopRejected,
  settings: { dpop: ResolvedDpop },
  status = 400,
  headers: Readonly<Record<string, string>> = {},
): Promise<OAuthProblem> {
  return new OAuthProblem(err.error, err.message, status, {
    ...headers,
    ...(await nonceHeader(settings)),
  })
}

/** The `jkt` of a thumbprint parameter (`dpop_jkt`, RFC 9449 §10): 43 base64url characters. */
export const isThumbprint = (value: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(value)

/**
 * Rule (RFC 9449 §5, §5.2): the DPoP proof of a request to `url` (the token or PAR endpoint),
 * checked; its key's thumbprint binds what the request issues. A client registered with
 * `dpop_bound_access_tokens` must send one to the token endpoint (`invalid_dpop_proof`); at the
 * PAR endpoint (`optional`) a proof is its choice (RFC 9449 §10.1).
 */
export async function proofOfSender(
  request: OpRequest,
  url: string,
  client: ClientRecord,
  deps: Pick<OpRuntime, 'settings' | 'store' | 'clock'>,
  options: { readonly optional?: boolean } = {},
): Promise<SenderBinding | undefined> {
  try {
    const proof = readDpopHeader(request.headers)
    if (proof === undefined) {
      if (client.dpopBoundAccessTokens && options.optional !== true)
        throw new DpopRejected('invalid_dpop_proof', 'this client must send a DPoP proof')
      return undefined
    }
    const verified = await verifyDpopProof(
      proof,
      expectationsOf(dpopSettingsOf(deps), request.method, url),
    )
    return {
      jkt: verified.thumbprint,
      bindsRefreshTokens: client.tokenEndpointAuthMethod === 'none',
    }
  } catch (err) {
    if (err instanceof DpopRejected) throw await dpopProblem(err, deps.settings)
    throw err
  }
}

/** The id under which a value is remembered: its SHA-256, so stored ids have one length. */
export async function hashedId(value: string): Promise<string> {
  return encodeBase64url(await defaultCrypto.sha256(value))
}
