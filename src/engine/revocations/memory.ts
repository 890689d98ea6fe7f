/**
 * The in-memory {@link RevocationStore}, for one process (each instance would remember only its
 * own logouts, so several instances need a shared database store). Entries are swept once every
 * token they could match has expired.
 *
 * @module
 */
import { type Clock, systemClock } from '../../core/clock.ts'
import type { RevocationStore } from './types.ts'

/**
 * An in-memory revocation store.
 *
 * @example
 * ```ts
 * const auth = createAuthkestra({ providers, secret, jwt: { revocations: createMemoryRevocationStore() } })
 * ```
 */
export function createMemoryRevocationStore(
  options: { clock?: Clock; sweepIntervalMs?: number } = {},
): RevocationStore & { size(): number; close(): void } {
  const clock = options.clock ?? systemClock
  const entries = new Map<string, { revokedAt: number; until: number }>()
  const timer = setInterval(() => {
    const now = clock.now()
    for (const [key, entry] of entries) if (entry.until <= now) entries.delete(key)
  }, options.sweepIntervalMs ?? 60_000)
  ;(timer as { unref?: () => void }).unref?.()

  return {
    async revoke(key, revokedAt, until) {
      const old = entries.get(key)
      const live = old !== undefined && old.until > clock.now()
      entries.set(key, {
        revokedAt: live ? Math.max(old.revokedAt, revokedAt) : revokedAt,
        until: live ? Math.max(old.until, until) : until,
      })
    },
    async revokedAt(keys) {
      const now = clock.now()
      return keys.map((key) => {
        const entry = entries.get(key)
        return entry !== undefined && entry.until > now ? entry.revokedAt : undefined
      })
    },
    size: () => entries.size,
    close: () => clearInterval(timer),
  }
}
