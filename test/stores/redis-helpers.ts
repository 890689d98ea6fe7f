// Shared by the Redis store tests: a fail-fast ioredis client, a reachability probe (the reason
// to skip when there is no server), and removal of every key under a test's prefix.
import { type RedisOptions as AllRedisOptions, Redis } from 'ioredis'

// Options without `replyMapping`: exactOptionalPropertyTypes cannot spread it into the constructor
// (the value still reaches it; only the type forgets it).
type RedisOptions = Omit<AllRedisOptions, 'replyMapping'>

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** The options the store documentation recommends: fail at once while Redis is down. */
export const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: () => 100,
  lazyConnect: true,
}

/** A connected client (rejects when the server does not answer within `timeoutMs`). */
export async function connect(
  target: string | RedisOptions,
  options: AllRedisOptions = {},
  timeoutMs = 2000,
): Promise<Redis> {
  const redis =
    typeof target === 'string'
      ? new Redis(target, { ...FAIL_FAST, ...options } as RedisOptions)
      : new Redis({ ...FAIL_FAST, ...target, ...options } as RedisOptions)
  redis.on('error', () => {}) // reconnection errors are expected in these tests
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return redis
  } catch (err) {
    redis.disconnect()
    throw err
  } finally {
    clearTimeout(timer)
  }
}

/** Why the Redis tests must skip (no server at REDIS_URL), or false when they can run. */
export async function redisSkipReason(): Promise<string | false> {
  try {
    const probe = await connect(REDIS_URL)
    probe.disconnect()
    return false
  } catch (err) {
    return `no Redis at ${REDIS_URL} (${err instanceof Error ? err.message : 'unknown error'}); set REDIS_URL`
  }
}

/** A key prefix no other test file (or run) uses. */
export function uniquePrefix(name: string): string {
  return `authkestra-test:${name}:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`
}

/** Deletes every key under `prefix` (SCAN + DEL); returns how many. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
  let cursor = '0'
  let dropped = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) dropped += await redis.del(...keys)
  } while (cursor !== '0')
  return dropped
}
