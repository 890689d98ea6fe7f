// The store conformance suite: the same cases for every SessionStore and OpStore implementation
// (memory, SQLite, PostgreSQL, Redis). Time moves through an injected clock, so TTL expiry is
// tested without sleeping; concurrency is real (50 callers at once).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { RevocationStore } from '../../src/engine/revocations/types.ts'
import type { SessionStore, StoredSession } from '../../src/engine/sessions/types.ts'
import type { CredentialStore } from '../../src/mfa/store/types.ts'
import type { CodeRecord, OpStore, RefreshRecord } from '../../src/op/store/types.ts'
import { credentialConformance } from './credential-conformance.ts'

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
  readonly revocations: RevocationStore
  readonly credentials: CredentialStore
  close(): Promise<void>
}

/** Builds fresh stores (their own schema / key prefix) bound to `clock`. */
export type StoreFactory = (clock: TestClock) => Promise<StoreUnderTest>

const session = (
  clock: TestClock,
  user: unknown = { id: 'u1', name: 'Zoë 🧪' },
  userKey?: string,
): StoredSession => ({
  user,
  provider: 'idp',
  subject: 'sub-1',
  createdAt: clock.now(),
  expiresAt: clock.now() + 3_600_000,
  lastSeenAt: clock.now(),
  ...(userKey === undefined ? {} : { userKey }),
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

    credentialConformance(() => store.credentials, clock)

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

      it('keeps the ID token of a session set up for RP-initiated logout, through touch', async () => {
        const idToken = `eyJhbGciOiJFUzI1NiJ9.${'x'.repeat(600)}.sig`
        const s = { ...session(clock), idToken }
        await store.sessions.set('s-idt', s, 60)
        assert.deepEqual(await store.sessions.get('s-idt'), s)
        await store.sessions.touch('s-idt', clock.now() + 1, 60)
        assert.equal((await store.sessions.get('s-idt'))?.idToken, idToken)
        await store.sessions.delete('s-idt')
        await store.sessions.set('s-idt', session(clock), 60)
        assert.equal(
          (await store.sessions.get('s-idt'))?.idToken,
          undefined,
          'not kept past delete',
        )
      })

      it('ends sessions by the provider’s session id and by its subject, nothing else', async () => {
        const { sessions } = store
        assert.ok(sessions.deleteByProviderSession && sessions.deleteByProviderSubject)
        const login = (provider: string, subject: string, providerSid?: string) => ({
          ...session(clock, { provider, subject }, `key-${provider}-${subject}`),
          provider,
          subject,
          ...(providerSid === undefined ? {} : { providerSid }),
        })
        await sessions.set('bcl-1', login('op', 'alice', 'sid-x'), 60)
        await sessions.set('bcl-2', login('op', 'alice', 'sid-y'), 60)
        await sessions.set('bcl-3', login('op', 'bob', 'sid-z'), 60)
        await sessions.set('bcl-4', login('other', 'alice', 'sid-x'), 60)
        await sessions.set('bcl-5', login('op', 'carol'), 60)
        // Re-set under another sid: the old sid no longer finds it.
        await sessions.set('bcl-6', login('op', 'dave', 'sid-x'), 60)
        await sessions.set('bcl-6', login('op', 'dave', 'sid-w'), 60)
        await sessions.deleteByProviderSession('op', 'sid-x')
        const alive = async () => {
          const ids = ['bcl-1', 'bcl-2', 'bcl-3', 'bcl-4', 'bcl-5', 'bcl-6']
          const found = await Promise.all(ids.map((id) => sessions.get(id)))
          return ids.filter((_, i) => found[i] !== undefined)
        }
        assert.deepEqual(await alive(), ['bcl-2', 'bcl-3', 'bcl-4', 'bcl-5', 'bcl-6'])
        assert.equal((await sessions.get('bcl-6'))?.providerSid, 'sid-w')
        await sessions.deleteByProviderSubject('op', 'alice')
        assert.deepEqual(await alive(), ['bcl-3', 'bcl-4', 'bcl-5', 'bcl-6'])
        await sessions.deleteByProviderSubject('op', 'carol')
        await sessions.deleteByProviderSession('op', 'nobody')
        assert.deepEqual(await alive(), ['bcl-3', 'bcl-4', 'bcl-6'])
        for (const id of ['bcl-3', 'bcl-4', 'bcl-6']) await sessions.delete(id)
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

    describe('SessionStore: deleteByUser', () => {
      const ALICE = 'YWxpY2UtdXNlci1rZXktaGFzaC1vZi00My1jaGFycy4'
      const BOB = 'Ym9iLXVzZXIta2V5LWhhc2gtb2YtZm9ydHktdGhyZWUu'

      it('deletes every session of one user and nothing else', async () => {
        for (const id of ['a-1', 'a-2', 'a-3'])
          await store.sessions.set(id, session(clock, { id }, ALICE), 60)
        await store.sessions.set('b-1', session(clock, { id: 'b' }, BOB), 60)
        await store.sessions.set('n-1', session(clock, { id: 'n' }), 60)
        await store.sessions.deleteByUser(ALICE)
        for (const id of ['a-1', 'a-2', 'a-3'])
          assert.equal(await store.sessions.get(id), undefined, id)
        assert.equal((await store.sessions.get('b-1'))?.userKey, BOB)
        assert.ok(await store.sessions.get('n-1'), 'a session without a user key stays')
        await store.sessions.deleteByUser(ALICE)
        await store.sessions.deleteByUser('nobody')
        await store.sessions.set('a-4', session(clock, { id: 'a4' }, ALICE), 60)
        assert.ok(await store.sessions.get('a-4'), 'a new session after it lives')
      })

      it('follows a session re-set under another user, and forgets deleted ones', async () => {
        await store.sessions.set('moved', session(clock, {}, ALICE), 60)
        await store.sessions.set('moved', session(clock, {}, BOB), 60)
        await store.sessions.set('gone', session(clock, {}, BOB), 60)
        await store.sessions.delete('gone')
        await store.sessions.deleteByUser(ALICE)
        assert.equal((await store.sessions.get('moved'))?.userKey, BOB)
        await store.sessions.deleteByUser(BOB)
        assert.equal(await store.sessions.get('moved'), undefined)
      })

      it('keeps the index through touch and ends 200 sessions of one user at once', async () => {
        const ids = Array.from({ length: 200 }, (_, i) => `many-${i}`)
        await Promise.all(ids.map((id) => store.sessions.set(id, session(clock, {}, ALICE), 600)))
        await store.sessions.set('short', session(clock, {}, ALICE), 10)
        clock.advance(8_000)
        await store.sessions.touch('short', clock.now(), 10)
        clock.advance(5_000)
        assert.ok(await store.sessions.get('short'), 'the touch kept it alive')
        await store.sessions.deleteByUser(ALICE)
        assert.equal(await store.sessions.get('short'), undefined, 'a touched session is found too')
        for (const id of ids) assert.equal(await store.sessions.get(id), undefined, id)
      })
    })

    describe('RevocationStore', () => {
      it('tells when each key was revoked, in order, in one call', async () => {
        const at = clock.now()
        await store.revocations.revoke('sid:one', at, at + 60_000)
        await store.revocations.revoke('usr:two', at - 5, at + 60_000)
        assert.deepEqual(await store.revocations.revokedAt(['usr:two', 'sid:nope', 'sid:one']), [
          at - 5,
          undefined,
          at,
        ])
        assert.deepEqual(await store.revocations.revokedAt([]), [])
      })

      it('forgets a revocation once its time is over', async () => {
        const at = clock.now()
        await store.revocations.revoke('sid:short', at, at + 10_000)
        await store.revocations.revoke('sid:past', at, at - 1)
        assert.deepEqual(await store.revocations.revokedAt(['sid:past']), [undefined])
        clock.advance(9_999)
        assert.deepEqual(await store.revocations.revokedAt(['sid:short']), [at])
        clock.advance(1)
        assert.deepEqual(await store.revocations.revokedAt(['sid:short']), [undefined])
      })

      it('keeps the later time and the later end when a key is revoked again', async () => {
        const at = clock.now()
        await store.revocations.revoke('usr:again', at, at + 10_000)
        await store.revocations.revoke('usr:again', at + 500, at + 5_000)
        await store.revocations.revoke('usr:again', at + 100, at + 20_000)
        assert.deepEqual(await store.revocations.revokedAt(['usr:again']), [at + 500])
        clock.advance(15_000)
        assert.deepEqual(await store.revocations.revokedAt(['usr:again']), [at + 500])
        clock.advance(5_000)
        assert.deepEqual(await store.revocations.revokedAt(['usr:again']), [undefined])
        await store.revocations.revoke('usr:again', clock.now(), clock.now() + 1_000)
        assert.deepEqual(await store.revocations.revokedAt(['usr:again']), [clock.now()])
      })

      it('ends with the latest of 50 concurrent revocations of one key', async () => {
        const at = clock.now()
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.revocations.revoke('usr:race', at + i, at + 60_000 + i),
          ),
        )
        assert.deepEqual(await store.revocations.revokedAt(['usr:race']), [at + 49])
        clock.advance(60_048)
        assert.deepEqual(await store.revocations.revokedAt(['usr:race']), [at + 49])
      })
    })

    describe('OpStore', () => {
      it('useOnce: exactly one of 20 concurrent uses of an id wins; it is new again once expired', async () => {
        const wins = await Promise.all(
          Array.from({ length: 20 }, () => store.op.useOnce('jti-race', 30)),
        )
        assert.equal(wins.filter(Boolean).length, 1)
        assert.equal(await store.op.useOnce('jti-race', 30), false)
        assert.equal(await store.op.useOnce('jti-other', 30), true)
        clock.advance(29_000)
        assert.equal(await store.op.useOnce('jti-race', 30), false)
        clock.advance(2_000)
        assert.equal(await store.op.useOnce('jti-race', 30), true)
        assert.equal(await store.op.useOnce('jti-race', 30), false)
        // its own namespace: no record kind sees it
        assert.equal(await store.op.get('revocation', 'jti-race'), undefined)
      })

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

      it('keeps the resources (RFC 8707) of clients, codes, refresh tokens and device grants', async () => {
        const resources = ['https://api.example/', 'urn:example:billing']
        await store.op.set(
          'code',
          'c-res',
          { ...code('g-res'), resources },
          { ttlSeconds: 60, family: 'g-res' },
        )
        await store.op.set(
          'refresh',
          'r-res',
          { ...refresh('g-res'), resources },
          { ttlSeconds: 600, family: 'g-res' },
        )
        assert.deepEqual((await store.op.get('code', 'c-res'))?.resources, resources)
        assert.deepEqual((await store.op.consume('refresh', 'r-res'))?.value.resources, resources)
        await store.op.set('device', 'd-res', {
          clientId: 'tv',
          scopes: ['openid'],
          resources,
          userCodeId: 'u-res',
          status: 'pending',
          expiresAt: 1_800_000_000,
          interval: 5,
        })
        assert.deepEqual((await store.op.get('device', 'd-res'))?.resources, resources)
        await store.op.set('client', 'api-client', {
          clientId: 'api-client',
          tokenEndpointAuthMethod: 'none',
          redirectUris: ['https://app.example/cb'],
          grantTypes: ['authorization_code'],
          scopes: [],
          applicationType: 'web',
          skipConsent: false,
          allowPlainPkce: false,
          resourceServer: false,
          allowedResources: resources,
          name: 'API client',
        })
        assert.deepEqual((await store.op.get('client', 'api-client'))?.allowedResources, resources)
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

      it('lists sealing keys apart from signing keys', async () => {
        await store.op.set('sealKey', 's1', { id: 's1', secret: 'a'.repeat(43), createdAt: 1 })
        await store.op.set('sealKey', 's2', { id: 's2', secret: 'b'.repeat(43), createdAt: 2 })
        const ids = (await store.op.list('sealKey')).map((k) => k.id).sort()
        assert.deepEqual(ids, ['s1', 's2'])
        assert.ok(!(await store.op.list('key')).some((k) => (k.kid as string).startsWith('s')))
        assert.equal((await store.op.get('sealKey', 's1'))?.secret, 'a'.repeat(43))
      })

      it('keeps the signing-algorithm and refresh-policy fields: keys per alg, client policy, rotation time', async () => {
        for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as const)
          await store.op.set('key', `k-${alg}`, {
            kid: `k-${alg}`,
            alg,
            publicJwk: { kid: `k-${alg}`, alg, use: 'sig' },
            createdAt: 1,
          })
        const algs = (await store.op.list('key'))
          .filter((k) => k.kid.startsWith('k-'))
          .map((k) => k.alg)
          .sort()
        assert.deepEqual(algs, ['ES256', 'EdDSA', 'PS256', 'RS256'])
        const client = {
          clientId: 'graceful',
          tokenEndpointAuthMethod: 'none' as const,
          redirectUris: ['https://app.example/cb'],
          grantTypes: ['authorization_code', 'refresh_token'],
          scopes: [],
          applicationType: 'web' as const,
          skipConsent: false,
          allowPlainPkce: false,
          resourceServer: false,
          idTokenSignedResponseAlg: 'PS256' as const,
          refreshTokenRotation: 'rotate-with-grace' as const,
          refreshTokenGraceSeconds: 10,
          name: 'Graceful',
        }
        await store.op.set('client', 'graceful', client)
        assert.deepEqual(await store.op.get('client', 'graceful'), client)
        const marker = { reason: 'rotated', rotatedAt: 1_700_000_000_123 }
        await store.op.set('revocation', 'refresh:r1', marker, { ttlSeconds: 60, family: 'g-r1' })
        assert.deepEqual(await store.op.get('revocation', 'refresh:r1'), marker)
      })

      it('keeps unicode and large values intact', async () => {
        const claims = { name: 'Zoë Ünïcødé 🚀', bio: 'é'.repeat(50_000) }
        await store.op.set('account', 'sub-u', { sub: 'sub-u', username: 'zoë', claims })
        assert.deepEqual((await store.op.get('account', 'sub-u'))?.claims, claims)
      })
    })
  })
}
