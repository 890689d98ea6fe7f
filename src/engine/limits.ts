/**
 * The engine's rate limit: login starts per client address (`loginStartsPerIp`, default 60 per
 * 60 s), so that a flood of `/login/:provider` cannot make the app hammer its providers or fill
 * browsers with flow cookies on someone's behalf. Counted on the session store's `rateLimits`
 * (shared by every instance over that store), else `rateLimits.store`, else per process. The
 * client address is the peer's, or behind `trustedProxies` the one they forwarded; unknown (a
 * fetch runtime that gave none), the limit is not applied.
 *
 * @module
 */
import { addressBucket, createClientIpResolver } from '../core/client-ip.ts'
import type { Clock } from '../core/clock.ts'
import type { Logger } from '../core/logger.ts'
import {
  createMemoryRateLimitStore,
  type RateLimitRule,
  type RateLimitStore,
  resolveRateLimitSetting,
} from '../core/rate-limit.ts'
import type { GuardRequest } from './guards/types.ts'

/** `createAuthkestra({ rateLimits })`. */
export interface EngineRateLimitOptions {
  /** Where limiter state lives (default: the session store's `rateLimits`, else per process). */
  readonly store?: RateLimitStore
  /** Login starts per client address (IPv6 per /64); default 60 per 60 s. */
  readonly loginStartsPerIp?: RateLimitRule | 'off-unsafe'
}

/** The engine's limiter, resolved. */
export interface EngineLimits {
  /** Spends one login start of the request's client; the seconds to wait when refused. */
  loginStart(
    request: GuardRequest & { readonly remoteAddress?: string | undefined },
  ): Promise<number | undefined>
}

const DEFAULT: RateLimitRule = { limit: 60, windowSeconds: 60 }

/**
 * Resolves the engine's limits.
 *
 * @example
 * ```ts
 * const limits = resolveEngineLimits(config.rateLimits, config.trustedProxies, sessionStore?.rateLimits, { clock, logger })
 * ```
 */
export function resolveEngineLimits(
  options: EngineRateLimitOptions | undefined,
  trustedProxies: readonly string[] | undefined,
  shared: RateLimitStore | undefined,
  deps: { readonly clock: Clock; readonly logger: Logger },
): EngineLimits {
  const rule = resolveRateLimitSetting(
    options?.loginStartsPerIp,
    DEFAULT,
    'rateLimits.loginStartsPerIp',
  )
  const resolve = createClientIpResolver(trustedProxies)
  const store = options?.store ?? shared ?? createMemoryRateLimitStore()
  return {
    async loginStart(request) {
      if (rule === undefined) return undefined
      const address = resolve(request.remoteAddress, request.headers.get('x-forwarded-for'))
      if (address === undefined) return undefined
      const bucket = addressBucket(address)
      const decision = await store.hit(`engine:loginStartsPerIp:${bucket}`, rule, deps.clock.now())
      if (decision.allowed) return undefined
      deps.logger.warn(
        `rate limit loginStartsPerIp reached for ${bucket}; retry after ${decision.retryAfterSeconds} s`,
      )
      return decision.retryAfterSeconds
    },
  }
}
