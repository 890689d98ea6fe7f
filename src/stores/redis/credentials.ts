/**
 * The Redis {@link CredentialStore}. A credential is a hash at `${prefix}cred:${id}` (`a`
 * account, `k` kind, `n` version, `v` the JSON record); each account has a sorted set
 * `${prefix}creds:${account}` of its ids scored by creation time. Challenges and attempt counters
 * are hashes at `${prefix}mfa:c:…` / `${prefix}mfa:h:…` with their expiry by the injected clock in
 * `e` and a native TTL a little longer. Every write is one Lua script, so atomic.
 *
 * @module
 */
import type { Redis } from 'ioredis'
import type { Clock } from '../../core/clock.ts'
import type { CredentialStore, StoredCredential } from '../../mfa/store/types.ts'
import { type Guard, parseJson, UnreadableRecord } from './guard.ts'
import { runScript, script } from './scripts.ts'

/** What the credential store is built from. */
export interface RedisCredentialDeps {
  readonly redis: Redis
  readonly prefix: string
  /** The prefix as the server sees it (for keys a script builds). */
  readonly serverPrefix: string
  readonly clock: Clock
  readonly guard: Guard
  readonly px: (ttlSeconds: number) => number
}

/** KEYS: credential, account index. ARGV: account, kind, version, json, createdAt, id. */
const ADD = script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'a', ARGV[1], 'k', ARGV[2], 'n', ARGV[3], 'v', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return 1
`)

/** KEYS: credential. ARGV: account, expected version, new version, json. */
const UPDATE = script(`
if redis.call('HGET', KEYS[1], 'a') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'n') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'n', ARGV[3], 'v', ARGV[4])
return 1
`)

/** KEYS: credential, account index. ARGV: account, id. */
const REMOVE = script(`
if redis.call('HGET', KEYS[1], 'a') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`)

/** KEYS: account index. ARGV: credential key prefix, kind ('' = every kind). */
const REMOVE_ALL = script(`
local count = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  if ARGV[2] == '' or redis.call('HGET', key, 'k') == ARGV[2] then
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
    count = count + 1
  end
end
return count
`)

/** KEYS: challenge. ARGV: now. The value if live; deleted either way. */
const TAKE = script(`
local found = redis.call('HMGET', KEYS[1], 'v', 'e')
redis.call('DEL', KEYS[1])
if not found[1] or tonumber(found[2]) <= tonumber(ARGV[1]) then return false end
return found[1]
`)

/** KEYS: counter. ARGV: now, expiry of a new window, its native TTL (ms). */
const HIT = script(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e or tonumber(e) <= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'n', 1, 'e', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return redis.call('HINCRBY', KEYS[1], 'n', 1)
`)

/** Builds the credential store. */
export function createRedisCredentialStore(deps: RedisCredentialDeps): CredentialStore {
  const { redis, prefix, serverPrefix, clock, guard, px } = deps
  const credKey = (id: string) => `${prefix}cred:${id}`
  const indexKey = (accountId: string) => `${prefix}creds:${accountId}`
  const challengeKey = (id: string) => `${prefix}mfa:c:${id}`
  const hitKey = (key: string) => `${prefix}mfa:h:${key}`
  const read = (value: unknown): StoredCredential => {
    if (typeof value !== 'string') throw new UnreadableRecord('unexpected credential value')
    return parseJson(value) as StoredCredential
  }
  return {
    list: (accountId) =>
      guard('credentials.list', async () => {
        const ids = await redis.zrange(indexKey(accountId), '0', '-1')
        if (ids.length === 0) return []
        const pipeline = redis.pipeline()
        for (const id of ids) pipeline.hget(credKey(id), 'v')
        const replies = (await pipeline.exec()) ?? []
        const out: StoredCredential[] = []
        for (const [err, value] of replies) {
          if (err) throw err
          // Removed between the two reads: gone.
          if (value != null) out.push(read(value))
        }
        return out
      }),
    get: (id) =>
      guard('credentials.get', async () => {
        const value = await redis.hget(credKey(id), 'v')
        return value == null ? undefined : read(value)
      }),
    add: (c) =>
      guard('credentials.add', async () => {
        const reply = await runScript(
          redis,
          ADD,
          [credKey(c.id), indexKey(c.accountId)],
          [c.accountId, c.kind, c.version, JSON.stringify(c), c.createdAt, c.id],
        )
        return Number(reply) === 1
      }),
    update: (c) =>
      guard('credentials.update', async () => {
        const reply = await runScript(
          redis,
          UPDATE,
          [credKey(c.id)],
          [c.accountId, String(c.version - 1), String(c.version), JSON.stringify(c)],
        )
        return Number(reply) === 1
      }),
    remove: (accountId, id) =>
      guard('credentials.remove', async () => {
        const reply = await runScript(
          redis,
          REMOVE,
          [credKey(id), indexKey(accountId)],
          [accountId, id],
        )
        return Number(reply) === 1
      }),
    removeAll: (accountId, kind) =>
      guard('credentials.removeAll', async () => {
        const reply = await runScript(
          redis,
          REMOVE_ALL,
          [indexKey(accountId)],
          [`${serverPrefix}cred:`, kind ?? ''],
        )
        return Number(reply)
      }),
    putChallenge: (id, value, ttlSeconds) =>
      guard('credentials.putChallenge', async () => {
        const key = challengeKey(id)
        await redis
          .multi()
          .del(key)
          .hset(key, 'v', JSON.stringify(value), 'e', clock.now() + ttlSeconds * 1000)
          .pexpire(key, px(ttlSeconds))
          .exec()
      }),
    takeChallenge: (id) =>
      guard('credentials.takeChallenge', async () => {
        const reply = await runScript(redis, TAKE, [challengeKey(id)], [clock.now()])
        if (reply == null) return undefined
        if (typeof reply !== 'string') throw new UnreadableRecord('unexpected challenge value')
        return parseJson(reply) as Record<string, unknown>
      }),
    hit: (key, windowSeconds) =>
      guard('credentials.hit', async () => {
        const now = clock.now()
        const reply = await runScript(
          redis,
          HIT,
          [hitKey(key)],
          [now, now + windowSeconds * 1000, px(windowSeconds)],
        )
        return Number(reply)
      }),
    clearHits: (key) =>
      guard('credentials.clearHits', async () => {
        await redis.del(hitKey(key))
      }),
  }
}
