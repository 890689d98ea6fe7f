/**
 * The in-memory {@link SessionStore}: bounded (oldest sessions evicted first past `maxSessions`),
 * expired sessions swept every minute. For one process; sessions die with it.
 *
 * Compact layout, for a million sessions in a few hundred MB: an {@link IdTable} from the
 * session's storage id (32 raw bytes) to a slot number; per slot, its four times side by side in
 * `Float64Array` pages (65,536 slots a page, added as needed, never copied), the provider index
 * and user-key kind in one `Uint16Array`, the user key hash as 32 raw bytes; only the app's user
 * object and the subject are JS values. `deleteByUser` scans the key bytes (a rare call:
 * milliseconds for a million sessions) instead of keeping a second index per user.
 *
 * @module
 */
import { decodeDigest } from '../../core/base64url.ts'
import { type Clock, systemClock } from '../../core/clock.ts'
import { IdTable } from './id-table.ts'
import { Paged, PagedBytes } from './pages.ts'
import type { SessionStore, StoredSession } from './types.ts'

const KEY_BYTES = 32

/** Fields of a slot's row in `times`. */
const TTL_END = 0
const CREATED_AT = 1
const EXPIRES_AT = 2
const LAST_SEEN_AT = 3
/** `meta` holds the provider index above the user key's kind (2 bits). */
const KIND_BITS = 2
const KIND_MASK = 3
const MAX_PROVIDERS = 2 ** (16 - KIND_BITS) - 1
/** Kinds of user key: none, 32 bytes in `keys`, a string in `oddKeys`. */
const NO_KEY = 0
const KEY_BYTES_KIND = 1
const ODD_KEY = 2

/** The columns of the sessions, by slot: what one read takes lies in as few cache lines as it can. */
class Columns {
  /** Per slot: the store's TTL end, createdAt, expiresAt, lastSeenAt. */
  readonly times = new Paged((n) => new Float64Array(n), 4)
  readonly meta = new Paged((n) => new Uint16Array(n))
  readonly keys = new PagedBytes(KEY_BYTES)
  /** Per slot: the app's user object; the subject (two arrays: one twice as long grows with more slack). */
  readonly users: unknown[] = []
  readonly subjects: unknown[] = []
  /**
   * What only sessions of providers set up for logout there carry: the ID token (the hint of an
   * RP-initiated logout) and the provider's `sid` (back- and front-channel logout).
   */
  readonly extras = new Map<number, Pick<StoredSession, 'idToken' | 'providerSid' | 'auth'>>()
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
      if (index >= MAX_PROVIDERS)
        throw new RangeError('more than 16,383 provider names in one store')
      providers.push(name)
      providerIndex.set(name, index)
    }
    return index
  }

  const kindOf = (slot: number) => cols.meta.get(slot) & KIND_MASK
  const ttlEnd = (slot: number) => cols.times.get(slot, TTL_END)

  function release(slot: number): void {
    slots.deleteSlot(slot)
    cols.users[slot] = undefined
    cols.subjects[slot] = ''
    cols.extras.delete(slot)
    if (kindOf(slot) === ODD_KEY) cols.oddKeys.delete(slot)
    cols.meta.set(slot, 0)
    free.push(slot)
  }

  function remove(id: string): void {
    const slot = slots.get(id)
    if (slot !== undefined) release(slot)
  }

  function read(slot: number): StoredSession {
    const user = cols.users[slot]
    const subject = cols.subjects[slot] as string
    const meta = cols.meta.get(slot)
    const provider = providers[meta >>> KIND_BITS] as string
    const createdAt = cols.times.get(slot, CREATED_AT)
    const expiresAt = cols.times.get(slot, EXPIRES_AT)
    const lastSeenAt = cols.times.get(slot, LAST_SEEN_AT)
    const kind = meta & KIND_MASK
    const extras = cols.extras.get(slot)
    if (extras !== undefined) {
      const base = { user, provider, subject, createdAt, expiresAt, lastSeenAt, ...extras }
      return kind === NO_KEY ? base : { ...base, userKey: keyOf(slot, kind) }
    }
    if (kind === NO_KEY) return { user, provider, subject, createdAt, expiresAt, lastSeenAt }
    // Encoded natively from the page (~70 ns): cheaper than any lazy scheme, which would have to
    // copy the bytes (the slot may be reused before anyone looks) and build a closure.
    const userKey = keyOf(slot, kind)
    return { user, provider, subject, createdAt, expiresAt, lastSeenAt, userKey }
  }

  function keyOf(slot: number, kind: number): string {
    return kind === ODD_KEY ? (cols.oddKeys.get(slot) as string) : cols.keys.base64url(slot)
  }

  function write(slot: number, session: StoredSession, provider: number, ttlSeconds: number): void {
    cols.times.set(slot, clock.now() + ttlSeconds * 1000, TTL_END)
    cols.times.set(slot, session.createdAt, CREATED_AT)
    cols.times.set(slot, session.expiresAt, EXPIRES_AT)
    cols.times.set(slot, session.lastSeenAt, LAST_SEEN_AT)
    cols.users[slot] = session.user
    cols.subjects[slot] = session.subject
    const { idToken, providerSid, auth } = session
    if (idToken !== undefined || providerSid !== undefined || auth !== undefined)
      cols.extras.set(slot, {
        ...(idToken === undefined ? {} : { idToken }),
        ...(providerSid === undefined ? {} : { providerSid }),
        ...(auth === undefined ? {} : { auth }),
      })
    const bytes = session.userKey === undefined ? undefined : keyBytes(session.userKey)
    let kind = NO_KEY
    if (bytes) {
      cols.keys.write(slot, bytes)
      kind = KEY_BYTES_KIND
    } else if (session.userKey !== undefined) {
      cols.oddKeys.set(slot, session.userKey)
      kind = ODD_KEY
    }
    cols.meta.set(slot, (provider << KIND_BITS) | kind)
  }

  const timer = setInterval(() => {
    const now = clock.now()
    for (const slot of slots.slots()) if (ttlEnd(slot) <= now) release(slot)
  }, options.sweepIntervalMs ?? 60_000)
  ;(timer as { unref?: () => void }).unref?.()

  return {
    async get(id) {
      const slot = slots.get(id)
      if (slot === undefined) return undefined
      if (ttlEnd(slot) <= clock.now()) {
        release(slot)
        return undefined
      }
      return read(slot)
    },
    async set(id, session, ttlSeconds) {
      const provider = providerOf(session.provider) // first: it may refuse
      remove(id)
      while (slots.size >= max) {
        const oldest = slots.oldest()
        if (oldest === undefined) break
        release(oldest)
      }
      let slot = free.pop()
      if (slot === undefined) slot = used++
      slots.set(id, slot)
      write(slot, session, provider, ttlSeconds)
    },
    async delete(id) {
      remove(id)
    },
    async touch(id, lastSeenAt, ttlSeconds) {
      const slot = slots.get(id)
      if (slot === undefined) return
      const now = clock.now()
      if (ttlEnd(slot) <= now) return release(slot)
      cols.times.set(slot, lastSeenAt, LAST_SEEN_AT)
      cols.times.set(slot, now + ttlSeconds * 1000, TTL_END)
    },
    async deleteByUser(userKey) {
      const bytes = keyBytes(userKey)
      for (const slot of slots.slots()) {
        const kind = kindOf(slot)
        const match =
          kind === ODD_KEY
            ? cols.oddKeys.get(slot) === userKey
            : kind === KEY_BYTES_KIND && bytes && cols.keys.equals(slot, bytes)
        if (match) release(slot)
      }
    },
    async deleteByProviderSession(provider, sid) {
      const index = providerIndex.get(provider)
      if (index === undefined) return
      for (const [slot, extras] of [...cols.extras])
        if (extras.providerSid === sid && cols.meta.get(slot) >>> KIND_BITS === index) release(slot)
    },
    async deleteByProviderSubject(provider, subject) {
      const index = providerIndex.get(provider)
      if (index === undefined) return
      for (const slot of slots.slots())
        if (cols.subjects[slot] === subject && cols.meta.get(slot) >>> KIND_BITS === index)
          release(slot)
    },
    size: () => slots.size,
    close: () => clearInterval(timer),
  }
}
