// The Redis session store's per-process cache (sessionCache), against the server at REDIS_URL:
// the conformance suite with the cache on, then what the cache must guarantee: hits without a
// round trip, a session ended or touched by another instance dropped as soon as Redis says so, a
// local "log out everywhere" seen by the very next read, nothing served from memory while the
// invalidation channel is down, the age and size bounds, and no stale fill when an invalidation
// overtakes a read in flight. Skips, saying why, when no server answers.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { Redis } from 'ioredis'
import { RedisSessionCache } from '../../src/stores/redis/session-cache.ts'
import { createRedisStores, type RedisStores } from '../../src/stores/redis.ts'
import { storeConformance, testClock } from './conformance.ts'
import { connect, dropPrefix, REDIS_URL, redisSkipReason, uniquePrefix } from './redis-helpers.ts'

const skip = await redisSkipReason()
if (skip) console.log(`# skipping the Redis session cache tests: ${skip}`)

storeConformance(
  'redis (sessionCache on)',
  async (clock) => {
    const redis = await connect(REDIS_URL)
    const prefix = uniquePrefix('conformance-cache')
    const stores = createRedisStores({ redis, prefix, clock, sessionCache: true })
    await stores.sessionCache?.ready
    return {
      sessions: stores.sessions,
      op: stores.op,
      revocations: stores.revocations,
      credentials: stores.credentials,
      async close() {
        stores.close()
        await dropPrefix(redis, prefix)
        redis.disconnect()
      },
    }
  },
  skip,
)

const session = (now: number, userKey = 'uk-1') => ({
  user: { id: 'u1', name: 'Alice' },
  provider: 'idp',
  subject: 's',
  createdAt: now,
  expiresAt: now + 3_600_000,
  lastSeenAt: now,
  userKey,
})

/** Lets the invalidations of this process's own writes arrive (they evict what was read since). */
const settled = () => new Promise((r) => setTimeout(r, 50))

/** Waits until `check` holds (invalidations travel on their own connection), or fails. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 2000
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 5))
  }
  assert.fail(`not within 2 s: ${what}`)
}

describe('redis session cache', { skip }, () => {
  const clients: Redis[] = []
  const opened: RedisStores[] = []
  const prefixes: string[] = []
  after(async () => {
    for (const stores of opened) stores.close()
    const [first] = clients
    if (first) for (const prefix of prefixes) await dropPrefix(first, prefix)
    for (const client of clients) client.disconnect()
  })

  /** `count` instances over one prefix, each with its own client (as separate processes). */
  async function instances(
    count: number,
    options: { maxAgeMs?: number; maxEntries?: number } = {},
  ) {
    const prefix = uniquePrefix('cache')
    prefixes.push(prefix)
    const clock = testClock()
    const made: (RedisStores & { redis: Redis })[] = []
    for (let i = 0; i < count; i++) {
      const redis = await connect(REDIS_URL)
      clients.push(redis)
      const stores = createRedisStores({ redis, prefix, clock, sessionCache: options })
      opened.push(stores)
      await stores.sessionCache?.ready
      made.push(Object.assign(stores, { redis }))
    }
    return { made, clock }
  }

  const stats = (stores: RedisStores) => stores.sessionCache?.stats() ?? assert.fail('no cache')

  it('serves a repeated read from memory: the same value, a fresh copy each time', async () => {
    const { made, clock } = await instances(1)
    const a = made[0] as RedisStores
    await a.sessions.set('s1', session(clock.now()), 600)
    await settled()
    const first = await a.sessions.get('s1')
    const before = stats(a)
    const second = await a.sessions.get('s1')
    assert.deepEqual(second, first)
    assert.equal(stats(a).hits, before.hits + 1)
    assert.notEqual(second, first, 'parsed per read')
    ;(second?.user as { name: string }).name = 'changed by the app'
    const third = await a.sessions.get('s1')
    assert.equal((third?.user as { name: string } | undefined)?.name, 'Alice')
    assert.equal(stats(a).tracking, true)
  })

  it('drops a session another instance deleted, touched or rewrote, as soon as Redis says so', async () => {
    const { made, clock } = await instances(2)
    const [a, b] = made as unknown as [RedisStores, RedisStores]
    await b.sessions.set('s2', session(clock.now()), 600)
    await a.sessions.get('s2')
    await a.sessions.get('s2')
    assert.ok(stats(a).hits >= 1, 'cached at a')
    await b.sessions.touch('s2', clock.now() + 7, 600)
    await eventually(
      async () => (await a.sessions.get('s2'))?.lastSeenAt === clock.now() + 7,
      'the touch seen at a',
    )
    await b.sessions.delete('s2')
    await eventually(async () => (await a.sessions.get('s2')) === undefined, 'the delete seen at a')
  })

  it('after another instance logs a user out everywhere, no instance serves the sessions', async () => {
    const { made, clock } = await instances(3)
    const [a, b, c] = made as unknown as [RedisStores, RedisStores, RedisStores]
    await a.sessions.set('s3', session(clock.now(), 'bob'), 600)
    await a.sessions.set('s4', session(clock.now(), 'bob'), 600)
    for (const store of [a, c]) for (const id of ['s3', 's4', 's3']) await store.sessions.get(id)
    await b.sessions.deleteByUser('bob')
    for (const store of [a, c])
      await eventually(
        async () =>
          (await store.sessions.get('s3')) === undefined &&
          (await store.sessions.get('s4')) === undefined,
        'both sessions gone',
      )
  })

  it('a local logout-everywhere (and provider logout) is seen by the very next read, without waiting', async () => {
    const { made, clock } = await instances(1)
    const a = made[0] as RedisStores
    await a.sessions.set('s5', { ...session(clock.now(), 'carol'), providerSid: 'sid-1' }, 600)
    await a.sessions.get('s5')
    await a.sessions.get('s5')
    await a.sessions.deleteByUser('carol')
    assert.equal(await a.sessions.get('s5'), undefined)
    await a.sessions.set('s6', { ...session(clock.now(), 'carol'), providerSid: 'sid-2' }, 600)
    await a.sessions.get('s6')
    await a.sessions.deleteByProviderSession?.('idp', 'sid-2')
    assert.equal(await a.sessions.get('s6'), undefined)
  })

  it('serves nothing from memory while its connection is down, and caches again once back', async () => {
    const { made, clock } = await instances(1)
    const a = made[0] as RedisStores & { redis: Redis }
    await a.sessions.set('s7', session(clock.now()), 600)
    await a.sessions.get('s7')
    // Kill the caches' own connections (named, subscribed to invalidations), as a network cut.
    const list = String(await a.redis.client('LIST'))
    const ids = list
      .split('\n')
      .filter((l) => / name=authkestra-session-cache /.test(l))
      .map((l) => /id=(\d+)/.exec(l)?.[1] ?? '')
    assert.ok(ids.length >= 1, 'the tracking connection is listed by its name')
    for (const id of ids) await a.redis.client('KILL', 'ID', id)
    await eventually(async () => !stats(a).tracking, 'tracking off')
    assert.equal(stats(a).entries, 0)
    // Meanwhile another client changes the session: the read must see it.
    await a.redis.hset(`${prefixes.at(-1)}session:s7`, 'l', String(clock.now() + 9))
    assert.equal((await a.sessions.get('s7'))?.lastSeenAt, clock.now() + 9)
    await eventually(async () => stats(a).tracking, 'tracking back on')
    const before = stats(a).hits
    await a.sessions.get('s7')
    await a.sessions.get('s7')
    assert.equal(stats(a).hits, before + 1)
  })

  it('asks Redis again after maxAgeMs, and keeps at most maxEntries', async () => {
    const { made, clock } = await instances(1, { maxAgeMs: 300, maxEntries: 2 })
    const a = made[0] as RedisStores
    for (const id of ['m1', 'm2', 'm3']) await a.sessions.set(id, session(clock.now()), 600)
    await settled()
    for (const id of ['m1', 'm2', 'm3']) await a.sessions.get(id)
    assert.equal(stats(a).entries, 2)
    const hits = stats(a).hits
    await a.sessions.get('m3')
    assert.equal(stats(a).hits, hits + 1)
    await new Promise((r) => setTimeout(r, 350)) // the age is on the monotonic clock
    await a.sessions.get('m3')
    assert.equal(stats(a).hits, hits + 1, 'too old: read from Redis')
  })

  it('never keeps a read that an invalidation overtook', async () => {
    const { made, clock } = await instances(1)
    const a = made[0] as RedisStores & { redis: Redis }
    // The cache class itself, on a tracked connection, with a read held in flight by hand.
    const cache = new RedisSessionCache(a.redis, 'never:', {})
    try {
      await cache.ready
      let release: () => void = () => {}
      const held = new Promise<void>((r) => (release = r))
      const read = cache.read('x', async () => {
        await held
        return ['{"old":true}', null, String(clock.now() + 60_000)]
      })
      cache.evict('x') // what an invalidation of session "x" does while the read is in flight
      release()
      assert.deepEqual(await read, ['{"old":true}', null, String(clock.now() + 60_000)])
      assert.equal(cache.stats().entries, 0, 'the overtaken answer was not kept')
      await cache.read('x', async () => ['{"new":true}', null, String(clock.now() + 60_000)])
      assert.equal(cache.stats().entries, 1)
    } finally {
      cache.close()
    }
  })

  it('refuses bad options', async () => {
    const redis = await connect(REDIS_URL)
    clients.push(redis)
    for (const sessionCache of [{ maxEntries: 0 }, { maxAgeMs: -1 }, { maxAgeMs: 1.5 }, 'yes'])
      assert.throws(
        () => createRedisStores({ redis, sessionCache: sessionCache as never }),
        /sessionCache/,
      )
  })
})
