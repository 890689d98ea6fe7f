/**
 * The in-memory {@link SessionStore}: bounded (oldest sessions evicted first past `maxSessions`),
 * expired sessions swept every minute, indexed by user key for `deleteByUser`. For one process;
 * sessions die with it.
 *
 * @module
 */
import { type Clock, systemClock } from '../../core/clock.ts'
import type { SessionStore, StoredSession } from './types.ts'

interface Entry {
  session: StoredSession
  expiresAt: number
}

/**
 * An in-memory session store.
 *
 * @example
 * ```ts
 * const auth = createAuthkestra({ providers, secret, session: { store: createMemorySessionStore() } })
 * ```
 */
export function createMemorySessionStore(
  options: { maxSessions?: number; clock?: Clock; sweepIntervalMs?: number } = {},
): SessionStore & { size(): number; close(): void } {
  const clock = options.clock ?? systemClock
  const max = options.maxSessions ?? 1_000_000
  // A Map iterates in insertion order: the first key is the oldest session.
  const entries = new Map<string, Entry>()
  const byUser = new Map<string, Set<string>>()

  function remove(id: string): void {
    const entry = entries.get(id)
    if (!entry) return
    entries.delete(id)
    const userKey = entry.session.userKey
    if (userKey === undefined) return
    const ids = byUser.get(userKey)
    ids?.delete(id)
    if (ids?.size === 0) byUser.delete(userKey)
  }

  const timer = setInterval(() => {
    const now = clock.now()
    for (const [id, entry] of entries) if (entry.expiresAt <= now) remove(id)
  }, options.sweepIntervalMs ?? 60_000)
  ;(timer as { unref?: () => void }).unref?.()

  return {
    async get(id) {
      const entry = entries.get(id)
      if (!entry) return undefined
      if (entry.expiresAt <= clock.now()) {
        remove(id)
        return undefined
      }
      return entry.session
    },
    async set(id, session, ttlSeconds) {
      remove(id)
      while (entries.size >= max) {
        const oldest = entries.keys().next().value
        if (oldest === undefined) break
        remove(oldest)
      }
      entries.set(id, { session, expiresAt: clock.now() + ttlSeconds * 1000 })
      if (session.userKey !== undefined) {
        const ids = byUser.get(session.userKey) ?? new Set()
        ids.add(id)
        byUser.set(session.userKey, ids)
      }
    },
    async delete(id) {
      remove(id)
    },
    async touch(id, lastSeenAt, ttlSeconds) {
      const entry = entries.get(id)
      if (!entry) return
      if (entry.expiresAt <= clock.now()) return remove(id)
      entry.session = { ...entry.session, lastSeenAt }
      entry.expiresAt = clock.now() + ttlSeconds * 1000
    },
    async deleteByUser(userKey) {
      for (const id of [...(byUser.get(userKey) ?? [])]) remove(id)
    },
    size: () => entries.size,
    close: () => clearInterval(timer),
  }
}
