/**
 * The `devsig` guard: device-bound request signatures (docs/devsig.md). A request carries the
 * OP's attestation of a device key (`Device-Attestation`) and a signature by that key over this
 * very request (`Device-Signature`). The checks run in a fixed order, each with its own stable
 * code: attestation (`attestation_missing`, `attestation_invalid`, `attestation_expired`), then
 * the signature (`signature_missing`, `signature_invalid`, `key_mismatch`, `signature_stale`),
 * what it covers (`method_mismatch`, `path_mismatch`, `audience_mismatch`, `query_mismatch`,
 * `body_mismatch`), and last its one-time use (`replayed`; a replay cache that fails is 503
 * `store_unavailable`: the guard fails closed). Every refusal is 401 with
 * `WWW-Authenticate: DevSig realm="…", error="<code>"`, except the two outages (503). No answer
 * echoes a header value.
 *
 * @module
 */
import type { JwtPayload } from '../../core/jwt-types.ts'
import { BodyTooLarge, readCapped } from '../../core/read-capped.ts'
import { DevsigRejected, verifyDevsigSignature } from '../../dpop/devsig-verify.ts'
import { type BodyBytes, DEVSIG_HEADERS } from '../../dpop/devsig-wire.ts'
import { challenge, deny } from './challenge.ts'
import { oneHeader, verifyAttestation } from './devsig-attestation.ts'
import {
  type DevsigOptions,
  type ResolvedDevsigOptions,
  resolveDevsigOptions,
} from './devsig-options.ts'
import type { GuardRequest, GuardResult } from './types.ts'

/** Who a devsig request speaks for. */
export interface DevsigPrincipal {
  /** The attestation's `sub`: the user who enrolled the device. */
  readonly subject: string
  /** The attestation's `client_id`: the app that enrolled it. */
  readonly clientId: string
  /** The RFC 7638 thumbprint of the device key that signed the request (`cnf.jkt`). */
  readonly jkt: string
  /** Every claim of the verified attestation (`amr` says whether a second factor was shown). */
  readonly claims: JwtPayload
}

/**
 * The guard: a request (a Web `Request`, whose body it reads from a clone, capped; or any
 * `GuardRequest` with its body bytes as the second argument, e.g. from a raw-body middleware).
 */
export type DevsigGuard = (
  request: GuardRequest,
  body?: BodyBytes,
) => Promise<GuardResult<DevsigPrincipal>>

/**
 * Rule: the body the signature is checked against is the one received. Without the bytes (not
 * a Web `Request`, none passed), a request that announces a body is refused (`body_mismatch`):
 * the guard never takes an unseen body for an empty one.
 */
async function bodyOf(
  request: GuardRequest,
  given: BodyBytes | undefined,
  config: ResolvedDevsigOptions,
): Promise<BodyBytes | undefined> {
  if (given !== undefined) return given
  if (typeof Request !== 'undefined' && request instanceof Request) {
    try {
      // From a clone: the route reads the body afterwards.
      const body = request.body ? request.clone().body : null
      return await readCapped(body, request.headers, config.maxBodyBytes)
    } catch (err) {
      if (err instanceof BodyTooLarge) config.logger.warn('devsig: request body over maxBodyBytes')
      else config.logger.warn('devsig: request body could not be read')
      throw new DevsigRejected('body_mismatch', 'the request body cannot be checked')
    }
  }
  const length = request.headers.get('content-length')
  if ((length !== null && length.trim() !== '0') || request.headers.get('transfer-encoding')) {
    config.logger.warn('devsig: a request with a body, but no body bytes were passed to the guard')
    throw new DevsigRejected('body_mismatch', 'the request body cannot be checked')
  }
  return undefined
}

/**
 * A guard that requires a device-bound request signature. Throws `config_invalid` at creation
 * for a missing issuer or audience or a bound out of range.
 *
 * @example
 * ```ts
 * const api = devsig({ issuer: 'https://id.example', audience: 'https://api.example' })
 * const result = await api(request) // a Web Request: its body is read from a clone
 * if (!result.ok) return result.response // 401 (or 503), ready to send
 * result.principal.subject // the user the device was enrolled for
 * // Express with express.raw(): await api(webLike, req.body)
 * ```
 */
export function devsig(options: DevsigOptions): DevsigGuard {
  const config = resolveDevsigOptions(options)
  const realm: [string, string] = ['realm', config.realm]
  const refuse = (err: DevsigRejected): GuardResult<never> => {
    const outage = err.code === 'store_unavailable' || err.code === 'keys_unavailable'
    if (outage || err.code !== 'attestation_missing')
      config.logger.warn(`devsig: request refused: ${err.code}: ${err.message}`)
    return deny(
      err.code === 'attestation_missing' ? 'none' : 'presented',
      outage ? 503 : 401,
      outage ? undefined : challenge('DevSig', [realm, ['error', err.code]]),
      err.code,
      err.message,
    )
  }
  return async (request, body) => {
    try {
      const attested = await verifyAttestation(request, config)
      const signature = oneHeader(request, DEVSIG_HEADERS.signature)
      if (signature === undefined)
        throw new DevsigRejected('signature_missing', 'a device request signature is required')
      await verifyDevsigSignature(signature, {
        jkt: attested.jkt,
        method: request.method,
        url: config.url(request),
        body: await bodyOf(request, body, config),
        audience: config.audience,
        replay: config.replay,
        algorithms: config.signatureAlgorithms,
        maxAgeSeconds: config.maxSignatureAgeSeconds,
        clockToleranceSeconds: config.clockToleranceSeconds,
        clock: config.clock,
      })
      const principal: DevsigPrincipal = {
        subject: attested.sub,
        clientId: attested.clientId,
        jkt: attested.jkt,
        claims: attested.claims,
      }
      return { ok: true, principal }
    } catch (err) {
      if (err instanceof DevsigRejected) return refuse(err)
      throw err
    }
  }
}
