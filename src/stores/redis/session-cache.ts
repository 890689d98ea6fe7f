/**
 * A per-process cache of session reads, kept true by Redis itself: server-assisted client-side
 * caching (`CLIENT TRACKING … BCAST PREFIX <session keys>`, Redis 6+). A connection of its own
 * (RESP2, redirected to itself and subscribed to `__redis__:invalidate`) hears of every write to a
 * session key by any client of the server (a logout, a touch, "log out everywhere" on another
 * instance) and the entry is dropped. So a session ended elsewhere stops being served here within
 * the time that message takes to arrive, not within a cache lifetime.
 *
 * What keeps it correct:
 * - **Only while tracking is on.** Until the connection is subscribed, and whenever it drops, the
 *   cache is empty and reads go to Redis (a lost connection means lost invalidations).
 * - **No stale fill.** A read registers itself before asking Redis; an invalidation (or a
 *   clear) arriving while it is in flight unregisters it, and its answer is then returned but not
 *   kept. The read's reply and the invalidation come on two connections, so either may arrive
 *   first; both orders end with no stale entry.
 * - **Own writes first.** This process's own set, touch and delete drop the entry before writing;
 *   an index delete (by user, by provider session or subject) clears the whole cache once done, so
 *   a request after a local "log out everywhere" never sees a session it ended.
 * - **Bounded anyway.** An entry lives at most `maxAgeMs` (default 10 s, measured on the monotonic
 *   clock), in case the channel stalls without closing; a PING every 5 s with a 2 s deadline finds
 *   a half-open channel and reconnects; at most `maxEntries` (default 10,000) are kept.
 * - **One setup per connection.** A drop in the middle of the setup commands never leaves a
 *   connection subscribed without tracking: nothing is resent, and a stale setup changes nothing.
 * - **Same values as uncached.** The raw fields are cached and parsed per read, so an app that
 *   changes the user object it was given changes nothing for the next request.
 *
 * @module
 */
import type { Redis } from 'ioredis'

/** `sessionCache` of `createRedisStores`. */
export interface RedisSessionCacheOptions {
  /** Most sessions kept (default 10,000; the oldest entry goes first). */
  readonly maxEntries?: number
  /** Longest an entry is served without asking Redis, in ms (default 10,000). */
  readonly maxAgeMs?: number
}

/** The raw fields of a session hash as read (`v`, `l`, `e`). */
export type RawSession = readonly [value: string, lastSeenAt: string | null, expiresAt: string]

/** What the cache tells about itself. */
export interface SessionCacheStats {
  /** Invalidation tracking is on: reads may be served from memory. */
  readonly tracking: boolean
  readonly entries: number
  readonly hits: number
  readonly misses: number
}

interface Entry {
  readonly raw: RawSession
  readonly until: number
}

const CHANNEL = '__redis__:invalidate'

/** The cache over `redis`'s server, for session keys starting with `keyPrefix` (server-side). */
export class RedisSessionCache {
  readonly #entries = new Map<string, Entry>()
  /** Reads in flight: id → the ticket of the newest. */
  readonly #pending = new Map<string, number>()
  readonly #connection: Redis
  readonly #keyPrefix: string
  readonly #maxEntries: number
  readonly #maxAgeMs: number
  #ticket = 0
  /** Which connection's setup is current: a setup of an earlier connection changes nothing. */
  #generation = 0
  #heartbeat: ReturnType<typeof setInterval> | undefined
  #tracking = false
  #closed = false
  #hits = 0
  #misses = 0
  /** Resolves once tracking is on the first time; rejects if the server refuses it. */
  readonly ready: Promise<void>

  constructor(redis: Redis, keyPrefix: string, options: RedisSessionCacheOptions) {
    this.#keyPrefix = keyPrefix
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#maxAgeMs = options.maxAgeMs ?? 10_000
    // RESP2 (ioredis 6 speaks RESP3 by default and drops RESP3 invalidation pushes): the
    // invalidations then arrive as messages of the channel this connection subscribes to.
    this.#connection = redis.duplicate({
      protocol: 2,
      keyPrefix: '',
      connectionName: 'authkestra-session-cache',
      // A setup command cut by a drop must not be resent on the next connection: each
      // connection runs its own setup from its own `ready` (see #startTracking).
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      enableOfflineQueue: true,
    } as Parameters<Redis['duplicate']>[0])
    const connection = this.#connection
    const off = () => this.#stopTracking()
    connection.on('close', off)
    connection.on('end', off)
    connection.on('reconnecting', off)
    connection.on('error', () => {})
    connection.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (String(channel) === CHANNEL) this.#invalidated(message)
    })
    let first: { resolve: () => void; reject: (err: unknown) => void } | undefined
    this.ready = new Promise<void>((resolve, reject) => {
      first = { resolve, reject }
    })
    this.ready.catch(() => {})
    connection.on('ready', () => {
      const generation = ++this.#generation
      this.#startTracking(generation).then(
        () => first?.resolve(),
        (err: unknown) => {
          if (generation !== this.#generation) return
          this.#stopTracking()
          // A refusal by the server (Redis < 6, an ACL) is final; anything else, a new try.
          const refused = err instanceof Error && /ERR|NOPERM|unknown/i.test(err.message)
          if (refused) first?.reject(err)
          else if (!this.#closed) connection.disconnect(true)
        },
      )
    })
    // A half-open connection (a NAT or a balancer dropped it silently) loses invalidations
    // without closing: a PING every 5 s with a 2 s deadline finds it, and reconnecting clears
    // the cache.
    this.#heartbeat = setInterval(() => {
      if (!this.#tracking) return
      const generation = this.#generation
      const deadline = setTimeout(() => {
        if (generation === this.#generation && !this.#closed) {
          this.#stopTracking()
          connection.disconnect(true)
        }
      }, 2000)
      connection.ping().then(
        () => clearTimeout(deadline),
        () => {},
      )
    }, 5000)
    this.#heartbeat.unref?.()
    // A client made with lazyConnect hands that on to its duplicate: connect it now.
    if (connection.status === 'wait') connection.connect().catch(() => {})
  }

  async #startTracking(generation: number): Promise<void> {
    const connection = this.#connection
    const id = await connection.client('ID')
    await connection.call(
      'CLIENT',
      'TRACKING',
      'ON',
      'REDIRECT',
      String(id),
      'BCAST',
      'PREFIX',
      this.#keyPrefix,
    )
    await connection.subscribe(CHANNEL)
    if (this.#closed || generation !== this.#generation) return
    this.clear()
    this.#tracking = true
  }

  #stopTracking(): void {
    this.#tracking = false
    this.clear()
  }

  /** An invalidation message: the keys written, or null when the server flushed everything. */
  #invalidated(message: unknown): void {
    if (!Array.isArray(message)) {
      this.clear()
      return
    }
    for (const key of message) {
      const name = String(key)
      if (name.startsWith(this.#keyPrefix)) this.evict(name.slice(this.#keyPrefix.length))
    }
  }

  /**
   * The session's raw fields: from memory when tracked and fresh, else from `fetch` (kept when
   * nothing invalidated the id meanwhile). `fetch` answers undefined for a missing session,
   * which is never kept.
   */
  async read(
    id: string,
    fetch: () => Promise<RawSession | undefined>,
  ): Promise<RawSession | undefined> {
    if (this.#tracking) {
      const entry = this.#entries.get(id)
      if (entry !== undefined) {
        if (entry.until > performance.now()) {
          this.#hits++
          return entry.raw
        }
        this.#entries.delete(id)
      }
    }
    this.#misses++
    if (!this.#tracking) return fetch()
    const ticket = ++this.#ticket
    this.#pending.set(id, ticket)
    try {
      const raw = await fetch()
      if (raw !== undefined && this.#tracking && this.#pending.get(id) === ticket) {
        if (this.#entries.size >= this.#maxEntries) {
          const oldest = this.#entries.keys().next()
          if (!oldest.done) this.#entries.delete(oldest.value)
        }
        this.#entries.set(id, { raw, until: performance.now() + this.#maxAgeMs })
      }
      return raw
    } finally {
      if (this.#pending.get(id) === ticket) this.#pending.delete(id)
    }
  }

  /** Forgets one session (before this process writes it, or when Redis says it changed). */
  evict(id: string): void {
    this.#entries.delete(id)
    this.#pending.delete(id)
  }

  /** Forgets every session, and every fill in flight. */
  clear(): void {
    this.#entries.clear()
    this.#pending.clear()
  }

  stats(): SessionCacheStats {
    return {
      tracking: this.#tracking,
      entries: this.#entries.size,
      hits: this.#hits,
      misses: this.#misses,
    }
  }

  /** Closes the cache's own connection (the app's client stays open). */
  close(): void {
    this.#closed = true
    clearInterval(this.#heartbeat)
    this.#stopTracking()
    this.#connection.disconnect()
  }
}
