// The Redis stores against the server at REDIS_URL: the conformance suite, then what is specific
// to Redis (key layout, native TTLs, family and index upkeep, scripts after SCRIPT FLUSH, error
// translation, the client's keyPrefix). Skips, saying why, when no server answers.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Redis } from 'ioredis'
import { AuthkestraError } from '../../src/core/errors.ts'
import type { CodeRecord } from '../../src/op/store/types.ts'
import { createRedisStores, type RedisStores } from '../../src/stores/redis.ts'
import { storeConformance, testClock } from './conformance.ts'
import { rateLimitConformance } from './rate-limit-conformance.ts'
import { connect, dropPrefix, REDIS_URL, redisSkipReason, uniquePrefix } from './redis-helpers.ts'

const skip = await redisSkipReason()
if (skip) console.log(`# skipping the Redis store tests: ${skip}`)

storeConformance(
  'redis',
  async (clock) => {
    const redis = await connect(REDIS_URL)
    const prefix = uniquePrefix('conformance')
    const stores = createRedisStores({ redis, prefix, clock })
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

// Two clients on one prefix, as two instances would be.
rateLimitConformance(
  'redis (two clients)',
  async () => {
    const redis = await connect(REDIS_URL)
    const other = await connect(REDIS_URL)
    const prefix = uniquePrefix('rate-limits')
    const stores = createRedisStores({ redis, prefix })
    const twin = createRedisStores({ redis: other, prefix })
    return {
      store: stores.rateLimits,
      twin: twin.rateLimits,
      carriers: [stores.op, stores.sessions],
      async close() {
        stores.close()
        twin.close()
        await dropPrefix(redis, prefix)
        redis.disconnect()
        other.disconnect()
      },
    }
  },
  skip,
)

const code = (grantId: string): CodeRecord => ({
  grantId,
  clientId: 'web',
  sub: 'alice',
  scopes: ['openid'],
  authTime: 1_700_000_000,
  redirectUri: 'https://app.example/cb',
})

const session = (now: number) => ({
  user: { id: 'u1' },
  provider: 'idp',
  subject: 's',
  createdAt: now,
  expiresAt: now + 3_600_000,
  lastSeenAt: now,
})

/** The rejection of `promise`, checked to be a `store_unavailable` error. */
async function unavailable(promise: Promise<unknown>): Promise<AuthkestraError> {
  const err = await promise.then(
    () => assert.fail('expected store_unavailable'),
    (e: unknown) => e,
  )
  assert.ok(err instanceof AuthkestraError, String(err))
  assert.equal(err.code, 'store_unavailable')
  return err
}

describe('redis stores', { skip }, () => {
  const prefix = uniquePrefix('specific')
  const clock = testClock()
  let redis: Redis
  let stores: RedisStores
  before(async () => {
    redis = await connect(REDIS_URL)
    stores = createRedisStores({ redis, prefix, clock })
  })
  after(async () => {
    stores?.close()
    if (redis) {
      await dropPrefix(redis, prefix)
      redis.disconnect()
    }
  })

  it('lays keys out as documented, with native TTLs a little past the lifetime', async () => {
    await stores.sessions.set('sid', session(clock.now()), 60)
    const sessionHash = await redis.hgetall(`${prefix}session:sid`)
    assert.deepEqual(Object.keys(sessionHash).sort(), ['e', 'l', 'ps', 'v'])
    // Indexed under the provider's subject for back-channel logout (no sid: no sid index).
    assert.equal(sessionHash.ps, `${session(0).provider}:${session(0).subject}`)
    assert.deepEqual(
      await redis.zrange(`${prefix}provider-subject-sessions:${sessionHash.ps}`, '0', '-1'),
      [`${prefix}session:sid`],
    )
    const sessionTtl = await redis.pttl(`${prefix}session:sid`)
    assert.ok(sessionTtl > 59_000 && sessionTtl <= 61_000, String(sessionTtl))

    await stores.op.set('code', 'c1', code('g1'), { ttlSeconds: 60, family: 'g1' })
    const hash = await redis.hgetall(`${prefix}op:code:c1`)
    assert.deepEqual(Object.keys(hash).sort(), ['c', 'e', 'f', 'v'])
    assert.equal(hash.c, '0')
    assert.equal(hash.f, 'g1')
    assert.equal(Number(hash.e), clock.now() + 60_000)
    assert.deepEqual(JSON.parse(hash.v ?? ''), code('g1'))
    assert.deepEqual(await redis.smembers(`${prefix}family:g1`), [`${prefix}op:code:c1`])

    await stores.op.set('consent', 'forever', { scopes: ['openid'] })
    assert.equal(await redis.pttl(`${prefix}op:consent:forever`), -1, 'no ttl, no expiry')
    await stores.op.set('key', 'k1', {
      kid: 'k1',
      alg: 'ES256',
      publicJwk: { kty: 'EC' },
      createdAt: 1,
    })
    assert.deepEqual(await redis.smembers(`${prefix}kind:key`), ['k1'])
  })

  it('keeps a family set alive as long as its longest member', async () => {
    const fam = `${prefix}family:long`
    await stores.op.set(
      'refresh',
      'r-long',
      { ...code('long'), familyExpiresAt: 0 },
      {
        ttlSeconds: 600,
        family: 'long',
      },
    )
    await stores.op.set('code', 'c-short', code('long'), { ttlSeconds: 60, family: 'long' })
    const ttl = await redis.pttl(fam)
    assert.ok(ttl > 599_000, String(ttl))
    await stores.op.set('revocation', 'r-forever', { reason: 'x' }, { family: 'long' })
    assert.equal(await redis.pttl(fam), -1, 'a member without expiry makes the set persistent')
  })

  it('revokes only records still in the family; delete keeps the family and index clean', async () => {
    await stores.op.set('code', 'moved', code('f1'), { ttlSeconds: 60, family: 'f1' })
    await stores.op.set('code', 'moved', code('f2'), { ttlSeconds: 60, family: 'f2' })
    await stores.op.set('code', 'stays', code('f1'), { ttlSeconds: 60, family: 'f1' })
    await stores.op.set('code', 'unfamilied', code('f1'), { ttlSeconds: 60, family: 'f1' })
    // The record expires natively (simulated), then comes back without a family: its key is
    // still listed in the family set, but revoking the family must leave it alone.
    await redis.del(`${prefix}op:code:unfamilied`)
    await stores.op.set('code', 'unfamilied', code('none'), { ttlSeconds: 60 })
    assert.deepEqual(await redis.smembers(`${prefix}family:f2`), [`${prefix}op:code:moved`])
    await stores.op.revokeFamily('f1')
    assert.equal(await stores.op.get('code', 'stays'), undefined)
    assert.equal((await stores.op.get('code', 'moved'))?.grantId, 'f2')
    assert.equal((await stores.op.get('code', 'unfamilied'))?.grantId, 'none')
    assert.equal(await redis.exists(`${prefix}family:f1`), 0)

    await stores.op.delete('code', 'moved')
    assert.equal(await redis.exists(`${prefix}family:f2`), 0, 'the last member took the set')
    await stores.op.set('client', 'gone', { name: 'x' } as never)
    await stores.op.delete('client', 'gone')
    assert.equal(await redis.sismember(`${prefix}kind:client`, 'gone'), 0)
  })

  it('list drops index entries whose record expired and hides clock-expired ones', async () => {
    const key = (kid: string) => ({ kid, alg: 'ES256' as const, publicJwk: {}, createdAt: 1 })
    await stores.op.set('key', 'live', key('live'))
    await stores.op.set('key', 'evicted', key('evicted'), { ttlSeconds: 60 })
    await stores.op.set('key', 'clock-expired', key('clock-expired'), { ttlSeconds: 1 })
    await redis.del(`${prefix}op:key:evicted`) // as if its native TTL had run out
    clock.advance(2_000)
    const kids = (await stores.op.list('key')).map((k) => k.kid).sort()
    assert.deepEqual(kids, ['k1', 'live'])
    assert.equal(await redis.sismember(`${prefix}kind:key`, 'evicted'), 0)
  })

  it('consume is atomic across connections and counts replays', async () => {
    await stores.op.set('code', 'multi', code('g-multi'), { ttlSeconds: 60, family: 'g-multi' })
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(REDIS_URL)))
    try {
      const all = clients.map((c) => createRedisStores({ redis: c, prefix, clock }).op)
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => all[i % all.length]?.consume('code', 'multi')),
      )
      assert.equal(results.filter((r) => r && !r.alreadyConsumed).length, 1)
      assert.equal(results.filter((r) => r?.alreadyConsumed).length, 99)
      assert.equal(await redis.hget(`${prefix}op:code:multi`, 'c'), '100')
    } finally {
      for (const c of clients) c.disconnect()
    }
  })

  it('keeps a rate limit as one string, its exact TAT, expiring at it (plus the margin)', async () => {
    const rule = { limit: 2, windowSeconds: 10 } // one every 5 s
    const at = clock.now() + 0.375 // "now" is the caller's: never the server's TIME
    const key = `${prefix}rate-limit:ip:203.0.113.7`
    await stores.rateLimits.hit('ip:203.0.113.7', rule, at)
    assert.equal(await redis.type(key), 'string')
    assert.equal(Number(await redis.get(key)), at + 5000)
    const first = await redis.pttl(key)
    assert.ok(first > 5900 && first <= 6001, String(first))
    await stores.rateLimits.hit('ip:203.0.113.7', rule, at)
    assert.equal(Number(await redis.get(key)), at + 10_000)
    const second = await redis.pttl(key)
    assert.ok(second > 10_900 && second <= 11_001, String(second))
    assert.equal((await stores.rateLimits.hit('ip:203.0.113.7', rule, at)).allowed, false)
    assert.equal(Number(await redis.get(key)), at + 10_000, 'a refused hit changes nothing')
    assert.ok((await redis.pttl(key)) <= second)
    // Much later by the caller's clock: the TAT has passed, the key counts as absent.
    assert.equal((await stores.rateLimits.hit('ip:203.0.113.7', rule, at + 3_600_000)).remaining, 1)
    assert.equal(Number(await redis.get(key)), at + 3_605_000)
    await stores.rateLimits.reset('ip:203.0.113.7')
    assert.equal(await redis.exists(key), 0)
  })

  it('reports a rate-limit key it cannot read as unreadable, without its value', async () => {
    const rule = { limit: 2, windowSeconds: 10 }
    await redis.set(`${prefix}rate-limit:garbled`, 'secret-value-123')
    for (const call of [
      stores.rateLimits.hit('garbled', rule, clock.now()),
      stores.rateLimits.peek('garbled', rule, clock.now()),
    ]) {
      const err = await unavailable(call)
      assert.match(err.message, /^rateLimits\.(hit|peek) failed: unreadable record$/)
      assert.doesNotMatch(`${err.message} ${String(err.cause)}`, /secret-value-123/)
    }
    assert.equal(await redis.get(`${prefix}rate-limit:garbled`), 'secret-value-123', 'left alone')
    await redis.hset(`${prefix}rate-limit:hash`, 'v', '1')
    const wrong = await unavailable(stores.rateLimits.hit('hash', rule, clock.now()))
    assert.equal(wrong.message, 'rateLimits.hit failed: redis unavailable')
    assert.match(String(wrong.cause), /WRONGTYPE/)
  })

  it('runs its scripts again after the server forgot them (SCRIPT FLUSH)', async () => {
    await redis.script('FLUSH')
    await stores.op.set('csrf', 'after-flush', { uid: 'u' }, { ttlSeconds: 60 })
    assert.equal((await stores.op.consume('csrf', 'after-flush'))?.alreadyConsumed, false)
    await redis.script('FLUSH')
    assert.equal((await stores.op.consume('csrf', 'after-flush'))?.alreadyConsumed, true)
    await redis.script('FLUSH')
    const rule = { limit: 1, windowSeconds: 60 }
    assert.equal((await stores.rateLimits.hit('after-flush', rule, clock.now())).allowed, true)
    assert.equal((await stores.rateLimits.hit('after-flush', rule, clock.now())).allowed, false)
  })

  it('prunes a user’s session index of sessions past their absolute end at each login', async () => {
    const userKey = 'idx-user'
    const index = `${prefix}user-sessions:${userKey}`
    for (let i = 0; i < 5; i++) {
      await stores.sessions.set(
        `old-${i}`,
        { ...session(clock.now()), userKey, expiresAt: clock.now() + 1_000 },
        1,
      )
    }
    assert.equal(await redis.zcard(index), 5)
    clock.advance(2_000)
    await stores.sessions.set('fresh', { ...session(clock.now()), userKey }, 600)
    assert.deepEqual(await redis.zrange(index, '0', '-1'), [`${prefix}session:fresh`])
    const ttl = await redis.pttl(index)
    assert.ok(
      ttl > 3_500_000 && ttl <= 3_601_000,
      `the index lives as long as its longest session: ${ttl}`,
    )
    await stores.sessions.delete('fresh')
    assert.equal(await redis.zcard(index), 0, 'delete drops the member')
  })

  it('touch never revives a session the clock says has expired', async () => {
    await stores.sessions.set('stale', session(clock.now()), 10)
    clock.advance(11_000)
    await stores.sessions.touch('stale', clock.now(), 60)
    assert.equal(await stores.sessions.get('stale'), undefined)
  })

  it('turns command errors and unreadable records into store_unavailable, without values', async () => {
    await redis.set(`${prefix}op:username:wrongtype`, 'secret-value-123')
    const wrong = await unavailable(stores.op.get('username', 'wrongtype'))
    assert.equal(wrong.message, 'op.get failed: redis unavailable')
    assert.ok(wrong.cause instanceof Error)
    assert.match(wrong.cause.message, /WRONGTYPE/)
    assert.equal((wrong.cause as { command?: unknown }).command, undefined, 'no command args')
    const consumed = await unavailable(stores.op.set('username', 'wrongtype', { sub: 'x' }))
    assert.equal(consumed.message, 'op.set failed: redis unavailable')

    await redis.hset(`${prefix}op:username:garbled`, 'v', '{"sub": secret-value-123')
    const garbled = await unavailable(stores.op.get('username', 'garbled'))
    assert.equal(garbled.message, 'op.get failed: unreadable record')
    for (const err of [wrong, consumed, garbled]) {
      assert.doesNotMatch(`${err.message} ${String(err.cause)}`, /secret-value-123/)
    }
  })

  it('close() stops the stores but never quits the client', async () => {
    const own = createRedisStores({ redis, prefix, clock })
    own.close()
    const err = await unavailable(own.sessions.get('sid'))
    assert.equal(err.message, 'sessions.get failed: the store is closed')
    await unavailable(own.op.list('key'))
    assert.equal(redis.status, 'ready')
    assert.equal(await redis.ping(), 'PONG')
    await own.migrate()
  })

  it('works under the client keyPrefix too', async () => {
    const prefixed = await connect(REDIS_URL, { keyPrefix: 'kp:' })
    try {
      const own = createRedisStores({ redis: prefixed, prefix, clock }).op
      await own.set('code', 'kp', code('kp-fam'), { ttlSeconds: 60, family: 'kp-fam' })
      await own.set('client', 'kp-client', { name: 'KP' } as never)
      assert.equal(await redis.exists(`kp:${prefix}op:code:kp`), 1)
      assert.deepEqual(
        (await own.list('client')).map((c) => c.name),
        ['KP'],
      )
      await own.delete('client', 'kp-client')
      assert.deepEqual(await own.list('client'), [])
      await own.revokeFamily('kp-fam')
      assert.equal(await redis.exists(`kp:${prefix}op:code:kp`), 0)
      assert.equal(await redis.exists(`kp:${prefix}family:kp-fam`), 0)
    } finally {
      await dropPrefix(redis, `kp:${prefix}`)
      prefixed.disconnect()
    }
  })

  for (const [label, options] of [
    ['RESP2', { protocol: 2 }],
    [
      'RESP3 with native reply shapes and string numbers',
      { replyMapping: 'resp3', stringNumbers: true },
    ],
  ] as const) {
    it(`reads and writes through a ${label} client`, async () => {
      const other = await connect(REDIS_URL, options)
      try {
        const own = createRedisStores({ redis: other, prefix, clock })
        await own.op.set('code', `proto-${label}`, code('proto'), { ttlSeconds: 60 })
        assert.equal((await own.op.get('code', `proto-${label}`))?.grantId, 'proto')
        assert.equal((await own.op.consume('code', `proto-${label}`))?.alreadyConsumed, false)
        assert.equal((await own.op.consume('code', `proto-${label}`))?.alreadyConsumed, true)
        assert.equal(await own.op.consume('code', 'proto-absent'), undefined)
        assert.ok((await own.op.list('key')).length > 0)
        await own.sessions.set(`proto-${label}`, session(clock.now()), 60)
        await own.sessions.touch(`proto-${label}`, clock.now() + 1, 60)
        assert.equal((await own.sessions.get(`proto-${label}`))?.lastSeenAt, clock.now() + 1)
      } finally {
        other.disconnect()
      }
    })
  }

  it('rejects bad options with config_invalid', () => {
    for (const bad of [
      { redis: {} as Redis },
      { redis, commandTimeoutMs: 0 },
      { redis, commandTimeoutMs: Number.NaN },
    ]) {
      assert.throws(() => createRedisStores(bad), { code: 'config_invalid' })
    }
  })
})
