/**
 * The Redis {@link SessionStore}: one hash per session at `${prefix}session:${id}` (the id is
 * already the SHA-256 the session manager stores under), with a native TTL (PX) a little longer
 * than the session's, and its expiry by the injected clock in the hash so reads honour that clock.
 *
 * @module
 */

import type { Redis } from 'ioredis'
import type { Clock } from '../../core/clock.ts'
import type { SessionStore, StoredSession } from '../redis.ts'
import { type Guard, parseJson, UnreadableRecord } from './guard.ts'
import { runScript, SESSION_SET, SESSION_TOUCH } from './scripts.ts'

/** What the session store is built from. */
export interface RedisSessionDeps {
  readonly redis: Redis
  /** The key prefix, e.g. `authkestra:`. */
  readonly prefix: string
  readonly clock: Clock
  readonly guard: Guard
  /** Native TTL in ms for a lifetime in seconds (the lifetime plus a margin). */
  readonly px: (ttlSeconds: number) => number
}

/** Builds the session store. */
export function createRedisSessionStore(deps: RedisSessionDeps): SessionStore {
  const { redis, clock, guard, px } = deps
  const key = (id: string) => `${deps.prefix}session:${id}`

  return {
    get(id) {
      return guard('sessions.get', async () => {
        const [value, lastSeenAt, expiresAt] = await redis.hmget(key(id), 'v', 'l', 'e')
        if (value == null || expiresAt == null || Number(expiresAt) <= clock.now()) return undefined
        const session = parseJson(value)
        if (typeof session !== 'object' || session === null || Array.isArray(session))
          throw new UnreadableRecord('a stored session is not an object')
        const stored = session as StoredSession
        return lastSeenAt == null ? stored : { ...stored, lastSeenAt: Number(lastSeenAt) }
      })
    },
    set(id, session, ttlSeconds) {
      return guard('sessions.set', async () => {
        const now = clock.now()
        await runScript(
          redis,
          SESSION_SET,
          [key(id)],
          [JSON.stringify(session), session.lastSeenAt, now + ttlSeconds * 1000, px(ttlSeconds)],
        )
      })
    },
    delete(id) {
      return guard('sessions.delete', async () => {
        await redis.del(key(id))
      })
    },
    touch(id, lastSeenAt, ttlSeconds) {
      return guard('sessions.touch', async () => {
        const now = clock.now()
        await runScript(
          redis,
          SESSION_TOUCH,
          [key(id)],
          [lastSeenAt, now + ttlSeconds * 1000, px(ttlSeconds), now],
        )
      })
    },
  }
}
