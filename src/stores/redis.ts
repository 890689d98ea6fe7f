/**
 * `authkestra/stores/redis`: the session store and the OP store over a Redis server, through the
 * app's own `ioredis` client (v5 or v6). One call gives both stores under one key prefix.
 *
 * Keys (all under `prefix`, default `authkestra:`):
 * - `session:<id>`: a hash per session (`v` JSON, `l` lastSeenAt, `e` expiry, `u` user key) with a
 *   native TTL;
 * - `user-sessions:<user key>`: a user's session keys (sorted set by absolute end), for
 *   `deleteByUser`;
 * - `revoked:<key>`: a hash per revocation of stateless mode (`a` revoked at, `e` until);
 * - `op:<kind>:<id>`: a hash per OP record (`v` JSON, `c` consume count, `e` expiry, `f` family);
 * - `family:<family>`: the set of member keys of a family (a grant), for `revokeFamily`;
 * - `kind:key`, `kind:client`: the sets of ids `list` reads;
 * - `rate-limit:<key>`: a string per rate limiter key, its GCRA "theoretical arrival time" (ms by
 *   the caller's clock), expiring at that time (plus the margin); a hit is one script touching that one key. The
 *   store is `rateLimits`, also set as `op.rateLimits` and `sessions.rateLimits`, so every
 *   instance sharing this Redis shares its limits.
 *
 * Expiry is checked against the injected clock (expired = absent); the native TTL (lifetime plus
 * a one-second margin) is what frees the memory. `consume`, `revokeFamily`, `set`, `delete` and
 * `touch` are Lua scripts, so they are atomic. A standalone Redis (or Sentinel) is required, not
 * Redis Cluster: scripts touch keys they compute.
 *
 * Faults: every operation has a deadline (`commandTimeoutMs`); a command error, a refused
 * connection or no reply in time rejects with `AuthkestraError('store_unavailable')`, whose message
 * names the operation only (the driver error, stripped of command arguments, is its `cause`). The
 * OP answers such requests 503 `temporarily_unavailable`, the engine 503 `store_unavailable`.
 * When Redis comes back, the client reconnects by itself and the stores work again. A write that
 * timed out may still have been applied once Redis answers. For fast failure while Redis is down,
 * create the client with `enableOfflineQueue: false` and `maxRetriesPerRequest: 1` (commands then
 * fail at once instead of waiting for the deadline), and wait for its `ready` event before use.
 *
 * @module
 */

import type { Redis } from 'ioredis'
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { RateLimitStore } from '../core/rate-limit.ts'
import type { RevocationStore } from '../engine/revocations/types.ts'
import type { SessionStore, StoredSession } from '../engine/sessions/types.ts'
import type { CredentialStore } from '../mfa/store/types.ts'
import type {
  ConsumableKind,
  Consumed,
  ListableKind,
  OpRecordKind,
  OpRecords,
  OpSetOptions,
  OpStore,
} from '../op/store/types.ts'
import { createRedisCredentialStore } from './redis/credentials.ts'
import { createGuard } from './redis/guard.ts'
import { createRedisOpStore } from './redis/op.ts'
import { createRedisRateLimitStore } from './redis/rate-limits.ts'
import { createRedisRevocationStore } from './redis/revocations.ts'
import {
  RedisSessionCache,
  type RedisSessionCacheOptions,
  type SessionCacheStats,
} from './redis/session-cache.ts'
import { createRedisSessionStore } from './redis/sessions.ts'

// The store interfaces, for users and for ./redis/*.ts (which take their types from here: the
// layering rules let only this file import types from op/ and engine/).
export type {
  ConsumableKind,
  Consumed,
  ListableKind,
  OpRecordKind,
  OpRecords,
  OpSetOptions,
  OpStore,
  RedisSessionCacheOptions,
  RevocationStore,
  SessionCacheStats,
  SessionStore,
  StoredSession,
}

/** Options of {@link createRedisStores}. */
export interface RedisStoresOptions {
  /** The app's ioredis client; the stores never quit it. */
  readonly redis: Redis
  /** Prefix of every key, default `authkestra:`. Give each app (or test) its own. */
  readonly prefix?: string
  /** The clock expiry is checked against, default the system clock. */
  readonly clock?: Clock
  /** Deadline of one store operation in ms, default 2000. */
  readonly commandTimeoutMs?: number
  /**
   * Serve session reads from memory, kept true by Redis (Redis 6+ `CLIENT TRACKING` in
   * broadcast mode over a connection of the store's own, `redis.duplicate()`): a session ended
   * or touched by any instance is dropped here as soon as Redis says so, and nothing is cached
   * while that channel is down. Saves the round trip of every guarded request. Default off.
   */
  readonly sessionCache?: boolean | RedisSessionCacheOptions
}

/** What {@link createRedisStores} returns. */
export interface RedisStores {
  /** For `createAuthkestra({ session: { store } })`. */
  readonly sessions: SessionStore
  /** For `createOp({ store })`. */
  readonly op: OpStore
  /** For `createAuthkestra({ jwt: { revocations } })`. */
  readonly revocations: RevocationStore
  /** For `createMfa({ store })` and `createOp({ mfa: { store } })`. */
  readonly credentials: CredentialStore
  /**
   * The rate limiter's state (GCRA, one key each). The same object is `op.rateLimits` and
   * `sessions.rateLimits`, so every instance sharing this Redis shares its limits.
   */
  readonly rateLimits: RateLimitStore
  /** Nothing to migrate in Redis; here so every database store has the same shape. */
  migrate(): Promise<void>
  /**
   * With `sessionCache`: `ready` resolves once invalidation tracking is on (rejects if the server
   * refuses `CLIENT TRACKING`: reads then always go to Redis), and `stats()` counts hits.
   */
  readonly sessionCache?: { readonly ready: Promise<void>; stats(): SessionCacheStats }
  /**
   * Stops the stores (later calls fail with `store_unavailable`) and closes the session cache's
   * own connection; the client stays open.
   */
  close(): void
}

/** Margin added to native TTLs, so Redis never drops a record the clock still calls live. */
const TTL_MARGIN_MS = 1000

/**
 * Creates the Redis session and OP stores over an ioredis client.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createRedisStores } from 'authkestra/stores/redis'
 *
 * const redis = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * const stores = createRedisStores({ redis, prefix: 'myapp:auth:' })
 * const op = await createOp({ issuer, clients, store: stores.op })
 * const auth = createAuthkestra({ providers, secret, session: { store: stores.sessions } })
 * ```
 */
export function createRedisStores(options: RedisStoresOptions): RedisStores {
  const { redis } = options
  if (typeof redis !== 'object' || redis === null || typeof redis.evalsha !== 'function')
    throw new AuthkestraError('config_invalid', '"redis" must be an ioredis client')
  const prefix = options.prefix ?? 'authkestra:'
  if (typeof prefix !== 'string')
    throw new AuthkestraError('config_invalid', '"prefix" must be a string')
  const timeoutMs = options.commandTimeoutMs ?? 2000
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new AuthkestraError('config_invalid', '"commandTimeoutMs" must be a positive integer')
  const clock = options.clock ?? systemClock
  let closed = false
  const guard = createGuard(timeoutMs, () => closed)
  const px = (ttlSeconds: number) => Math.max(1, Math.ceil(ttlSeconds * 1000)) + TTL_MARGIN_MS
  // Scripts build some key names themselves; the client's own `keyPrefix` is not applied to those.
  const serverPrefix = `${redis.options?.keyPrefix ?? ''}${prefix}`
  const cache = sessionCacheOf(options.sessionCache, redis, `${serverPrefix}session:`)
  const rateLimits = createRedisRateLimitStore({
    redis,
    prefix,
    guard,
    marginMs: TTL_MARGIN_MS,
  })
  return {
    sessions: {
      ...createRedisSessionStore({ redis, prefix, serverPrefix, clock, guard, px, cache }),
      rateLimits,
    },
    ...(cache ? { sessionCache: { ready: cache.ready, stats: () => cache.stats() } } : {}),
    op: { ...createRedisOpStore({ redis, prefix, serverPrefix, clock, guard, px }), rateLimits },
    rateLimits,
    revocations: createRedisRevocationStore({
      redis,
      prefix,
      clock,
      guard,
      marginMs: TTL_MARGIN_MS,
    }),
    credentials: createRedisCredentialStore({ redis, prefix, serverPrefix, clock, guard, px }),
    async migrate() {},
    close() {
      closed = true
      cache?.close()
    },
  }
}

function sessionCacheOf(
  option: RedisStoresOptions['sessionCache'],
  redis: Redis,
  keyPrefix: string,
): RedisSessionCache | undefined {
  if (option === undefined || option === false) return undefined
  const options = option === true ? {} : option
  if (typeof options !== 'object' || options === null)
    throw new AuthkestraError('config_invalid', '"sessionCache" must be a boolean or an object')
  for (const [name, value] of Object.entries({
    maxEntries: options.maxEntries,
    maxAgeMs: options.maxAgeMs,
  })) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0))
      throw new AuthkestraError(
        'config_invalid',
        `"sessionCache.${name}" must be a positive integer`,
      )
  }
  if (typeof redis.duplicate !== 'function')
    throw new AuthkestraError(
      'config_invalid',
      '"sessionCache" needs an ioredis client (duplicate())',
    )
  return new RedisSessionCache(redis, keyPrefix, options)
}
