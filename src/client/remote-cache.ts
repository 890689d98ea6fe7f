/**
 * One remote document (a discovery document, a JWKS) kept for its freshness lifetime, fetched
 * so that a failing provider is never hammered:
 *
 * - **single flight**: one fetch in flight at a time; every caller that needs it waits for it;
 * - **negative caching with backoff**: after a failed fetch, no other fetch until a backoff has
 *   passed (1 s, doubling with each failure in a row, at most 60 s by default); callers in that
 *   window get the same failure at once, without a request;
 * - **forced refresh with a cooldown**: {@link RemoteCache.refresh} (a token names a key the
 *   cached set lacks) fetches again only if the last attempt, successful or not, is older than
 *   the cooldown.
 *
 * A value that is still fresh keeps being served while fetches fail. A stale one is not: once
 * its lifetime is over, it is refetched or the failure is reported (fail closed).
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'

/** What one fetch yields: the value and how long it stays fresh. */
export interface Fetched<T> {
  readonly value: T
  readonly ttlMs: number
}

/** Backoff after failures, in milliseconds. */
export interface BackoffPolicy {
  /** Wait after the first failure (default 1 000); doubles with each failure in a row. */
  readonly initialBackoffMs?: number
  /** Longest wait (default 60 000). */
  readonly maxBackoffMs?: number
}

interface Failure {
  readonly error: unknown
  readonly retryAt: number
  readonly count: number
}

/**
 * A cached remote value with single-flight fetches, backoff after failures and a refresh
 * cooldown.
 *
 * @example
 * ```ts
 * const cache = new RemoteCache(async () => ({ value: await load(), ttlMs: 600_000 }), { clock: systemClock })
 * const value = await cache.get()
 * ```
 */
export class RemoteCache<T> {
  #value: T | undefined
  #expiresAt = Number.NEGATIVE_INFINITY
  #lastAttempt = Number.NEGATIVE_INFINITY
  #pending: Promise<T> | undefined
  #failure: Failure | undefined
  readonly #load: () => Promise<Fetched<T>>
  readonly #clock: Clock
  readonly #initial: number
  readonly #max: number

  constructor(load: () => Promise<Fetched<T>>, options: BackoffPolicy & { readonly clock: Clock }) {
    this.#load = load
    this.#clock = options.clock
    this.#initial = options.initialBackoffMs ?? 1_000
    this.#max = options.maxBackoffMs ?? 60_000
  }

  /** The value while fresh; else the one fetch in flight, a new one, or the failure being backed off. */
  get(): Promise<T> {
    const now = this.#clock.now()
    if (this.#value !== undefined && now < this.#expiresAt) return Promise.resolve(this.#value)
    return this.#fetchUnlessBackingOff(now)
  }

  /**
   * A value fetched after `seen` was: a new fetch unless one ran (or failed) less than
   * `cooldownMs` ago, in which case the current value (possibly `seen` itself).
   */
  refresh(seen: T, cooldownMs: number): Promise<T> {
    const now = this.#clock.now()
    if (this.#pending) return this.#pending
    if (this.#value !== undefined && this.#value !== seen) return this.get()
    if (now - this.#lastAttempt < cooldownMs) return this.get()
    return this.#fetchUnlessBackingOff(now)
  }

  /**
   * The error of the last fetch when it failed (and none has succeeded since), else undefined: a
   * caller whose forced refresh was skipped for the cooldown can tell "not there" from "could not
   * look".
   */
  lastFailure(): unknown {
    return this.#failure?.error
  }

  #fetchUnlessBackingOff(now: number): Promise<T> {
    if (this.#pending) return this.#pending
    if (this.#failure && now < this.#failure.retryAt) return Promise.reject(this.#failure.error)
    this.#lastAttempt = now
    const attempt = this.#load().then(
      ({ value, ttlMs }) => {
        this.#value = value
        this.#expiresAt = this.#clock.now() + ttlMs
        this.#failure = undefined
        return value
      },
      (error: unknown) => {
        const count = (this.#failure?.count ?? 0) + 1
        const wait = Math.min(this.#max, this.#initial * 2 ** Math.min(count - 1, 30))
        this.#failure = { error, count, retryAt: this.#clock.now() + wait }
        throw error
      },
    )
    this.#pending = attempt
    attempt
      .finally(() => {
        if (this.#pending === attempt) this.#pending = undefined
      })
      .catch(() => {})
    return attempt
  }
}
