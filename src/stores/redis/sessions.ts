/**
 * The Redis {@link SessionStore}: one hash per session at `${prefix}session:${id}` (the id is
 * already the SHA-256 the session manager stores under), with a native TTL (PX) a little longer
 * than the session's, and its expiry by the injected clock in the hash so reads honour that clock.
 * Each user's sessions are indexed in a sorted set `${prefix}user-sessions:${userKey}` (scored by
 * absolute end, pruned at each login, living as long as the longest of them), which
 * `deleteByUser` empties in one script; the same for the provider's subject and session id of
 * each login (`provider-subject-sessions:`, `provider-sid-sessions:`), for back-channel logout.
 *
 * @module
 */

import type { Redis } from 'ioredis'
import type { Clock } from '../../core/clock.ts'
import type { SessionStore, StoredSession } from '../redis.ts'
import { type Guard, parseJson, UnreadableRecord } from './guard.ts'
import {
  runScript,
  SESSION_DELETE,
  SESSION_DELETE_INDEXED,
  SESSION_DELETE_USER,
  SESSION_SET,
  SESSION_TOUCH,
} from './scripts.ts'
import type { RawSession, RedisSessionCache } from './session-cache.ts'

/** What the session store is built from. */
export interface RedisSessionDeps {
  readonly redis: Redis
  /** The key prefix, e.g. `authkestra:`. */
  readonly prefix: string
  /** The prefix as the server sees it (the client's own `keyPrefix` first): for built keys. */
  readonly serverPrefix: string
  readonly clock: Clock
  readonly guard: Guard
  /** Native TTL in ms for a lifetime in seconds (the lifetime plus a margin). */
  readonly px: (ttlSeconds: number) => number
  /** The per-process cache of reads (`sessionCache`), if enabled. */
  readonly cache?: RedisSessionCache | undefined
}

/** Builds the session store. */
export function createRedisSessionStore(deps: RedisSessionDeps): SessionStore {
  const { redis, clock, guard, px, cache } = deps
  const key = (id: string) => `${deps.prefix}session:${id}`
  const userSet = (userKey: string) => `${deps.prefix}user-sessions:${userKey}`
  const userSetPrefix = `${deps.serverPrefix}user-sessions:`
  // Provider ids are [a-z0-9_-], so `provider:value` is unambiguous.
  const subjectSet = (value: string) => `${deps.prefix}provider-subject-sessions:${value}`
  const subjectSetPrefix = `${deps.serverPrefix}provider-subject-sessions:`
  const sidSet = (value: string) => `${deps.prefix}provider-sid-sessions:${value}`
  const sidSetPrefix = `${deps.serverPrefix}provider-sid-sessions:`
  const deleteIndexed = (key: string, field: 'ps' | 'pi', value: string) =>
    runScript(redis, SESSION_DELETE_INDEXED, [key], [field, value])
  const fetchRaw = async (id: string): Promise<RawSession | undefined> => {
    const [value, lastSeenAt, expiresAt] = await redis.hmget(key(id), 'v', 'l', 'e')
    return value == null || expiresAt == null ? undefined : [value, lastSeenAt ?? null, expiresAt]
  }
  /** Runs this process's write of one session with its cached read dropped on both sides. */
  const writing = async (id: string, write: () => Promise<unknown>) => {
    cache?.evict(id)
    try {
      await write()
    } finally {
      cache?.evict(id)
    }
  }
  /** The same for a write of sessions found through an index: the whole cache is dropped. */
  const writingMany = async (write: () => Promise<unknown>) => {
    cache?.clear()
    try {
      await write()
    } finally {
      cache?.clear()
    }
  }

  return {
    get(id) {
      return guard('sessions.get', async () => {
        const raw = cache ? await cache.read(id, () => fetchRaw(id)) : await fetchRaw(id)
        if (raw === undefined) return undefined
        const [value, lastSeenAt, expiresAt] = raw
        if (Number(expiresAt) <= clock.now()) return undefined
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
        const userKey = session.userKey ?? ''
        const untilEnd = Math.max(ttlSeconds, (session.expiresAt - now) / 1000)
        const bySubject = `${session.provider}:${session.subject}`
        const bySid =
          session.providerSid === undefined ? '' : `${session.provider}:${session.providerSid}`
        await writing(id, () =>
          runScript(
            redis,
            SESSION_SET,
            [key(id), userSet(userKey), subjectSet(bySubject), sidSet(bySid)],
            [
              JSON.stringify(session),
              session.lastSeenAt,
              now + ttlSeconds * 1000,
              px(ttlSeconds),
              userKey,
              px(untilEnd),
              userSetPrefix,
              session.expiresAt,
              now,
              bySubject,
              bySid,
              subjectSetPrefix,
              sidSetPrefix,
            ],
          ),
        )
      })
    },
    delete(id) {
      return guard('sessions.delete', async () => {
        await writing(id, () =>
          runScript(
            redis,
            SESSION_DELETE,
            [key(id)],
            [userSetPrefix, subjectSetPrefix, sidSetPrefix],
          ),
        )
      })
    },
    deleteByUser(userKey) {
      return guard('sessions.deleteByUser', async () => {
        await writingMany(() =>
          runScript(redis, SESSION_DELETE_USER, [userSet(userKey)], [userKey]),
        )
      })
    },
    deleteByProviderSubject(provider, subject) {
      return guard('sessions.deleteByProviderSubject', async () => {
        const value = `${provider}:${subject}`
        await writingMany(() => deleteIndexed(subjectSet(value), 'ps', value))
      })
    },
    deleteByProviderSession(provider, sid) {
      return guard('sessions.deleteByProviderSession', async () => {
        const value = `${provider}:${sid}`
        await writingMany(() => deleteIndexed(sidSet(value), 'pi', value))
      })
    },
    touch(id, lastSeenAt, ttlSeconds) {
      return guard('sessions.touch', async () => {
        const now = clock.now()
        await writing(id, () =>
          runScript(
            redis,
            SESSION_TOUCH,
            [key(id)],
            [lastSeenAt, now + ttlSeconds * 1000, px(ttlSeconds), now],
          ),
        )
      })
    },
  }
}
