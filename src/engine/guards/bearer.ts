/**
 * The bearer guard: OAuth 2.0 access tokens (RFC 6750) that are JWTs (RFC 9068), sent in the
 * `Authorization` header, verified (synchronously on `node:crypto`, else with jose) against an
 * explicit algorithm allow-list, then
 * checked for `typ`, `iss`, `aud`, `exp`/`nbf`/`iat` (with leeway), `sub` and scopes.
 *
 * Answers: no token → 401 with a bare challenge (RFC 6750 §3.1); a token that fails any check →
 * 401 `invalid_token`; a token in the URL → 400 `invalid_request`; a valid token without the
 * required scopes → 403 `insufficient_scope`; keys that cannot be fetched → 503
 * `temporarily_unavailable` (an outage is not the token's fault). No answer echoes the token.
 *
 * With `dpop`, DPoP-bound tokens (RFC 9449 §7) are accepted as `Authorization: DPoP` with a proof
 * of their key; a bound token sent as a bearer token is always refused, with or without `dpop`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @module
 */

import { errors as joseErrors } from 'jose'
import type { JwtPayload } from '../../core/jwt-types.ts'
import { DpopRejected } from '../../dpop/verify.ts'
import { authContextOf, stepUpChallenge, unmet } from '../auth-context.ts'
import { boundKey, checkProofOfPossession } from './bearer-dpop.ts'
import { KeysUnavailable, RejectedToken, verifyWith } from './bearer-keys.ts'
import {
  type BearerOptions,
  type ResolvedBearerOptions,
  resolveBearerOptions,
} from './bearer-options.ts'
import { authorization, challenge, deny } from './challenge.ts'
import type { ResourceMetadataEndpoint } from './resource-metadata.ts'
import type { Guard, GuardResult } from './types.ts'

/** Who a valid access token speaks for. */
export interface BearerPrincipal {
  /** The token's `sub`: the user, or the client itself for client credentials. */
  readonly subject: string
  /** The token's `client_id` (RFC 9068 §2.2), when it has one. */
  readonly clientId?: string
  /** The token's scopes, from `scope` (space-separated) or else `scp` (array or string). */
  readonly scopes: readonly string[]
  /** Every claim of the verified token. */
  readonly claims: JwtPayload
  /** The thumbprint of the DPoP key the request proved (RFC 9449), for a DPoP-bound token. */
  readonly senderKey?: string
}

/**
 * The `bearer` guard, with its RFC 9728 metadata endpoint when `resourceMetadata` was given
 * (mount `metadata.handler` at `metadata.path`).
 */
export type BearerGuard = Guard<BearerPrincipal> & {
  readonly metadata: ResourceMetadataEndpoint | undefined
}

/** How the token came: `Authorization: Bearer` or `Authorization: DPoP`. */
type Scheme = 'bearer' | 'dpop'

/** Longest token accepted, in characters. */
const MAX_TOKEN_LENGTH = 8192
/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** A token that fails a check: why (for the logger), and whether it is because it expired. */
class Invalid extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message)
  }
}

function stringList(value: unknown, claim: string): readonly string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '')
  if (Array.isArray(value) && value.every((s) => typeof s === 'string')) return value
  throw new Invalid(`"${claim}" claim must be a string or an array of strings`)
}

/** Rule (RFC 9068 §2.2.3, RFC 8693 §4.2): `scope` is space-separated; `scp` is a common alias. */
function scopesOf(claims: JwtPayload): readonly string[] {
  if (claims.scope !== undefined) {
    if (typeof claims.scope !== 'string') throw new Invalid('"scope" claim must be a string')
    return claims.scope.split(' ').filter((s) => s !== '')
  }
  return claims.scp === undefined ? [] : stringList(claims.scp, 'scp')
}

/** Rule: `sub` a non-empty string, `client_id` a string if present, `iat` not in the future. */
function principalOf(claims: JwtPayload, config: ResolvedBearerOptions): BearerPrincipal {
  const { sub, client_id, iat } = claims
  if (typeof sub !== 'string' || sub === '') {
    throw new Invalid('"sub" claim must be a non-empty string')
  }
  if (client_id !== undefined && (typeof client_id !== 'string' || client_id === '')) {
    throw new Invalid('"client_id" claim must be a non-empty string')
  }
  if (typeof iat === 'number' && iat > config.clock.now() / 1000 + config.leewaySeconds) {
    throw new Invalid('"iat" claim is in the future')
  }
  return {
    subject: sub,
    ...(client_id === undefined ? {} : { clientId: client_id }),
    scopes: scopesOf(claims),
    claims,
  }
}

/** jose's verdict as an {@link Invalid}; other failures (keys unavailable, bugs) pass through. */
function classify(err: unknown): unknown {
  if (err instanceof RejectedToken) return new Invalid(err.message, err.expired)
  if (err instanceof joseErrors.JWTExpired) return new Invalid(err.message, true)
  if (err instanceof joseErrors.JOSEError) return new Invalid(err.message)
  return err
}

async function verify(token: string, config: ResolvedBearerOptions): Promise<BearerPrincipal> {
  let payload: JwtPayload
  try {
    ;({ payload } = await verifyWith(token, config.keys, {
      algorithms: config.algorithms,
      issuer: config.issuer,
      audience: config.audience,
      typ: config.typ,
      clockToleranceSeconds: config.leewaySeconds,
      now: config.clock.now(),
      requiredClaims: ['iss', 'sub', 'aud', 'exp'],
    }))
  } catch (err) {
    throw classify(err)
  }
  return principalOf(payload, config)
}

/**
 * A guard that requires a valid access token in `Authorization: Bearer` (RFC 6750 §2.1; a token
 * in the query string is refused, one in a form body is not read). The token must carry `iss`,
 * `sub`, `aud` and `exp`; `nbf` and `iat` are checked when present. Validation is local (no
 * revocation check): keep access tokens short-lived. Throws `config_invalid` at creation for a
 * missing issuer or audience, a short secret, or an algorithm outside the allow-list (`none`
 * never is in it).
 *
 * @example
 * ```ts
 * // tokens of an OpenID provider: keys found through its discovery document
 * const api = bearer({ issuer: 'https://id.example', audience: 'https://api.example', scopes: ['orders:read'] })
 * const result = await api(request)
 * if (!result.ok) return result.response // 401, 403, 400 or 503, ready to send
 * result.principal.subject // the token's `sub`
 *
 * // a known JWKS, or a secret shared with the issuer (HS256)
 * bearer({ jwksUri: 'https://id.example/jwks', issuer: 'https://id.example', audience: 'api' })
 * bearer({ secret: process.env.TOKEN_SECRET!, issuer: 'billing', audience: 'api' })
 * ```
 */
export function bearer(options: BearerOptions): BearerGuard {
  const config = resolveBearerOptions(options)
  const { dpop, metadata } = config
  const realm: [string, string] = ['realm', config.realm]
  const algs: [string, string] | undefined = dpop && ['algs', dpop.algorithms.join(' ')]
  // RFC 9728 §5.1: every challenge names where this API's metadata is.
  const pointer: [string, string][] = metadata ? [['resource_metadata', metadata.url]] : []
  /** A challenge in the scheme the token came in (RFC 6750 §3, RFC 9449 §7.1). */
  const challengeOf = (scheme: Scheme, params: [string, string][] = []) =>
    scheme === 'dpop' && algs
      ? challenge('DPoP', [realm, ...params, ...pointer, algs])
      : challenge('Bearer', [realm, ...params, ...pointer])
  const missing = !dpop
    ? challengeOf('bearer')
    : dpop.required
      ? challengeOf('dpop')
      : `${challengeOf('bearer')}, ${challengeOf('dpop')}`
  /** Where a bearer token is refused for being one, the answer asks for DPoP. */
  const refusalScheme = (scheme: Scheme): Scheme => (dpop?.required ? 'dpop' : scheme)

  const refuseToken = (scheme: Scheme, reason: string, expired: boolean): GuardResult<never> => {
    config.logger?.warn(`bearer: access token refused: ${reason}`)
    return deny(
      'presented',
      401,
      challengeOf(refusalScheme(scheme), [['error', 'invalid_token']]),
      'invalid_token',
      expired ? 'the access token has expired' : 'the access token is not valid',
    )
  }
  const unavailable = (message: string): GuardResult<never> => {
    config.logger?.warn(`bearer: ${message}`)
    return deny(
      'presented',
      503,
      undefined,
      'temporarily_unavailable',
      'the access token cannot be checked right now',
    )
  }
  const refuseProof = async (err: DpopRejected): Promise<GuardResult<never>> => {
    config.logger?.warn(`bearer: DPoP proof refused: ${err.message}`)
    const result = deny(
      'presented',
      401,
      challengeOf('dpop', [['error', err.error]]),
      err.error,
      err.message,
    )
    if (!result.ok && dpop?.nonces)
      result.response.headers.set('dpop-nonce', await dpop.nonces.current())
    return result
  }

  const guard: Guard<BearerPrincipal> = async (request) => {
    if (new URL(request.url).searchParams.has('access_token')) {
      return deny(
        'presented',
        400,
        challengeOf('bearer', [['error', 'invalid_request']]),
        'invalid_request',
        'send the access token in the Authorization header, never in the URL',
      )
    }
    const credentials = authorization(request)
    const scheme = credentials?.scheme
    if (scheme !== 'bearer' && !(scheme === 'dpop' && dpop)) {
      config.logger.debug?.('bearer: no access token')
      return deny('none', 401, missing, 'unauthorized', 'an access token is required')
    }
    const token = credentials?.rest ?? ''
    if (token.length > MAX_TOKEN_LENGTH) {
      return refuseToken(scheme, `the token is longer than ${MAX_TOKEN_LENGTH} characters`, false)
    }
    if (!B64TOKEN.test(token)) return refuseToken(scheme, 'malformed Authorization header', false)
    let principal: BearerPrincipal
    try {
      principal = await verify(token, config)
    } catch (err) {
      if (err instanceof Invalid) return refuseToken(scheme, err.message, err.expired)
      if (err instanceof KeysUnavailable) return unavailable(err.message)
      throw err
    }
    // Rule (RFC 9449 §7.1, §7.2): a bound token only with DPoP and a proof of its key; a bearer
    // token never as DPoP, nor at all where DPoP is required.
    const jkt = boundKey(principal.claims)
    if (scheme === 'bearer' && jkt !== undefined)
      return refuseToken(scheme, 'a DPoP-bound token was sent as a bearer token', false)
    if (scheme === 'bearer' && dpop?.required)
      return refuseToken(scheme, 'this API takes DPoP-bound tokens only', false)
    if (scheme === 'dpop' && dpop) {
      if (jkt === undefined)
        return refuseToken(scheme, 'a bearer token was sent with the DPoP scheme', false)
      try {
        await checkProofOfPossession(request, token, jkt, dpop)
      } catch (err) {
        if (err instanceof DpopRejected) return refuseProof(err)
        return unavailable(`DPoP replay cache failed: ${(err as Error)?.message ?? err}`)
      }
      principal = { ...principal, senderKey: jkt }
    }
    if (!config.scopes.every((s) => principal.scopes.includes(s))) {
      config.logger?.warn('bearer: access token lacks a required scope')
      return deny(
        'presented',
        403,
        challengeOf(scheme, [
          ['error', 'insufficient_scope'],
          ['scope', config.scopes.join(' ')],
        ]),
        'insufficient_scope',
        'the access token lacks a required scope',
      )
    }
    const why =
      config.stepUp &&
      unmet(authContextOf(principal.claims), config.stepUp, Math.floor(config.clock.now() / 1000))
    if (why && config.stepUp) {
      config.logger?.warn(`bearer: access token refused: ${why}`)
      return deny(
        'presented',
        401,
        `${stepUpChallenge(scheme === 'dpop' ? 'DPoP' : 'Bearer', config.realm, config.stepUp, why)}${
          metadata ? `, resource_metadata="${metadata.url}"` : ''
        }`,
        'insufficient_user_authentication',
        why,
      )
    }
    config.logger.debug?.(
      `bearer: access token accepted (scopes: ${principal.scopes.join(' ') || 'none'})`,
    )
    return { ok: true, principal }
  }
  return Object.assign(guard, { metadata })
}
