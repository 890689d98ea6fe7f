/**
 * The Redis {@link RateLimitStore}: one string per limiter key at `${prefix}rate-limit:${key}`
 * holding its GCRA "theoretical arrival time" (ms on the caller's timeline, 17 significant
 * digits: exact), expiring natively at that time plus a margin. A hit is one script ({@link RATE_LIMIT_HIT},
 * the arithmetic of `gcraStep`); a peek one `GET`; a reset one `DEL`. Every call touches one key,
 * so the limiter alone would be Redis Cluster safe. "Now" always comes from the caller, never
 * from the server's `TIME`.
 *
 * Keys are opaque strings (callers hash what a user typed, so they stay short: ≤ 200 characters
 * is the expectation); they are stored as given.
 *
 * @module
 */
import type { Redis } from 'ioredis'
import { decisionAfter, gcraStep, type RateLimitStore } from '../../core/rate-limit.ts'
import { type Guard, UnreadableRecord } from './guard.ts'
import { RATE_LIMIT_HIT, runScript } from './scripts.ts'

/** What the rate-limit store is built from. */
export interface RedisRateLimitDeps {
  readonly redis: Redis
  /** The key prefix, e.g. `authkestra:` (the client applies its own `keyPrefix`). */
  readonly prefix: string
  readonly guard: Guard
  /** Added to native TTLs, so Redis never drops a TAT the caller's clock still calls live. */
  readonly marginMs: number
}

/** A TAT as the script or `GET` returned it. */
function tatOf(value: unknown): number {
  const tat = typeof value === 'string' ? Number(value) : Number.NaN
  if (!Number.isFinite(tat)) throw new UnreadableRecord('a rate-limit value is not a number')
  return tat
}

/** Builds the rate-limit store. */
export function createRedisRateLimitStore(deps: RedisRateLimitDeps): RateLimitStore {
  const { redis, guard } = deps
  const key = (k: string) => `${deps.prefix}rate-limit:${k}`
  return {
    hit(k, rule, nowMs) {
      return guard('rateLimits.hit', async () => {
        const windowMs = rule.windowSeconds * 1000
        const reply = await runScript(
          redis,
          RATE_LIMIT_HIT,
          [key(k)],
          [String(nowMs), String(windowMs / rule.limit), String(windowMs), String(deps.marginMs)],
        )
        const [allowed, tat] = Array.isArray(reply) ? reply : []
        if (allowed !== 0 && allowed !== 1) throw new UnreadableRecord('an unreadable rate limit')
        return allowed === 1
          ? decisionAfter(tatOf(tat), rule, nowMs)
          : gcraStep(tatOf(tat), rule, nowMs).decision
      })
    },
    peek(k, rule, nowMs) {
      return guard('rateLimits.peek', async () => {
        const value = await redis.get(key(k))
        return gcraStep(value === null ? undefined : tatOf(value), rule, nowMs).decision
      })
    },
    reset(k) {
      return guard('rateLimits.reset', async () => {
        await redis.del(key(k))
      })
    },
  }
}
