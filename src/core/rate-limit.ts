/**
 * The rate limiter primitive: a Generic Cell Rate Algorithm (GCRA, the token bucket written as one
 * timestamp per key). A rule `{ limit, windowSeconds }` allows `limit` hits at once and then one
 * more every `windowSeconds / limit`, so a limited key is never locked out for longer than that
 * emission interval once its sender pauses. Each key holds one number, its "theoretical arrival
 * time" (TAT), so every store can spend a hit atomically in one statement or one script:
 *
 * ```text
 * interval = windowMs / limit
 * tat      = max(stored TAT or now, now)
 * next     = tat + interval
 * allowed  = next - windowMs <= now        (then store next, expiring at next)
 * retry    = next - windowMs - now         (when refused; nothing changes)
 * ```
 *
 * Stores take "now" from the caller (its injected clock), so every instance sharing a store
 * counts on one timeline and tests can move time.
 *
 * @module
 */
import { AuthkestraError } from './errors.ts'

/** `limit` hits per `windowSeconds`, refilled continuously. */
export interface RateLimitRule {
  /** Hits allowed in a burst (a positive integer). */
  readonly limit: number
  /** Seconds for the whole allowance to refill (positive). */
  readonly windowSeconds: number
}

/** What a hit (or a peek) found. */
export interface RateLimitDecision {
  readonly allowed: boolean
  /** Hits still allowed right now after this one (0 when refused). */
  readonly remaining: number
  /** Whole seconds until a hit would be allowed again (0 when allowed); for `Retry-After`. */
  readonly retryAfterSeconds: number
}

/**
 * Where limiter state lives. The memory, SQLite, PostgreSQL and Redis stores implement it, so
 * every instance sharing a store shares its limits. Keys are opaque (callers hash what a user
 * typed); every method is atomic under concurrency.
 */
export interface RateLimitStore {
  /** Spends one hit of `key`'s allowance under `rule` when there is room; nothing when not. */
  hit(key: string, rule: RateLimitRule, nowMs: number): Promise<RateLimitDecision>
  /** Whether a hit would be allowed now, changing nothing. */
  peek(key: string, rule: RateLimitRule, nowMs: number): Promise<RateLimitDecision>
  /** Forgets `key` (its full allowance is back). */
  reset(key: string): Promise<void>
}

/** The outcome of one GCRA step: the decision, and the TAT to store when allowed. */
export interface GcraStep {
  readonly decision: RateLimitDecision
  /** The new TAT (ms) to store when allowed; the key may expire at this time. */
  readonly tat: number
}

/**
 * Rejects a rule that is not a positive integer limit over a positive finite window.
 *
 * @example
 * ```ts
 * checkRateLimitRule({ limit: 10, windowSeconds: 60 }, 'limits.password.perIp')
 * ```
 */
export function checkRateLimitRule(rule: RateLimitRule, name: string): RateLimitRule {
  if (
    !Number.isSafeInteger(rule.limit) ||
    rule.limit < 1 ||
    !Number.isFinite(rule.windowSeconds) ||
    rule.windowSeconds <= 0 ||
    rule.windowSeconds > 31_536_000
  )
    throw new AuthkestraError(
      'config_invalid',
      `${name}: "limit" must be a positive integer and "windowSeconds" a positive number of at most 31536000`,
    )
  return rule
}

/**
 * A limit's setting resolved: its rule (`given`, else `fallback`, checked), or undefined for
 * `'off-unsafe'`. Anything else stops the start with `config_invalid` naming `name`.
 *
 * @example
 * ```ts
 * const rule = resolveRateLimitSetting(options.loginStartsPerIp, { limit: 60, windowSeconds: 60 }, 'rateLimits.loginStartsPerIp')
 * ```
 */
export function resolveRateLimitSetting(
  given: RateLimitRule | 'off-unsafe' | undefined,
  fallback: RateLimitRule,
  name: string,
): RateLimitRule | undefined {
  if (given === 'off-unsafe') return undefined
  if (given !== undefined && (typeof given !== 'object' || given === null))
    throw new AuthkestraError(
      'config_invalid',
      `"${name}" must be { limit, windowSeconds } or 'off-unsafe'`,
    )
  return checkRateLimitRule(given ?? fallback, `"${name}"`)
}

/**
 * One GCRA step: what a hit at `nowMs` finds against the stored TAT. Pure; the stores' SQL and
 * Lua compute the same.
 *
 * @example
 * ```ts
 * const step = gcraStep(stored, { limit: 5, windowSeconds: 60 }, Date.now())
 * if (step.decision.allowed) save(step.tat)
 * ```
 */
export function gcraStep(
  storedTat: number | undefined,
  rule: RateLimitRule,
  nowMs: number,
): GcraStep {
  const windowMs = rule.windowSeconds * 1000
  const interval = windowMs / rule.limit
  const tat = Math.max(storedTat ?? nowMs, nowMs)
  const next = tat + interval
  const allowAt = next - windowMs
  if (allowAt > nowMs) {
    const retryAfterSeconds = Math.max(1, Math.ceil((allowAt - nowMs) / 1000))
    return { decision: { allowed: false, remaining: 0, retryAfterSeconds }, tat }
  }
  return { decision: decisionAfter(next, rule, nowMs), tat: next }
}

/**
 * The decision of an allowed hit that left `tat` stored.
 *
 * @example
 * ```ts
 * const decision = decisionAfter(tatFromDatabase, rule, now)
 * ```
 */
export function decisionAfter(tat: number, rule: RateLimitRule, nowMs: number): RateLimitDecision {
  const windowMs = rule.windowSeconds * 1000
  const interval = windowMs / rule.limit
  // A tiny epsilon: float TATs of many hits must not lose a whole hit to rounding.
  const remaining = Math.max(0, Math.floor((windowMs - (tat - nowMs)) / interval + 1e-9))
  return { allowed: true, remaining, retryAfterSeconds: 0 }
}

/** Options of {@link createMemoryRateLimitStore}. */
export interface MemoryRateLimitOptions {
  /** Keys kept at most; past it the least recently hit are forgotten. Default 100 000. */
  readonly maxKeys?: number
}

/**
 * A per-process {@link RateLimitStore} (one `Map` of TATs, least recently hit forgotten first when
 * full). For one process; share a database store between instances.
 *
 * @example
 * ```ts
 * const limits = createMemoryRateLimitStore()
 * const decision = await limits.hit('login:203.0.113.7', { limit: 10, windowSeconds: 60 }, Date.now())
 * if (!decision.allowed) return new Response(null, { status: 429, headers: { 'retry-after': String(decision.retryAfterSeconds) } })
 * ```
 */
export function createMemoryRateLimitStore(options: MemoryRateLimitOptions = {}): RateLimitStore {
  const maxKeys = options.maxKeys ?? 100_000
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
    throw new AuthkestraError('config_invalid', 'rate limits: "maxKeys" must be a positive integer')
  const tats = new Map<string, number>()
  const current = (key: string, nowMs: number): number | undefined => {
    const tat = tats.get(key)
    if (tat !== undefined && tat <= nowMs) {
      tats.delete(key)
      return undefined
    }
    return tat
  }
  return {
    async hit(key, rule, nowMs) {
      const step = gcraStep(current(key, nowMs), rule, nowMs)
      if (step.decision.allowed) {
        tats.delete(key)
        if (tats.size >= maxKeys) tats.delete(tats.keys().next().value as string)
        tats.set(key, step.tat)
      }
      return step.decision
    },
    async peek(key, rule, nowMs) {
      return gcraStep(current(key, nowMs), rule, nowMs).decision
    },
    async reset(key) {
      tats.delete(key)
    },
  }
}
