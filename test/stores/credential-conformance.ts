// The CredentialStore part of the store conformance suite: run inside storeConformance for every
// backend. Concurrency is real (20–50 callers at once); time moves through the injected clock.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CredentialStore, StoredCredential } from '../../src/mfa/store/types.ts'
import type { TestClock } from './conformance.ts'

const credential = (
  id: string,
  accountId: string,
  kind: StoredCredential['kind'] = 'webauthn',
  extra: Partial<StoredCredential> = {},
): StoredCredential => ({
  id,
  accountId,
  kind,
  name: 'Clé de Zoë 🔑',
  createdAt: 1_700_000_000_000,
  confirmed: true,
  version: 1,
  data: { publicKey: 'pQECAyYgASFYIA', counter: 0, transports: ['usb', 'internal'] },
  ...extra,
})

export function credentialConformance(store: () => CredentialStore, clock: TestClock): void {
  describe('CredentialStore', () => {
    it('adds, gets, lists by account and refuses a duplicate id in any account', async () => {
      const s = store()
      assert.equal(await s.add(credential('cred-a1', 'acct-a')), true)
      assert.equal(
        await s.add(credential('cred-a2', 'acct-a', 'totp', { createdAt: 1_700_000_000_001 })),
        true,
      )
      assert.equal(await s.add(credential('cred-b1', 'acct-b')), true)
      assert.equal(await s.add(credential('cred-a1', 'acct-b', 'totp')), false)
      assert.deepEqual(await s.get('cred-a1'), credential('cred-a1', 'acct-a'))
      assert.equal(await s.get('no-such'), undefined)
      assert.deepEqual(
        (await s.list('acct-a')).map((c) => c.id),
        ['cred-a1', 'cred-a2'],
      )
      assert.deepEqual(await s.list('acct-none'), [])
    })

    it('updates by compare-and-set on version, and only within the account', async () => {
      const s = store()
      await s.add(credential('cred-u', 'acct-u'))
      const next = {
        ...credential('cred-u', 'acct-u'),
        version: 2,
        lastUsedAt: 5,
        data: { counter: 7 },
      }
      assert.equal(await s.update(next), true)
      assert.deepEqual(await s.get('cred-u'), next)
      assert.equal(await s.update(next), false, 'stale version')
      assert.equal(await s.update({ ...next, version: 3, accountId: 'acct-other' }), false)
      assert.equal(await s.update({ ...next, id: 'no-such', version: 2 }), false)
      assert.deepEqual(await s.get('cred-u'), next)
    })

    it('lets exactly one of 30 concurrent updates of one version win', async () => {
      const s = store()
      await s.add(credential('cred-race', 'acct-r'))
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          s.update({ ...credential('cred-race', 'acct-r'), version: 2, data: { counter: i } }),
        ),
      )
      assert.equal(results.filter(Boolean).length, 1)
      const winner = results.indexOf(true)
      assert.deepEqual((await s.get('cred-race'))?.data, { counter: winner })
    })

    it('removes within the account only, once, and removes all of a kind', async () => {
      const s = store()
      await s.add(credential('cred-r1', 'acct-rm', 'recovery'))
      await s.add(credential('cred-r2', 'acct-rm', 'recovery'))
      await s.add(credential('cred-r3', 'acct-rm', 'webauthn'))
      assert.equal(await s.remove('acct-other', 'cred-r1'), false)
      const removals = await Promise.all(
        Array.from({ length: 20 }, () => s.remove('acct-rm', 'cred-r1')),
      )
      assert.equal(removals.filter(Boolean).length, 1)
      assert.equal(await s.get('cred-r1'), undefined)
      assert.equal(await s.removeAll('acct-rm', 'recovery'), 1)
      assert.deepEqual(
        (await s.list('acct-rm')).map((c) => c.id),
        ['cred-r3'],
      )
      assert.equal(await s.removeAll('acct-rm'), 1)
      assert.deepEqual(await s.list('acct-rm'), [])
      assert.equal(
        await s.add(credential('cred-r3', 'acct-rm2')),
        true,
        'a removed id is free again',
      )
    })

    it('hands a challenge to exactly one of 50 concurrent takers, and forgets it after its TTL', async () => {
      const s = store()
      await s.putChallenge('ch-1', { type: 'register', accountId: 'zoë' }, 60)
      const taken = await Promise.all(Array.from({ length: 50 }, () => s.takeChallenge('ch-1')))
      const got = taken.filter((t) => t !== undefined)
      assert.deepEqual(got, [{ type: 'register', accountId: 'zoë' }])
      await s.putChallenge('ch-2', { type: 'authenticate' }, 10)
      clock.advance(11_000)
      assert.equal(await s.takeChallenge('ch-2'), undefined)
      assert.equal(await s.takeChallenge('never'), undefined)
    })

    it('counts hits atomically in a fixed window, and clears them', async () => {
      const s = store()
      const counts = await Promise.all(Array.from({ length: 25 }, () => s.hit('h:acct', 60)))
      assert.deepEqual(
        [...counts].sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i + 1),
      )
      clock.advance(30_000)
      assert.equal(await s.hit('h:acct', 60), 26, 'the window does not slide')
      clock.advance(31_000)
      assert.equal(await s.hit('h:acct', 60), 1, 'a new window')
      await s.clearHits('h:acct')
      assert.equal(await s.hit('h:acct', 60), 1)
      assert.equal(await s.hit('h:other', 60), 1)
    })
  })
}
