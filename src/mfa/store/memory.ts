/**
 * The in-memory {@link CredentialStore}: per process, lost at restart. For tests, the dev IdP
 * and single-process apps; every operation is synchronous inside, so atomic by construction.
 *
 * @module
 */
import { type Clock, systemClock } from '../../core/clock.ts'
import type { CredentialKind, CredentialStore, StoredCredential } from './types.ts'

interface Expiring<T> {
  readonly value: T
  readonly expiresAt: number
}

/**
 * A {@link CredentialStore} in memory.
 *
 * @example
 * ```ts
 * import { createMemoryCredentialStore } from 'authkestra/mfa'
 * const credentials = createMemoryCredentialStore()
 * ```
 */
export function createMemoryCredentialStore(options: { clock?: Clock } = {}): CredentialStore {
  const clock = options.clock ?? systemClock
  const byId = new Map<string, StoredCredential>()
  const challenges = new Map<string, Expiring<string>>()
  const hits = new Map<string, Expiring<number>>()
  let writes = 0
  // Challenges and counters nobody reads again are swept every 1,000 writes.
  const sweep = () => {
    if (++writes % 1000 !== 0) return
    const now = clock.now()
    for (const map of [challenges, hits] as Map<string, Expiring<unknown>>[])
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key)
  }
  const copy = (c: StoredCredential): StoredCredential => JSON.parse(JSON.stringify(c))
  const live = <T>(map: Map<string, Expiring<T>>, key: string): Expiring<T> | undefined => {
    const entry = map.get(key)
    if (entry && entry.expiresAt <= clock.now()) {
      map.delete(key)
      return undefined
    }
    return entry
  }

  return {
    async list(accountId: string) {
      return [...byId.values()]
        .filter((c) => c.accountId === accountId)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map(copy)
    },
    async get(id: string) {
      const found = byId.get(id)
      return found && copy(found)
    },
    async add(credential: StoredCredential) {
      if (byId.has(credential.id)) return false
      byId.set(credential.id, copy(credential))
      return true
    },
    async update(credential: StoredCredential) {
      const stored = byId.get(credential.id)
      if (!stored || stored.accountId !== credential.accountId) return false
      if (stored.version !== credential.version - 1) return false
      byId.set(credential.id, copy(credential))
      return true
    },
    async remove(accountId: string, id: string) {
      const stored = byId.get(id)
      if (!stored || stored.accountId !== accountId) return false
      return byId.delete(id)
    },
    async removeAll(accountId: string, kind?: CredentialKind) {
      let count = 0
      for (const [id, c] of byId) {
        if (c.accountId === accountId && (kind === undefined || c.kind === kind)) {
          byId.delete(id)
          count++
        }
      }
      return count
    },
    async putChallenge(id, value, ttlSeconds) {
      sweep()
      challenges.set(id, {
        value: JSON.stringify(value),
        expiresAt: clock.now() + ttlSeconds * 1000,
      })
    },
    async takeChallenge(id: string) {
      const entry = live(challenges, id)
      if (!entry) return undefined
      challenges.delete(id)
      return JSON.parse(entry.value) as Record<string, unknown>
    },
    async hit(key: string, windowSeconds: number) {
      sweep()
      const entry = live(hits, key)
      const next = {
        value: (entry?.value ?? 0) + 1,
        expiresAt: entry?.expiresAt ?? clock.now() + windowSeconds * 1000,
      }
      hits.set(key, next)
      return next.value
    },
    async clearHits(key: string) {
      hits.delete(key)
    },
  }
}
