/**
 * The in-memory {@link SessionStore}: bounded (oldest sessions evicted first past `maxSessions`),
 * expired sessions swept every minute. For one process; sessions die with it.
 *
 * Compact layout, for a million sessions in a few hundred MB: an {@link IdTable} from the
 * session's storage id (32 raw bytes) to a slot number; the slot's times in `Float64Array`s (in pages of 65,536 slots,
 * added as needed, never copied), its user key hash as 32 raw
 * bytes in one `Uint8Array`, the provider as an index into a small table, and only the app's user
 * object and the subject as JS values. `deleteByUser` scans the key bytes (a rare call: milliseconds
 * for a million sessions) instead of keeping a second index per user.
 *
 * @module
 */
import { decodeDigest, encodeBase64url } from '../../core/base64url.ts'
import { type Clock, systemClock } from '../../core/clock.ts'
import { IdTable } from './id-table.ts'
import { Paged, PagedBytes } from './pages.ts'
import type { SessionStore, StoredSession } from './types.ts'

const KEY_BYTES = 32

/** The parallel columns of the sessions, by slot. */
class Columns {
  readonly ttlEnd = new Paged((n) => new Float64Array(n))
  readonly createdAt = new Paged((n) => new Float64Array(n))
  readonly expiresAt = new Paged((n) => new Float64Array(n))
  readonly lastSeenAt = new Paged((n) => new Float64Array(n))
  readonly provider = new Paged((n) => new Uint16Array(n))
  /** 1 when the slot's user key is in `keys`, 2 when it is in `oddKeys`, 0 for none. */
  readonly keyKind = new Paged((n) => new Uint8Array(n))
  readonly keys = new PagedBytes(KEY_BYTES)
  readonly users: unknown[] = []
  readonly subjects: string[] = []
  /** User keys that are not base64url of 32 bytes (kept as given). */
  readonly oddKeys = new Map<number, string>()
}

/** The 32 bytes of a canonical base64url user key hash, or undefined for any other string. */
function keyBytes(userKey: string): Uint8Array | undefined {
  const bytes = new Uint8Array(KEY_BYTES)
  return decodeDigest(userKey, bytes) ? bytes : undefined
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
  // Insertion order: the oldest session is evicted first.
  const slots = new IdTable()
  const free: number[] = []
  let used = 0
  const cols = new Columns()
  const providers: string[] = []
  const providerIndex = new Map<string, number>()

  function providerOf(name: string): number {
    let index = providerIndex.get(name)
    if (index === undefined) {
      index = providers.length
      providers.push(name)
      providerIndex.set(name, index)
    }
    return index
  }

  function release(slot: number): void {
    slots.deleteSlot(slot)
    cols.users[slot] = undefined
    cols.subjects[slot] = ''
    if (cols.keyKind.get(slot) === 2) cols.oddKeys.delete(slot)
    cols.keyKind.set(slot, 0)
    free.push(slot)
  }

  function remove(id: string): void {
    const slot = slots.get(id)
    if (slot !== undefined) release(slot)
  }

  function read(slot: number): StoredSession {
    const user = cols.users[slot]
    const provider = providers[cols.provider.get(slot)] as string
    const subject = cols.subjects[slot] as string
    const createdAt = cols.createdAt.get(slot)
    const expiresAt = cols.expiresAt.get(slot)
    const lastSeenAt = cols.lastSeenAt.get(slot)
    const kind = cols.keyKind.get(slot)
    if (kind === 0) return { user, provider, subject, createdAt, expiresAt, lastSeenAt }
    if (kind === 2) {
      const userKey = cols.oddKeys.get(slot) as string
      return { user, provider, subject, createdAt, expiresAt, lastSeenAt, userKey }
    }
    // The key's bytes are copied now (the slot may be reused before anyone looks), and encoded
    // only when read, through an own enumerable accessor: most reads never look, and the session
    // still compares and serializes as plain data.
    const bytes = cols.keys.copy(slot)
    let userKey: string | undefined
    return {
      user,
      provider,
      subject,
      createdAt,
      expiresAt,
      lastSeenAt,
      get userKey(): string {
        userKey ??= encodeBase64url(bytes)
        return userKey
      },
    }
  }

  const timer = setInterval(() => {
    const now = clock.now()
    for (const slot of slots.slots()) if (cols.ttlEnd.get(slot) <= now) release(slot)
  }, options.sweepIntervalMs ?? 60_000)
  ;(timer as { unref?: () => void }).unref?.()

  return {
    async get(id) {
      const slot = slots.get(id)
      if (slot === undefined) return undefined
      if (cols.ttlEnd.get(slot) <= clock.now()) {
        release(slot)
        return undefined
      }
      return read(slot)
    },
    async set(id, session, ttlSeconds) {
      remove(id)
      while (slots.size >= max) {
        const oldest = slots.oldest()
        if (oldest === undefined) break
        release(oldest)
      }
      let slot = free.pop()
      if (slot === undefined) slot = used++
      slots.set(id, slot)
      cols.ttlEnd.set(slot, clock.now() + ttlSeconds * 1000)
      cols.createdAt.set(slot, session.createdAt)
      cols.expiresAt.set(slot, session.expiresAt)
      cols.lastSeenAt.set(slot, session.lastSeenAt)
      cols.provider.set(slot, providerOf(session.provider))
      cols.users[slot] = session.user
      cols.subjects[slot] = session.subject
      const bytes = session.userKey === undefined ? undefined : keyBytes(session.userKey)
      if (bytes) {
        cols.keys.write(slot, bytes)
        cols.keyKind.set(slot, 1)
      } else if (session.userKey !== undefined) {
        cols.oddKeys.set(slot, session.userKey)
        cols.keyKind.set(slot, 2)
      } else {
        cols.keyKind.set(slot, 0)
      }
    },
    async delete(id) {
      remove(id)
    },
    async touch(id, lastSeenAt, ttlSeconds) {
      const slot = slots.get(id)
      if (slot === undefined) return
      const now = clock.now()
      if (cols.ttlEnd.get(slot) <= now) return release(slot)
      cols.lastSeenAt.set(slot, lastSeenAt)
      cols.ttlEnd.set(slot, now + ttlSeconds * 1000)
    },
    async deleteByUser(userKey) {
      const bytes = keyBytes(userKey)
      for (const slot of slots.slots()) {
        const kind = cols.keyKind.get(slot)
        const match =
          kind === 2
            ? cols.oddKeys.get(slot) === userKey
            : kind === 1 && bytes && sameKey(slot, bytes)
        if (match) release(slot)
      }
    },
    size: () => slots.size,
    close: () => clearInterval(timer),
  }

  function sameKey(slot: number, bytes: Uint8Array): boolean {
    return cols.keys.equals(slot, bytes)
  }
}
