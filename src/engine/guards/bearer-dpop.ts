/**
 * DPoP at a resource server (RFC 9449 §7): a token bound to a key (`cnf.jkt`) comes as
 * `Authorization: DPoP <token>` with a `DPoP` proof over this request that carries the token's
 * hash (`ath`) and is signed by that key; the guard verifies the proof, remembers its `jti`, and
 * compares the key's thumbprint with `cnf.jkt`. A bound token sent as a bearer token is refused
 * (§7.2): whoever holds it without the key holds nothing.
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import { toBytes } from '../../core/crypto/index.ts'
import { AuthkestraError } from '../../core/errors.ts'
import type { JwtPayload } from '../../core/jwt-types.ts'
import { DPOP_ALGORITHMS, type DpopAlgorithm } from '../../dpop/key.ts'
import { createDpopNonces, type DpopNonces } from '../../dpop/nonce.ts'
import { createMemoryReplayCache, type ReplayCache } from '../../dpop/replay.ts'
import {
  checkClockTolerance,
  checkDpopAlgorithms,
  checkProofMaxAge,
  type DpopSettings,
  verifyBoundRequest,
} from '../../dpop/settings.ts'
import type { GuardRequest } from './types.ts'

/** The `dpop` option of `bearer`. */
export interface BearerDpopOptions {
  /** Refuse bearer tokens: every token must be DPoP-bound (default false: both are accepted). */
  readonly required?: boolean
  /**
   * Where proof `jti`s are remembered (default: in this process's memory). With several
   * instances, give a shared one, e.g. over the OP store's `useOnce` or Redis `SET NX`.
   */
  readonly replay?: ReplayCache
  /**
   * Require a server nonce in every proof (RFC 9449 §9): a proof without a current one gets 401
   * `use_dpop_nonce` with the nonce in `DPoP-Nonce`. The secret (≥ 32 bytes) is the same on
   * every instance.
   */
  readonly nonce?: { readonly secret: string | Uint8Array; readonly windowSeconds?: number }
  /** Proof algorithms accepted (default: all of `DPOP_ALGORITHMS`). */
  readonly algorithms?: readonly DpopAlgorithm[]
  /** How old a proof may be, seconds (default 60; 300 with nonces). */
  readonly proofMaxAgeSeconds?: number
  /** How far ahead of the guard's clock a proof's `iat` may be, 0 to 60 seconds (default 5). */
  readonly clockToleranceSeconds?: number
  /**
   * The URL the client addressed, when it differs from `request.url` (behind a proxy that
   * rewrites the host or path). Its query is dropped before comparing with `htu`.
   */
  readonly url?: (request: GuardRequest) => string
}

/** {@link BearerDpopOptions} checked. */
export interface ResolvedBearerDpop extends DpopSettings {
  readonly required: boolean
  readonly url: (request: GuardRequest) => string
}

const configError = (message: string) => new AuthkestraError('config_invalid', message)

/** Checks the `dpop` option; undefined when DPoP is not enabled. */
export function resolveBearerDpop(
  options: BearerDpopOptions | undefined,
  clock: Clock,
): ResolvedBearerDpop | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null) throw configError('"dpop" must be an object')
  const algorithms = checkDpopAlgorithms(options.algorithms, 'dpop.algorithms', DPOP_ALGORITHMS)
  const maxAge = checkProofMaxAge(options.proofMaxAgeSeconds, 'dpop.proofMaxAgeSeconds')
  if (options.replay !== undefined && typeof options.replay?.use !== 'function')
    throw configError('"dpop.replay" must have a use(id, ttlSeconds) method')
  const skew = checkClockTolerance(options.clockToleranceSeconds, 'dpop.clockToleranceSeconds')
  if (options.url !== undefined && typeof options.url !== 'function')
    throw configError('"dpop.url" must be a function of the request')
  let nonces: DpopNonces | undefined
  if (options.nonce !== undefined) {
    const { secret, windowSeconds } = options.nonce
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array))
      throw configError('"dpop.nonce.secret" must be a string or Uint8Array')
    nonces = createDpopNonces({
      secret: toBytes(secret),
      clock,
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
    })
  }
  return {
    required: options.required === true,
    replay: options.replay ?? createMemoryReplayCache({ clock }),
    nonces,
    algorithms,
    maxAgeSeconds: maxAge,
    clockToleranceSeconds: skew,
    clock,
    url: options.url ?? ((request) => request.url),
  }
}

/** The key a token is bound to (`cnf.jkt`, RFC 9449 §6.1), if any. */
export function boundKey(claims: JwtPayload): string | undefined {
  const cnf = claims.cnf
  if (typeof cnf !== 'object' || cnf === null) return undefined
  const jkt = (cnf as Record<string, unknown>).jkt
  return typeof jkt === 'string' ? jkt : undefined
}

/**
 * Rule (RFC 9449 §7.1, §4.3): the request's proof verifies for this method and the URL the
 * client addressed, carries the token's `ath`, and is signed by the key the token is bound to.
 * Throws `DpopRejected`.
 */
export function checkProofOfPossession(
  request: GuardRequest,
  token: string,
  jkt: string,
  dpop: ResolvedBearerDpop,
): Promise<void> {
  return verifyBoundRequest(request.headers, request.method, dpop.url(request), token, jkt, dpop)
}
