/**
 * The options of the `devsig` guard (docs/devsig.md): which OP's attestations are trusted (its
 * discovery document, a JWKS URL), this API's audience, the replay cache, clock tolerance and
 * signature age, and the body cap. Checked once, at creation; mistakes throw `config_invalid`.
 *
 * @module
 */
import type { HttpOptions } from '../../client/http.ts'
import { SUPPORTED_ID_TOKEN_ALGS } from '../../client/id-token.ts'
import { type Clock, systemClock } from '../../core/clock.ts'
import { AuthkestraError } from '../../core/errors.ts'
import { consoleLogger } from '../../core/logger.ts'
import { DEVSIG_MAX_LIFETIME_SECONDS } from '../../dpop/devsig-wire.ts'
import { DPOP_ALGORITHMS, type DpopAlgorithm } from '../../dpop/key.ts'
import { createMemoryReplayCache, type ReplayCache } from '../../dpop/replay.ts'
import type { KeySource } from './bearer-keys.ts'
import { type BearerLogger, type BearerOptions, keySource } from './bearer-options.ts'
import { checkQuotable } from './challenge.ts'
import type { GuardRequest } from './types.ts'

/** Options of `devsig`. */
export interface DevsigOptions extends HttpOptions {
  /** The OP whose attestations are trusted: their exact `iss`, and where discovery is read. */
  readonly issuer: string
  /** The OP's JWKS, given directly (no discovery). */
  readonly jwksUri?: string
  /** This API's identifier(s): a request signature's `aud` must be one of them. */
  readonly audience: string | readonly string[]
  /** Only attestations for these OAuth clients (`client_id`) are taken (default: any). */
  readonly clients?: readonly string[]
  /**
   * Where request-signature `jti`s are remembered (default: this process's memory). With several
   * instances give a shared one (the OP store's `useOnce`, a Redis `SET NX`); one that throws
   * makes the guard answer 503 `store_unavailable`.
   */
  readonly replay?: ReplayCache
  /** Attestation algorithms accepted (default: the asymmetric ones of `SUPPORTED_ID_TOKEN_ALGS`). */
  readonly attestationAlgorithms?: readonly (typeof SUPPORTED_ID_TOKEN_ALGS)[number][]
  /** Request-signature algorithms accepted (default: all of `DPOP_ALGORITHMS`). */
  readonly signatureAlgorithms?: readonly DpopAlgorithm[]
  /** Clock skew allowed, 0 to 60 seconds (default 5). */
  readonly clockToleranceSeconds?: number
  /** How old a request signature may be, 1 to 60 seconds (default 60). */
  readonly maxSignatureAgeSeconds?: number
  /** Largest body read from a Web `Request`, bytes (default 1 MiB); a larger one is refused. */
  readonly maxBodyBytes?: number
  /** The URL the client addressed, when it differs from `request.url` (behind a proxy). */
  readonly url?: (request: GuardRequest) => string
  /** The `realm` of the challenges (default `"authkestra"`). */
  readonly realm?: string
  /** Accept a plain-HTTP issuer or JWKS off loopback. Only for a trusted internal network. */
  readonly allowInsecureHttp?: boolean
  /** Told why a request was refused (never a header value). Default `consoleLogger('warn')`. */
  readonly logger?: BearerLogger
  readonly clock?: Clock
}

/** {@link DevsigOptions} checked. */
export interface ResolvedDevsigOptions {
  readonly issuer: string
  readonly keys: KeySource
  readonly audience: readonly string[]
  readonly clients: readonly string[] | undefined
  readonly replay: ReplayCache
  readonly attestationAlgorithms: readonly string[]
  readonly signatureAlgorithms: readonly string[]
  readonly clockToleranceSeconds: number
  readonly maxSignatureAgeSeconds: number
  readonly maxBodyBytes: number
  readonly url: (request: GuardRequest) => string
  readonly realm: string
  readonly logger: BearerLogger
  readonly clock: Clock
}

const configError = (message: string) => new AuthkestraError('config_invalid', message)

function stringList(value: unknown, name: string): readonly string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v))
    throw configError(`devsig(): "${name}" must be a non-empty string or list of them`)
  return [...list]
}

function subset(value: unknown, allowed: readonly string[], name: string): readonly string[] {
  if (value === undefined) return [...allowed]
  const list = stringList(value, name)
  if (!list.every((v) => allowed.includes(v)))
    throw configError(`devsig(): "${name}" must list only ${allowed.join(', ')}`)
  return list
}

function integer(value: unknown, fallback: number, min: number, max: number, name: string) {
  const n = value ?? fallback
  if (!Number.isInteger(n) || (n as number) < min || (n as number) > max)
    throw configError(`devsig(): "${name}" must be an integer from ${min} to ${max}`)
  return n as number
}

const ASYMMETRIC = SUPPORTED_ID_TOKEN_ALGS.filter((a) => !a.startsWith('HS'))

/** Checks `options` and fills in defaults. */
export function resolveDevsigOptions(options: DevsigOptions): ResolvedDevsigOptions {
  if (typeof options !== 'object' || options === null)
    throw configError('devsig options must be an object')
  if (typeof options.issuer !== 'string' || options.issuer === '')
    throw configError('devsig(): "issuer" must be a non-empty string')
  if (options.replay !== undefined && typeof options.replay?.use !== 'function')
    throw configError('devsig(): "replay" must have a use(id, ttlSeconds) method')
  if (options.url !== undefined && typeof options.url !== 'function')
    throw configError('devsig(): "url" must be a function of the request')
  const logger = options.logger ?? consoleLogger('warn')
  if (typeof logger?.warn !== 'function')
    throw configError('devsig(): "logger" must have a warn(message) method')
  const clock = options.clock ?? systemClock
  const { audience: _a, clients: _c, replay: _r, ...rest } = options
  return {
    issuer: options.issuer,
    keys: keySource({ ...rest, audience: 'devsig' } as BearerOptions, options.issuer),
    audience: stringList(options.audience, 'audience'),
    clients: options.clients === undefined ? undefined : stringList(options.clients, 'clients'),
    replay: options.replay ?? createMemoryReplayCache({ clock }),
    attestationAlgorithms: subset(
      options.attestationAlgorithms,
      ASYMMETRIC,
      'attestationAlgorithms',
    ),
    signatureAlgorithms: subset(
      options.signatureAlgorithms,
      DPOP_ALGORITHMS,
      'signatureAlgorithms',
    ),
    clockToleranceSeconds: integer(
      options.clockToleranceSeconds,
      5,
      0,
      60,
      'clockToleranceSeconds',
    ),
    maxSignatureAgeSeconds: integer(
      options.maxSignatureAgeSeconds,
      DEVSIG_MAX_LIFETIME_SECONDS,
      1,
      DEVSIG_MAX_LIFETIME_SECONDS,
      'maxSignatureAgeSeconds',
    ),
    maxBodyBytes: integer(options.maxBodyBytes, 1 << 20, 0, 1 << 30, 'maxBodyBytes'),
    url: options.url ?? ((request) => request.url),
    realm: checkQuotable(options.realm ?? 'authkestra', 'realm'),
    logger,
    clock,
  }
}
