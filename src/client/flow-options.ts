/**
 * The options and result types of `OAuth2Flow`, and the check of its timing options.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { DpopKey } from '../dpop/key.ts'
import { FLOW_STATE_MAX_TTL_MS } from './flow-state.ts'
import { type HttpOptions, type ResolvedHttpOptions, resolveHttpOptions } from './http.ts'
import type { Identity } from './identity.ts'
import type { JwksTiming } from './jwks.ts'
import type { BackoffPolicy } from './remote-cache.ts'
import type { TokenSet } from './tokens.ts'

/** Options of a flow that are not about the provider. */
export interface OAuth2FlowOptions extends HttpOptions {
  readonly clock?: Clock
  /** Leeway for `exp`/`iat`/`nbf`/`auth_time`, in seconds (default 30, at most 300). */
  readonly leewaySeconds?: number
  /** Life of a flow state, at most 10 minutes (the default). */
  readonly flowTtlMs?: number
  readonly jwks?: JwksTiming
  /**
   * Wait after a failed fetch of discovery or the JWKS before the next one (1 s by default,
   * doubling per failure in a row up to 60 s); callers in between get the failure at once.
   */
  readonly backoff?: BackoffPolicy
}

/** The end of a login. */
export interface LoginResult {
  readonly identity: Identity
  readonly tokens: TokenSet
}

/** Options of {@link OAuth2Flow.refresh}. */
export interface RefreshOptions {
  /** Ask for fewer scopes than were granted (RFC 6749 §6). */
  readonly scopes?: readonly string[]
  /** The subject of the login; with a string refresh token, checks a refreshed ID token's `sub`. */
  readonly expectedSubject?: string
  /** The DPoP key of the session, with a string refresh token (a `TokenSet` carries its own). */
  readonly dpopKey?: DpopKey
  /** RFC 8707: the API the new access token is for (one of those the login authorized). */
  readonly resource?: string
}

function checkTiming(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw new AuthkestraError('config_invalid', `"${name}" must be a non-negative integer`)
  }
}

/** The options with defaults applied, checked (`config_invalid` names the option). */
export function resolveFlowOptions(options: OAuth2FlowOptions): {
  http: ResolvedHttpOptions
  clock: Clock
  leewaySeconds: number
  flowTtlMs: number
  jwks: JwksTiming
  backoff: BackoffPolicy
} {
  const flowTtlMs = options.flowTtlMs ?? FLOW_STATE_MAX_TTL_MS
  const leewaySeconds = options.leewaySeconds ?? 30
  if (!(Number.isInteger(flowTtlMs) && flowTtlMs > 0 && flowTtlMs <= FLOW_STATE_MAX_TTL_MS))
    throw new AuthkestraError('config_invalid', '"flowTtlMs" must be an integer from 1 to 600000')
  if (!(leewaySeconds >= 0 && leewaySeconds <= 300))
    throw new AuthkestraError('config_invalid', '"leewaySeconds" must be between 0 and 300')
  const jwks = options.jwks ?? {}
  checkTiming(jwks.cacheMaxAgeMs, 'jwks.cacheMaxAgeMs')
  checkTiming(jwks.cooldownMs, 'jwks.cooldownMs')
  const backoff = options.backoff ?? {}
  checkTiming(backoff.initialBackoffMs, 'backoff.initialBackoffMs')
  checkTiming(backoff.maxBackoffMs, 'backoff.maxBackoffMs')
  return {
    http: resolveHttpOptions(options),
    clock: options.clock ?? systemClock,
    leewaySeconds,
    flowTtlMs,
    jwks,
    backoff,
  }
}
