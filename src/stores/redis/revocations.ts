/**
 * The Redis {@link RevocationStore}: one hash per revoked key at `${prefix}revoked:${key}` (`a`
 * revoked at, `e` until, ms by the injected clock) with a native TTL a little past `e`. Revoking
 * is one script (the later of each time is kept); `revokedAt` reads all keys in one pipeline.
 *
 * @module
 */
import type { Redis } from 'ioredis'
import type { Clock } from '../../core/clock.ts'
import type { RevocationStore } from '../redis.ts'
import type { Guard } from './guard.ts'
import { REVOKE, runScript } from './scripts.ts'

/** What the revocation store is built from. */
export interface RedisRevocationDeps {
  readonly redis: Redis
  readonly prefix: string
  readonly clock: Clock
  readonly guard: Guard
  /** Margin of native TTLs past the recorded end, in ms. */
  readonly marginMs: number
}

/** Builds the revocation store. */
export function createRedisRevocationStore(deps: RedisRevocationDeps): RevocationStore {
  const { redis, clock, guard } = deps
  const key = (k: string) => `${deps.prefix}revoked:${k}`
  return {
    revoke(k, revokedAt, until) {
      return guard('revocations.revoke', async () => {
        await runScript(
          redis,
          REVOKE,
          [key(k)],
          [Math.floor(revokedAt), Math.ceil(until), deps.marginMs, clock.now()],
        )
      })
    },
    revokedAt(keys) {
      return guard('revocations.revokedAt', async () => {
        if (keys.length === 0) return []
        const pipeline = redis.pipeline()
        for (const k of keys) pipeline.hmget(key(k), 'a', 'e')
        const replies = (await pipeline.exec()) ?? []
        const now = clock.now()
        return keys.map((_, i) => {
          const [err, value] = replies[i] ?? [new Error('no reply'), null]
          if (err) throw err
          const [a, e] = (value ?? []) as (string | null)[]
          return a != null && e != null && Number(e) > now ? Number(a) : undefined
        })
      })
    },
  }
}
