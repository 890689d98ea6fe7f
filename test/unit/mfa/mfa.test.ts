// createMfa over the memory store (the database stores run the same CredentialStore conformance
// suite): TOTP enrolment and replay, attempt limits, recovery codes, and passkeys against a
// software authenticator, with the hostile cases (other challenge, origin, RP ID, clone).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createMemoryCredentialStore,
  createMfa,
  type Mfa,
  totpCode,
} from '../../../src/mfa/index.ts'
import type { CredentialStore } from '../../../src/mfa/store/types.ts'
import { SoftAuthenticator } from '../../helpers/soft-authenticator.ts'
import { testClock } from '../../stores/conformance.ts'

const SECRET = 'an-mfa-test-secret-of-at-least-32-bytes!'
const ORIGIN = 'https://login.acme.test'

function setup(extra: { secret?: string | string[]; store?: CredentialStore } = {}) {
  const clock = testClock(Date.UTC(2026, 11, 2, 12, 0, 5))
  const store = extra.store ?? createMemoryCredentialStore({ clock })
  const mfa = createMfa({
    store,
    secret: extra.secret ?? SECRET,
    issuer: 'Acme',
    clock,
    passkeys: { id: 'acme.test', name: 'Acme', origins: [ORIGIN] },
  })
  return { clock, store, mfa }
}

async function enrolled(mfa: Mfa, clock: { now(): number }, accountId = 'alice') {
  const e = await mfa.enrollTotp(accountId, { account: `${accountId}@acme.test` })
  assert.deepEqual(
    await mfa.confirmTotp(accountId, e.credentialId, await totpCode(e.secret, clock.now())),
    { ok: true },
  )
  return e
}

describe('mfa: TOTP', () => {
  it('counts an enrolment only once a first code confirms it', async () => {
    const { mfa, clock } = setup()
    const e = await mfa.enrollTotp('alice', { account: 'alice@acme.test', name: 'Phone' })
    assert.match(
      e.uri,
      /^otpauth:\/\/totp\/Acme:alice%40acme\.test\?secret=[A-Z2-7]{32}&issuer=Acme/,
    )
    assert.match(e.qrSvg, /^<svg/)
    assert.deepEqual((await mfa.factors('alice')).totp, [])
    assert.deepEqual(await mfa.verifyTotp('alice', await totpCode(e.secret, clock.now())), {
      ok: false,
      reason: 'invalid_code',
    })
    assert.deepEqual(await mfa.confirmTotp('alice', e.credentialId, '000000'), {
      ok: false,
      reason: 'invalid_code',
    })
    assert.deepEqual(
      await mfa.confirmTotp('bob', e.credentialId, await totpCode(e.secret, clock.now())),
      {
        ok: false,
        reason: 'invalid_code',
      },
    )
    clock.advance(30_000)
    assert.deepEqual(
      await mfa.confirmTotp('alice', e.credentialId, await totpCode(e.secret, clock.now())),
      { ok: true },
    )
    const [factor] = (await mfa.factors('alice')).totp
    assert.equal(factor?.name, 'Phone')
    assert.equal(factor?.id, e.credentialId)
  })

  it('refuses the step that confirmed or verified, accepts the next', async () => {
    const { mfa, clock } = setup()
    const e = await enrolled(mfa, clock)
    const same = await totpCode(e.secret, clock.now())
    assert.deepEqual(await mfa.verifyTotp('alice', same), { ok: false, reason: 'invalid_code' })
    clock.advance(30_000)
    const next = await totpCode(e.secret, clock.now())
    const results = await Promise.all(
      Array.from({ length: 10 }, () => mfa.verifyTotp('alice', next)),
    )
    assert.equal(results.filter((r) => r.ok).length, 1, 'one of ten concurrent uses of a code')
    assert.deepEqual(await mfa.verifyTotp('alice', next), { ok: false, reason: 'invalid_code' })
  })

  it('limits attempts per account: the sixth in five minutes fails even with the right code', async () => {
    const { mfa, clock } = setup()
    const e = await enrolled(mfa, clock)
    clock.advance(30_000)
    for (let i = 0; i < 5; i++)
      assert.deepEqual(await mfa.verifyTotp('alice', '000000'), {
        ok: false,
        reason: 'invalid_code',
      })
    const right = await totpCode(e.secret, clock.now())
    assert.deepEqual(await mfa.verifyTotp('alice', right), {
      ok: false,
      reason: 'rate_limited',
      retryAfter: 300,
    })
    assert.deepEqual(await mfa.verifyRecoveryCode('alice', 'aaaaa-aaaaa'), {
      ok: false,
      reason: 'rate_limited',
      retryAfter: 300,
    })
    assert.equal((await mfa.verifyTotp('bob', '000000')).ok, false)
    clock.advance(300_000)
    assert.equal((await mfa.verifyTotp('alice', await totpCode(e.secret, clock.now()))).ok, true)
  })

  it('keeps one unconfirmed enrolment per account: a new one replaces it', async () => {
    const { mfa, store } = setup()
    const first = await mfa.enrollTotp('alice', { account: 'alice' })
    const second = await mfa.enrollTotp('alice', { account: 'alice' })
    assert.deepEqual(
      (await store.list('alice')).map((c) => c.id),
      [second.credentialId],
    )
    assert.equal(await store.get(first.credentialId), undefined)
  })

  it('lets an unconfirmed enrolment lapse after 15 minutes', async () => {
    const { mfa, clock, store } = setup()
    const e = await mfa.enrollTotp('alice', { account: 'alice' })
    clock.advance(15 * 60_000 + 1)
    assert.deepEqual(
      await mfa.confirmTotp('alice', e.credentialId, await totpCode(e.secret, clock.now())),
      {
        ok: false,
        reason: 'invalid_code',
      },
    )
    assert.equal(await store.get(e.credentialId), undefined)
  })

  it('keeps the secret sealed: not in the store in clear, not movable to another credential', async () => {
    const { mfa, clock, store } = setup()
    const a = await enrolled(mfa, clock, 'alice')
    const m = await enrolled(mfa, clock, 'mallory')
    const stored = JSON.stringify([
      ...(await store.list('alice')),
      ...(await store.list('mallory')),
    ])
    assert.ok(!stored.includes(a.secret) && !stored.includes(m.secret))
    // Mallory, with write access to the store, copies her sealed secret into Alice's credential.
    const victim = await store.get(a.credentialId)
    const own = await store.get(m.credentialId)
    assert.ok(victim && own)
    await store.update({
      ...victim,
      version: victim.version + 1,
      data: { ...victim.data, secret: own.data.secret },
    })
    clock.advance(30_000)
    assert.deepEqual(await mfa.verifyTotp('alice', await totpCode(m.secret, clock.now())), {
      ok: false,
      reason: 'invalid_code',
    })
  })

  it('opens secrets sealed under an older app secret after rotation', async () => {
    const { store, clock, mfa } = setup()
    const e = await enrolled(mfa, clock)
    const rotated = createMfa({
      store,
      clock,
      issuer: 'Acme',
      secret: ['a-brand-new-secret-of-at-least-32-bytes', SECRET],
    })
    clock.advance(30_000)
    assert.equal(
      (await rotated.verifyTotp('alice', await totpCode(e.secret, clock.now()))).ok,
      true,
    )
    const other = createMfa({
      store,
      clock,
      issuer: 'Acme',
      secret: 'an-unrelated-secret-of-at-least-32-bytes',
    })
    clock.advance(30_000)
    assert.equal((await other.verifyTotp('alice', await totpCode(e.secret, clock.now()))).ok, false)
  })

  it('imports a secret the user already has, confirmed at once; refuses one that is not base32', async () => {
    const { mfa, clock } = setup()
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
    const id = await mfa.importTotp('alice', { secret: secret.toLowerCase(), name: 'Old app' })
    assert.deepEqual(
      (await mfa.factors('alice')).totp.map((f) => [f.id, f.name]),
      [[id, 'Old app']],
    )
    assert.deepEqual(await mfa.verifyTotp('alice', await totpCode(secret, clock.now())), {
      ok: true,
      credentialId: id,
    })
    await assert.rejects(mfa.importTotp('alice', { secret: 'not base32!' }), {
      code: 'config_invalid',
    })
    await assert.rejects(mfa.importTotp('alice', { secret, digits: 9 }), { code: 'config_invalid' })
  })

  it('renames and removes only the account’s own factors', async () => {
    const { mfa, clock } = setup()
    const e = await enrolled(mfa, clock)
    assert.equal(await mfa.rename('bob', e.credentialId, 'Stolen'), false)
    assert.equal(await mfa.rename('alice', e.credentialId, '  '), false)
    assert.equal(await mfa.rename('alice', e.credentialId, 'Work phone'), true)
    assert.equal((await mfa.factors('alice')).totp[0]?.name, 'Work phone')
    assert.equal(await mfa.remove('bob', e.credentialId), false)
    assert.equal(await mfa.remove('alice', e.credentialId), true)
    assert.deepEqual((await mfa.factors('alice')).totp, [])
  })
})

describe('mfa: recovery codes', () => {
  it('makes ten distinct codes, each working once, none stored in clear', async () => {
    const { mfa, store } = setup()
    const codes = await mfa.generateRecoveryCodes('alice')
    assert.equal(new Set(codes).size, 10)
    for (const c of codes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/)
    const stored = JSON.stringify(await store.list('alice'))
    for (const c of codes) assert.ok(!stored.includes(c) && !stored.includes(c.replace('-', '')))
    assert.equal((await mfa.factors('alice')).recoveryCodes, 10)
    const first = codes[0] as string
    assert.deepEqual(
      await mfa.verifyRecoveryCode('alice', ` ${first.toUpperCase().replace('-', ' ')} `),
      {
        ok: true,
        remaining: 9,
      },
    )
    assert.deepEqual(await mfa.verifyRecoveryCode('alice', first), {
      ok: false,
      reason: 'invalid_code',
    })
    assert.deepEqual(await mfa.verifyRecoveryCode('bob', codes[1] as string), {
      ok: false,
      reason: 'invalid_code',
    })
  })

  it('hands one code to exactly one of many concurrent uses', async () => {
    const { mfa } = setup()
    const [code] = await mfa.generateRecoveryCodes('alice')
    const { mfa: wide } = setup()
    void wide
    const results = await Promise.all(
      Array.from({ length: 4 }, () => mfa.verifyRecoveryCode('alice', code as string)),
    )
    assert.equal(results.filter((r) => r.ok).length, 1)
  })

  it('regenerating voids the old set', async () => {
    const { mfa } = setup()
    const old = await mfa.generateRecoveryCodes('alice')
    const fresh = await mfa.generateRecoveryCodes('alice')
    assert.equal((await mfa.verifyRecoveryCode('alice', old[0] as string)).ok, false)
    assert.equal((await mfa.verifyRecoveryCode('alice', fresh[0] as string)).ok, true)
    assert.equal((await mfa.factors('alice')).recoveryCodes, 9)
  })

  it('refuses malformed input', async () => {
    const { mfa } = setup()
    await mfa.generateRecoveryCodes('alice')
    for (const bad of ['', 'x', 'aaaaa-aaaa1', 'a'.repeat(5000), '\u0000'])
      assert.deepEqual(await mfa.verifyRecoveryCode('alice', bad), {
        ok: false,
        reason: 'invalid_code',
      })
  })
})

describe('mfa: passkeys', () => {
  async function registered(mfa: Mfa, accountId = 'alice', auth = new SoftAuthenticator(ORIGIN)) {
    const options = await mfa.passkeyRegistrationOptions({
      accountId,
      userName: `${accountId}@acme.test`,
    })
    const result = await mfa.verifyPasskeyRegistration({
      accountId,
      response: auth.create(options),
      name: 'Laptop',
    })
    assert.equal(result.ok, true, JSON.stringify(result))
    return { auth, credentialId: (result as { credentialId: string }).credentialId }
  }

  it('registers and signs in, with the account and usernameless', async () => {
    const { mfa } = setup()
    const { auth, credentialId } = await registered(mfa)
    const [passkey] = (await mfa.factors('alice')).passkeys
    assert.deepEqual(
      { id: passkey?.id, name: passkey?.name, deviceType: passkey?.deviceType },
      { id: credentialId, name: 'Laptop', deviceType: 'singleDevice' },
    )
    const withAccount = await mfa.passkeyAuthenticationOptions({ accountId: 'alice' })
    assert.deepEqual(
      withAccount.allowCredentials?.map((c) => c.id),
      [credentialId],
    )
    assert.deepEqual(
      await mfa.verifyPasskeyAuthentication({
        response: auth.get(withAccount),
        accountId: 'alice',
      }),
      {
        ok: true,
        accountId: 'alice',
        credentialId,
        userVerified: true,
        deviceType: 'singleDevice',
      },
    )
    const usernameless = await mfa.passkeyAuthenticationOptions()
    assert.deepEqual(usernameless.allowCredentials ?? [], [])
    const result = await mfa.verifyPasskeyAuthentication({ response: auth.get(usernameless) })
    assert.equal(result.ok && result.accountId, 'alice')
    const after = (await mfa.factors('alice')).passkeys[0]
    assert.ok(after?.lastUsedAt)
  })

  it('refuses a cloned authenticator whose counter goes backwards', async () => {
    const { mfa } = setup()
    const { auth } = await registered(mfa)
    const clone = auth.clone()
    for (let i = 0; i < 3; i++) {
      const o = await mfa.passkeyAuthenticationOptions({ accountId: 'alice' })
      assert.equal((await mfa.verifyPasskeyAuthentication({ response: auth.get(o) })).ok, true)
    }
    const o = await mfa.passkeyAuthenticationOptions({ accountId: 'alice' })
    assert.deepEqual(await mfa.verifyPasskeyAuthentication({ response: clone.get(o) }), {
      ok: false,
      reason: 'verification_failed',
    })
  })

  it('refuses another challenge, a replay, another origin or RP ID, a registration challenge', async () => {
    const { mfa } = setup()
    const { auth } = await registered(mfa)
    const fresh = () => mfa.passkeyAuthenticationOptions({ accountId: 'alice' })
    const verify = (response: unknown, extra = {}) =>
      mfa.verifyPasskeyAuthentication({ response, ...extra })
    const failed = (reason: string) => ({ ok: false, reason })

    assert.deepEqual(
      await verify(auth.get(await fresh(), { challenge: 'bm90LWlzc3VlZA' })),
      failed('challenge_invalid'),
    )
    const o = await fresh()
    const answer = auth.get(o)
    assert.equal((await verify(answer)).ok, true)
    assert.deepEqual(await verify(answer), failed('challenge_invalid'), 'replayed assertion')
    assert.deepEqual(
      await verify(auth.get(await fresh(), { origin: 'https://evil.test' })),
      failed('verification_failed'),
    )
    assert.deepEqual(
      await verify(auth.get(await fresh(), { rpId: 'evil.test' })),
      failed('verification_failed'),
    )
    assert.deepEqual(
      await verify(auth.get(await fresh(), { type: 'webauthn.create' })),
      failed('verification_failed'),
    )
    const reg = await mfa.passkeyRegistrationOptions({ accountId: 'alice', userName: 'alice' })
    assert.deepEqual(
      await verify(auth.get(await fresh(), { challenge: reg.challenge })),
      failed('challenge_invalid'),
    )
    // The account the caller names must own the passkey.
    assert.deepEqual(
      await verify(auth.get(await mfa.passkeyAuthenticationOptions()), { accountId: 'bob' }),
      failed('credential_unknown'),
    )
    // A challenge bound to one interaction does not serve another.
    const bound = await mfa.passkeyAuthenticationOptions({
      accountId: 'alice',
      binding: 'interaction-1',
    })
    assert.deepEqual(
      await verify(auth.get(bound), { binding: 'interaction-2' }),
      failed('challenge_invalid'),
    )
    const bound2 = await mfa.passkeyAuthenticationOptions({ binding: 'interaction-1' })
    assert.equal((await verify(auth.get(bound2), { binding: 'interaction-1' })).ok, true)
  })

  it('refuses hostile shapes without throwing', async () => {
    const { mfa } = setup()
    await registered(mfa)
    for (const response of [
      null,
      'x',
      42,
      {},
      { response: {} },
      { response: { clientDataJSON: '!!!' } },
      { id: 'a'.repeat(5000), response: { clientDataJSON: 'e30' } },
    ]) {
      assert.deepEqual(await mfa.verifyPasskeyAuthentication({ response }), {
        ok: false,
        reason: 'challenge_invalid',
      })
      assert.deepEqual(await mfa.verifyPasskeyRegistration({ accountId: 'alice', response }), {
        ok: false,
        reason: 'challenge_invalid',
      })
    }
    const o = await mfa.passkeyAuthenticationOptions()
    const auth = new SoftAuthenticator(ORIGIN)
    const stranger = auth.create(
      await mfa.passkeyRegistrationOptions({ accountId: 'eve', userName: 'eve' }),
    )
    void stranger
    const unknown = auth.get({ ...o, rpId: 'acme.test' })
    assert.deepEqual(await mfa.verifyPasskeyAuthentication({ response: unknown }), {
      ok: false,
      reason: 'credential_unknown',
    })
  })

  it('refuses registration for another origin, RP ID, account, or twice', async () => {
    const { mfa } = setup()
    const auth = new SoftAuthenticator(ORIGIN)
    const opts = () => mfa.passkeyRegistrationOptions({ accountId: 'alice', userName: 'alice' })
    const failed = (reason: string) => ({ ok: false, reason })
    assert.deepEqual(
      await mfa.verifyPasskeyRegistration({
        accountId: 'alice',
        response: auth.create(await opts(), { origin: 'https://evil.test' }),
      }),
      failed('verification_failed'),
    )
    assert.deepEqual(
      await mfa.verifyPasskeyRegistration({
        accountId: 'alice',
        response: auth.create(await opts(), { rpId: 'evil.test' }),
      }),
      failed('verification_failed'),
    )
    assert.deepEqual(
      await mfa.verifyPasskeyRegistration({
        accountId: 'bob',
        response: auth.create(await opts()),
      }),
      failed('challenge_invalid'),
    )
    const { credentialId } = await registered(mfa, 'alice', auth)
    const again = await opts()
    assert.deepEqual(
      again.excludeCredentials?.map((c) => c.id),
      [credentialId],
    )
    assert.equal((await mfa.factors('alice')).passkeys.length, 1)
  })

  it('marks synced passkeys as multiDevice, and removes them', async () => {
    const { mfa } = setup()
    const auth = new SoftAuthenticator(ORIGIN)
    const options = await mfa.passkeyRegistrationOptions({ accountId: 'alice', userName: 'alice' })
    const r = await mfa.verifyPasskeyRegistration({
      accountId: 'alice',
      response: auth.create(options, { synced: true }),
    })
    assert.equal(r.ok, true)
    const [p] = (await mfa.factors('alice')).passkeys
    assert.deepEqual([p?.deviceType, p?.backedUp, p?.name], ['multiDevice', true, 'Passkey'])
    assert.equal(await mfa.remove('alice', p?.id as string), true)
    const o = await mfa.passkeyAuthenticationOptions()
    assert.deepEqual(
      await mfa.verifyPasskeyAuthentication({ response: auth.get({ ...o, rpId: 'acme.test' }) }),
      {
        ok: false,
        reason: 'credential_unknown',
      },
    )
  })
})
