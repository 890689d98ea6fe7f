/**
 * The options of the `bearer` guard: where its keys come from (the issuer's discovery document,
 * a JWKS URL, or a shared secret), what a token must say (`iss`, `aud`, `typ`, scopes), and how
 * much clock skew to allow. Checked once, at creation; mistakes throw `config_invalid` (or
 * `insecure_url` for plain-HTTP URLs off loopback) naming the option.
 *
 * @module
 */

import type { DiscoveryKind } from '../../client/discovery.ts'
import { DiscoveryCache } from '../../client/discovery.ts'
import { type HttpOptions, resolveHttpOptions } from '../../client/http.ts'
import { SUPPORTED_ID_TOKEN_ALGS } from '../../client/id-token.ts'
import { isScopeToken } from '../../client/resolve-provider.ts'
import { checkEndpointUrl, type HttpPolicy } from '../../client/urls.ts'
import { type Clock, systemClock } from '../../core/clock.ts'
import { toBytes } from '../../core/crypto/index.ts'
import { AuthkestraError } from '../../core/errors.ts'
import { MIN_SECRET_BYTES, type Secret } from '../../core/keyring.ts'
import { consoleLogger } from '../../core/logger.ts'
import { type ResolvedStepUp, resolveStepUp, type StepUpRequirement } from '../auth-context.ts'
import {
  type BearerDpopOptions,
  type ResolvedBearerDpop,
  resolveBearerDpop,
} from './bearer-dpop.ts'
import { applyBearerProfile } from './bearer-fapi2.ts'
import { type KeySource, remoteKeys } from './bearer-keys.ts'
import { checkQuotable } from './challenge.ts'
import {
  type ResourceMetadataEndpoint,
  type ResourceMetadataOptions,
  resourceMetadataEndpoint,
} from './resource-metadata.ts'

/** An asymmetric JWS algorithm the JWKS modes accept (never `none`, never HMAC). */
export type AsymmetricAlgorithm = (typeof SUPPORTED_ID_TOKEN_ALGS)[number]

/** An HMAC JWS algorithm the shared-secret mode accepts. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512'

const HMAC_ALGS: readonly HmacAlgorithm[] = ['HS256', 'HS384', 'HS512']

/** Where refusals and outages are reported (`console` fits). Never receives a token. */
export interface BearerLogger {
  /** With it (e.g. `consoleLogger('debug')`), a line per request: no token, or one accepted. */
  debug?(message: string): void
  warn(message: string): void
}

/** What every mode of `bearer` takes. */
export interface BearerBaseOptions {
  /** The exact `iss` tokens must carry. In discovery mode, also where discovery is read. */
  readonly issuer: string
  /**
   * This API's identifier(s): the token's `aud` must contain one of them (RFC 9068 §4).
   * Required, unless `resourceMetadata` is given: then it defaults to its `resource`.
   */
  readonly audience?: string | readonly string[]
  /**
   * Publish OAuth 2.0 Protected Resource Metadata (RFC 9728): the guard gets a `metadata`
   * endpoint to mount, and its challenges carry `resource_metadata` (§5.1).
   */
  readonly resourceMetadata?: ResourceMetadataOptions
  /** Scopes the token must all carry (`scope`, or `scp`), else 403 `insufficient_scope`. */
  readonly scopes?: readonly string[]
  /**
   * `'at+jwt'` (default): the header `typ` must be `at+jwt` or `application/at+jwt` (RFC 9068
   * §4), so an ID token or another JWT of the same issuer is not taken for an access token.
   * `'any-unsafe'` skips that check, for issuers that do not type their access tokens.
   */
  readonly typ?: 'at+jwt' | 'any-unsafe'
  /** The `realm` of the challenges (default `"authkestra"`). */
  readonly realm?: string
  /**
   * A step-up (RFC 9470): the token's `acr` must be one of these, its `amr` must hold all of
   * those, its `auth_time` be at most `maxAge` seconds old; else 401 with an
   * `insufficient_user_authentication` challenge naming `acr_values` and `max_age`.
   */
  readonly stepUp?: StepUpRequirement
  /** Allowed clock skew for `exp`, `nbf` and `iat`, 0 to 300 seconds (default 30). */
  readonly clockToleranceSeconds?: number
  readonly clock?: Clock
  /**
   * Accept DPoP-bound tokens (RFC 9449 §7) with a proof of their key, or, with `required`, only
   * those. Without it, a DPoP-bound token is refused (it is never taken as a bearer token).
   */
  readonly dpop?: BearerDpopOptions
  /**
   * `'fapi2'`: the FAPI 2.0 Security Profile for resource servers (§5.3.4): only DPoP-bound
   * tokens (`dpop.required`), signatures in PS256, ES256 or EdDSA, 10 s of proof clock skew; a
   * config that cannot meet it is `config_invalid`, naming each problem. See docs/fapi2.md.
   */
  readonly securityProfile?: 'fapi2'
  /**
   * Told why a token was refused or keys could not be fetched, without the token (default:
   * `consoleLogger('warn')` from `authkestra/core`; `consoleLogger('silent')` for none).
   */
  readonly logger?: BearerLogger
}

/** Keys from the JWKS named by the issuer's discovery document (cached, see `DiscoveryCache`). */
export interface BearerDiscoveryOptions extends BearerBaseOptions, HttpOptions {
  /** Which well-known document to read (default `'openid-configuration'`). */
  readonly discovery?: DiscoveryKind
  /** Default: the asymmetric algorithms of `SUPPORTED_ID_TOKEN_ALGS`. */
  readonly algorithms?: readonly AsymmetricAlgorithm[]
  /** Accept plain-HTTP URLs off loopback. Only for a trusted internal network. */
  readonly allowInsecureHttp?: boolean
  readonly jwksUri?: never
  readonly secret?: never
}

/** Keys from a JWKS URL given directly (no discovery). */
export interface BearerJwksOptions extends BearerBaseOptions, HttpOptions {
  /** The issuer's JWKS. */
  readonly jwksUri: string
  /** Default: the asymmetric algorithms of `SUPPORTED_ID_TOKEN_ALGS`. */
  readonly algorithms?: readonly AsymmetricAlgorithm[]
  /** Accept a plain-HTTP `jwksUri` off loopback. Only for a trusted internal network. */
  readonly allowInsecureHttp?: boolean
  readonly discovery?: never
  readonly secret?: never
}

/** HMAC tokens signed with a secret shared with their issuer. */
export interface BearerSecretOptions extends BearerBaseOptions {
  /**
   * The shared secret (≥ 32 bytes), used as the HMAC key as is. A list rotates: every secret
   * verifies, so the issuer can switch to the first while tokens signed with the others live.
   */
  readonly secret: Secret | readonly Secret[]
  /** Default `['HS256']`. */
  readonly algorithms?: readonly HmacAlgorithm[]
  readonly jwksUri?: never
  readonly discovery?: never
}

/** `audience`, or `resourceMetadata` whose `resource` is then the audience. */
export type BearerAudience =
  | { readonly audience: string | readonly string[] }
  | { readonly resourceMetadata: ResourceMetadataOptions }

/** Options of `bearer`: one of the three key sources, plus what tokens must say. */
export type BearerOptions = (BearerDiscoveryOptions | BearerJwksOptions | BearerSecretOptions) &
  BearerAudience

/** {@link BearerOptions} checked, with defaults filled in. */
export interface ResolvedBearerOptions {
  readonly issuer: string
  readonly audience: readonly string[]
  readonly scopes: readonly string[]
  readonly algorithms: readonly string[]
  readonly typ: 'at+jwt' | undefined
  readonly realm: string
  readonly stepUp: ResolvedStepUp | undefined
  readonly leewaySeconds: number
  readonly clock: Clock
  readonly logger: BearerLogger
  readonly keys: KeySource
  readonly dpop: ResolvedBearerDpop | undefined
  /** RFC 9728: the metadata endpoint, when `resourceMetadata` was given. */
  readonly metadata: ResourceMetadataEndpoint | undefined
}

function configError(message: string): AuthkestraError {
  return new AuthkestraError('config_invalid', message)
}

function checkAudience(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((a): a is string => typeof a === 'string' && a !== '')
  ) {
    throw configError('"audience" must be a non-empty string or a non-empty array of them')
  }
  return [...list]
}

function checkAlgorithms(
  value: unknown,
  allowed: readonly string[],
  fallback: readonly string[],
): readonly string[] {
  if (value === undefined) return fallback
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((alg) => typeof alg === 'string' && allowed.includes(alg))
  ) {
    throw configError(`"algorithms" must be a non-empty list of ${allowed.join(', ')}`)
  }
  return [...(value as string[])]
}

function checkSecrets(value: unknown): readonly Uint8Array[] {
  const list: readonly unknown[] = Array.isArray(value) ? value : [value]
  if (list.length === 0) throw configError('"secret" must not be empty')
  return list.map((s, i) => {
    if (typeof s !== 'string' && !(s instanceof Uint8Array)) {
      throw configError(`"secret[${i}]" must be a string or Uint8Array`)
    }
    const bytes = toBytes(s)
    if (bytes.length < MIN_SECRET_BYTES) {
      throw configError(`"secret[${i}]" must be at least ${MIN_SECRET_BYTES} bytes`)
    }
    return bytes.slice()
  })
}

/** Where the keys of `options` come from (the `devsig` guard's attestation keys too). */
export function keySource(options: BearerOptions, issuer: string): KeySource {
  if (options.secret !== undefined) {
    if (options.jwksUri !== undefined) throw configError('give "secret" or "jwksUri", not both')
    return { kind: 'secret', secrets: checkSecrets(options.secret) }
  }
  const remote = options as BearerDiscoveryOptions | BearerJwksOptions
  const policy: HttpPolicy = remote.allowInsecureHttp === true ? 'any' : 'loopback'
  const http = resolveHttpOptions(remote)
  const clock = options.clock ?? systemClock
  if (remote.jwksUri !== undefined) {
    const uri = checkEndpointUrl(remote.jwksUri, 'jwksUri', policy)
    return { kind: 'remote', getKey: remoteKeys(async () => uri, http, clock) }
  }
  const url = checkEndpointUrl(issuer, 'issuer', policy)
  if (url.search !== '') throw configError('"issuer" must not contain a query (RFC 8414 §2)')
  const kind = remote.discovery ?? 'openid-configuration'
  if (kind !== 'openid-configuration' && kind !== 'oauth-authorization-server') {
    throw configError('"discovery" must be "openid-configuration" or "oauth-authorization-server"')
  }
  const discovery = new DiscoveryCache(issuer, kind, {
    http,
    clock,
    allowInsecureHttp: remote.allowInsecureHttp === true,
  })
  return {
    kind: 'remote',
    getKey: remoteKeys(
      async () => {
        const { jwks_uri } = await discovery.get()
        if (jwks_uri === undefined) {
          throw new AuthkestraError('discovery_invalid', 'discovery document has no "jwks_uri"')
        }
        return new URL(jwks_uri)
      },
      http,
      clock,
    ),
  }
}

/** Checks `options` and fills in defaults. */
export function resolveBearerOptions(given: BearerOptions): ResolvedBearerOptions {
  if (typeof given !== 'object' || given === null) {
    throw configError('bearer options must be an object')
  }
  const options = applyBearerProfile(given)
  const { issuer } = options
  if (typeof issuer !== 'string' || issuer === '') {
    throw configError('"issuer" must be a non-empty string')
  }
  const dpop = resolveBearerDpop(options.dpop, options.clock ?? systemClock)
  const metadata =
    options.resourceMetadata === undefined
      ? undefined
      : resourceMetadataEndpoint(options.resourceMetadata, dpop)
  if (metadata) checkQuotable(metadata.url, 'resourceMetadata.resource')
  const audience = checkAudience(options.audience ?? options.resourceMetadata?.resource)
  const scopes = options.scopes ?? []
  if (!Array.isArray(scopes) || !scopes.every(isScopeToken)) {
    throw configError('"scopes" must be a list of scope tokens (RFC 6749 §3.3)')
  }
  const typ = options.typ ?? 'at+jwt'
  if (typ !== 'at+jwt' && typ !== 'any-unsafe') {
    throw configError('"typ" must be "at+jwt" or "any-unsafe"')
  }
  const leewaySeconds = options.clockToleranceSeconds ?? 30
  if (typeof leewaySeconds !== 'number' || !(leewaySeconds >= 0 && leewaySeconds <= 300)) {
    throw configError('"clockToleranceSeconds" must be between 0 and 300')
  }
  const secretMode = options.secret !== undefined
  const algorithms = secretMode
    ? checkAlgorithms(options.algorithms, HMAC_ALGS, ['HS256'])
    : checkAlgorithms(options.algorithms, SUPPORTED_ID_TOKEN_ALGS, SUPPORTED_ID_TOKEN_ALGS)
  const logger = options.logger ?? consoleLogger('warn')
  if (typeof logger?.warn !== 'function') {
    throw configError('"logger" must have a warn(message) method')
  }
  return {
    issuer,
    audience,
    scopes: [...scopes],
    algorithms,
    typ: typ === 'at+jwt' ? 'at+jwt' : undefined,
    realm: checkQuotable(options.realm ?? 'authkestra', 'realm'),
    stepUp: options.stepUp === undefined ? undefined : resolveStepUp(options.stepUp, configError),
    leewaySeconds,
    clock: options.clock ?? systemClock,
    logger,
    keys: keySource(options, issuer),
    dpop,
    metadata,
  }
}
