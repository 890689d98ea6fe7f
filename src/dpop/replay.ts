/**
 * The replay cache of DPoP proofs (RFC 9449 §11.1): a proof's `jti` is accepted once within the
 * time its `iat` is acceptable. Servers that share the work (several processes, several machines)
 * must share the cache: the database stores implement {@link ReplayCache} over their tables.
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.ts'

/** Remembers ids for a while and says whether each was seen before. Must be atomic. */
export interface ReplayCache {
  /**
   * Records `id` for `ttlSeconds`: true the first time, false while it is remembered. Exactly one
   * of concurrent calls with the same id gets true.
   */
  use(id: string, ttlSeconds: number): Promise<boolean>
}

/**
 * A replay cache in this process's memory, bounded: once `max` ids are held, the oldest are
 * dropped (a flood then shortens how long ids are remembered rather than exhausting memory).
 * Only for one process: several processes need a shared store's cache.
 *
 * @example
 * ```ts
 * const replay = createMemoryReplayCache()
 * await replay.use('jti-1', 60) // true
 * await replay.use('jti-1', 60) // false
 * ```
 */
export function createMemoryReplayCache(
  options: { clock?: Clock; max?: number } = {},
): ReplayCache & { size(): number } {
  const clock = options.clock ?? systemClock
  const max = options.max ?? 100_000
  const until = new Map<string, number>()
  return {
    async use(id, ttlSeconds) {
      const now = clock.now()
      const seen = until.get(id)
      if (seen !== undefined && seen > now) return false
      until.delete(id)
      if (until.size >= max) {
        for (const [old, expires] of until) {
          if (until.size < max && expires > now) break
          until.delete(old)
        }
      }
      until.set(id, now + ttlSeconds * 1000)
      return true
    },
    size: () => until.size,
  }
}
