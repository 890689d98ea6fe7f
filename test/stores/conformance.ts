// The store conformance suite: the same cases for every SessionStore and OpStore implementation
// (memory, SQLite, PostgreSQL, Redis). Time moves through an injected clock, so TTL expiry is
// tested without sleeping; concurrency is real (50 callers at once).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { SessionStore, StoredSession } from '../../src/engine/sessions/types.ts'
import type { CodeRecord, OpStore, RefreshRecord } from '../../src/op/store/types.ts'

/** A controllable clock. */
export interface TestClock {
  now(): number
  advance(ms: number): void
}

export function testClock(start = Date.UTC(2026, 10, 25, 12)): TestClock {
  let now = start
  return {
    now: () => now,
    advance: (ms) => {
      now += ms
    },
  }
}

/** What a store under test provides; `close` removes everything it created. */
export interface StoreUnderTest {
  readonly sessions: SessionStore
  readonly op: OpStore
  close(): Promise<void>
}

/** Builds fresh stores (their own schema / key prefix) bound to `clock`. */
export type StoreFactory = (clock: TestClock) => Promise<StoreUnderTest>

const session = (
  clock: TestClock,
  user: unknown = { id: 'u1', name: 'Zoë 🧪' },
): StoredSession => ({
  user,
  provider: 'idp',
  subject: 'sub-1',
  createdAt: clock.now(),
  expiresAt: clock.now() + 3_600_000,
  lastSeenAt: clock.now(),
})

const code = (grantId: string): CodeRecord => ({
  grantId,
  clientId: 'web',
  sub: 'alice',
  scopes: ['openid', 'profile'],
  authTime: 1_700_000_000,
  redirectUri: 'https://app.example/cb',
  nonce: 'n-1',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  codeChallengeMethod: 'S256',
})

const refresh = (grantId: string): RefreshRecord => ({
  grantId,
  clientId: 'web',
  sub: 'alice',
  scopes: ['openid', 'offline_access'],
  authTime: 1_700_000_000,
  familyExpiresAt: 1_800_000_000,
})

/** Runs every conformance case against `factory` (or skips them all with `skip`). */
export function storeConformance(
  name: string,
  factory: StoreFactory,
  skip: string | false = false,
): void {
  describe(`${name} store conformance`, { skip }, () => {
    const clock = testClock()
    let store: StoreUnderTest
    before(async () => {
      store = await factory(clock)
    })
    after(async () => {
      await store?.close()
    })

    describe('SessionStore', () => {
      it('sets, gets, touches and deletes', async () => {
        const s = session(clock)
        await store.sessions.set('s-1', s, 60)
        assert.deepEqual(await store.sessions.get('s-1'), s)
        await store.sessions.touch('s-1', clock.now() + 5, 60)
        assert.equal((await store.sessions.get('s-1'))?.lastSeenAt, clock.now() + 5)
        await store.sessions.delete('s-1')
        assert.equal(await store.sessions.get('s-1'), undefined)
        assert.equal(await store.sessions.get('never-set'), undefined)
        await store.sessions.delete('never-set')
        await store.sessions.touch('never-set', clock.now(), 60)
        assert.equal(await store.sessions.get('never-set'), undefined, 'touch does not create')
      })

      it('expires after its TTL and touch extends it', async () => {
        await store.sessions.set('s-ttl', session(clock), 10)
        await store.sessions.set('s-touched', session(clock), 10)
        clock.advance(8_000)
        await store.sessions.touch('s-touched', clock.now(), 10)
        clock.advance(3_000)
        assert.equal(await store.sessions.get('s-ttl'), undefined)
        assert.ok(await store.sessions.get('s-touched'))
        clock.advance(10_000)
        assert.equal(await store.sessions.get('s-touched'), undefined)
      })

      it('keeps unicode and large values intact', async () => {
        const user = {
          name: 'Ünïcødé ✓ 日本語 🚀',
          blob: 'x'.repeat(100_000),
          nested: { list: [1, 'two', null, true] },
        }
        await store.sessions.set('s-big', session(clock, user), 60)
        assert.deepEqual((await store.sessions.get('s-big'))?.user, user)
      })

      it('holds 10,000 sessions', async () => {
        const ids = Array.from({ length: 10_000 }, (_, i) => `bulk-${i}`)
        for (let i = 0; i < ids.length; i += 500) {
          await Promise.all(
            ids.slice(i, i + 500).map((id) => store.sessions.set(id, session(clock, { id }), 600)),
          )
        }
        for (const id of [ids[0], ids[4_999], ids[9_999]] as string[]) {
          assert.deepEqual((await store.sessions.get(id))?.user, { id })
        }
      })
    })

    describe('OpStore', () => {
      it('sets, gets, overwrites and deletes records of every kind', async () => {
        await store.op.set('client', 'web', {
          clientId: 'web',
          tokenEndpointAuthMethod: 'none',
          redirectUris: ['https://app.example/cb'],
          grantTypes: ['authorization_code'],
          scopes: [],
          applicationType: 'web',
          skipConsent: false,
          allowPlainPkce: false,
          resourceServer: false,
          name: 'Web',
        })
        assert.equal((await store.op.get('client', 'web'))?.name, 'Web')
        await store.op.set('username', 'alice', { sub: 'sub-a' })
        await store.op.set('username', 'alice', { sub: 'sub-b' })
        assert.deepEqual(await store.op.get('username', 'alice'), { sub: 'sub-b' })
        await store.op.delete('username', 'alice')
        assert.equal(await store.op.get('username', 'alice'), undefined)
        // kinds are separate namespaces
        await store.op.set('consent', 'same-id', { scopes: ['openid'] })
        assert.equal(await store.op.get('revocation', 'same-id'), undefined)
      })

      it('expires records after their TTL, keeps those without one', async () => {
        await store.op.set('code', 'c-ttl', code('g-ttl'), { ttlSeconds: 60, family: 'g-ttl' })
        await store.op.set('consent', 'forever', { scopes: ['openid'] })
        clock.advance(59_000)
        assert.ok(await store.op.get('code', 'c-ttl'))
        clock.advance(2_000)
        assert.equal(await store.op.get('code', 'c-ttl'), undefined)
        assert.equal(
          await store.op.consume('code', 'c-ttl'),
          undefined,
          'an expired code cannot be consumed',
        )
        assert.ok(await store.op.get('consent', 'forever'))
      })

      it('consumes exactly once among 50 concurrent callers, and reports replays', async () => {
        await store.op.set('code', 'c-race', code('g-race'), { ttlSeconds: 60, family: 'g-race' })
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.op.consume('code', 'c-race')),
        )
        assert.equal(results.filter((r) => r && !r.alreadyConsumed).length, 1)
        assert.equal(results.filter((r) => r?.alreadyConsumed).length, 49)
        assert.deepEqual(results[0]?.value, code('g-race'))
        const again = await store.op.consume('code', 'c-race')
        assert.equal(again?.alreadyConsumed, true)
        assert.equal(again?.value.grantId, 'g-race', 'a replay still tells which grant to revoke')
        assert.equal(await store.op.consume('refresh', 'absent'), undefined)
      })

      it('rotates refresh tokens exactly once under concurrency', async () => {
        await store.op.set('refresh', 'r-race', refresh('g-r'), { ttlSeconds: 600, family: 'g-r' })
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.op.consume('refresh', 'r-race')),
        )
        assert.equal(results.filter((r) => r && !r.alreadyConsumed).length, 1)
      })

      it('revokes a whole family and nothing else', async () => {
        await store.op.set('code', 'fam-code', code('fam'), { ttlSeconds: 60, family: 'fam' })
        await store.op.set('refresh', 'fam-r1', refresh('fam'), { ttlSeconds: 600, family: 'fam' })
        await store.op.set('refresh', 'fam-r2', refresh('fam'), { ttlSeconds: 600, family: 'fam' })
        await store.op.set('refresh', 'other-r', refresh('other'), {
          ttlSeconds: 600,
          family: 'other',
        })
        await store.op.revokeFamily('fam')
        assert.equal(await store.op.get('code', 'fam-code'), undefined)
        assert.equal(await store.op.get('refresh', 'fam-r1'), undefined)
        assert.equal(await store.op.consume('refresh', 'fam-r2'), undefined)
        assert.ok(await store.op.get('refresh', 'other-r'))
        await store.op.revokeFamily('no-such-family')
      })

      it('lists keys', async () => {
        const key = (kid: string, createdAt: number) => ({
          kid,
          alg: 'ES256' as const,
          privateJwk: { kty: 'EC', d: 'secret' },
          publicJwk: { kty: 'EC', kid },
          createdAt,
        })
        await store.op.set('key', 'k1', key('k1', 1))
        await store.op.set('key', 'k2', key('k2', 2))
        const kids = (await store.op.list('key')).map((k) => k.kid).sort()
        assert.deepEqual(kids, ['k1', 'k2'])
      })

      it('keeps unicode and large values intact', async () => {
        const claims = { name: 'Zoë Ünïcødé 🚀', bio: 'é'.repeat(50_000) }
        await store.op.set('account', 'sub-u', { sub: 'sub-u', username: 'zoë', claims })
        assert.deepEqual((await store.op.get('account', 'sub-u'))?.claims, claims)
      })
    })
  })
}
