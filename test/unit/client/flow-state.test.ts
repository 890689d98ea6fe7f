import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CompactEncrypt } from 'jose'
import {
  type FlowState,
  openFlowState,
  sealedAt,
  sealFlowState,
} from '../../../src/client/flow-state.ts'
import { createKeyring } from '../../../src/core/keyring.ts'
import { generateDpopKey } from '../../../src/dpop/key.ts'
import { code } from '../../helpers/assert-code.ts'

const SECRET = 'flow-state-test-secret-of-32-bytes-or-more'
const OLD = 'the-previous-secret-which-is-also-long-enough'
const keys = createKeyring(SECRET)

function flowState(now = Date.now()): FlowState {
  return {
    providerId: 'github',
    state: 'state-value-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    nonce: 'nonce-value',
    codeVerifier: 'v'.repeat(43),
    redirectUri: 'https://app.example/auth/callback/github',
    scopes: ['read:user'],
    returnTo: '/dashboard',
    expiresAt: now + 600_000,
  }
}

function flip(sealed: string, part: number): string {
  const parts = sealed.split('.')
  const target = parts[part] as string
  const c = target[5] === 'A' ? 'B' : 'A'
  parts[part] = target.slice(0, 5) + c + target.slice(6)
  return parts.join('.')
}

describe('sealFlowState / openFlowState', () => {
  it('round-trips and hides every secret value', async () => {
    const fs = flowState()
    const sealed = await sealFlowState(fs, { keys })
    for (const secret of [fs.state, fs.nonce, fs.codeVerifier as string, 'dashboard']) {
      assert.ok(!sealed.includes(secret))
    }
    assert.ok(sealed.length < 1024)
    assert.deepEqual(await openFlowState(sealed, { keys, providerId: 'github' }), fs)
  })

  it('stays small, and tells when it was sealed without being opened (sealedAt)', async () => {
    const now = Date.UTC(2026, 0, 1)
    const sealed = await sealFlowState(
      { ...flowState(now), maxAge: 300 },
      { keys, clock: { now: () => now } },
    )
    assert.ok(sealed.length < 600, `sealed flow state is ${sealed.length} characters`)
    assert.equal(sealedAt(sealed), now)
    assert.equal(
      (await openFlowState(sealed, { keys, providerId: 'github', clock: { now: () => now } }))
        .maxAge,
      300,
    )
    for (const junk of ['', 'a.b.c.d.e', 'garbage', `${'x'.repeat(5000)}`, flip(sealed, 0)])
      assert.equal(sealedAt(junk), undefined)
  })

  it('opens states sealed with an older secret after rotation; seals with the newest', async () => {
    const sealedOld = await sealFlowState(flowState(), { keys: createKeyring(OLD) })
    const rotated = createKeyring([SECRET, OLD])
    await openFlowState(sealedOld, { keys: rotated, providerId: 'github' })
    const sealedNew = await sealFlowState(flowState(), { keys: rotated })
    await openFlowState(sealedNew, { keys: createKeyring(SECRET), providerId: 'github' })
    await assert.rejects(
      openFlowState(sealedNew, { keys: createKeyring(OLD), providerId: 'github' }),
      code('flow_state_key_unknown'),
    )
  })

  it('tells apart tampered, foreign-key, malformed, expired and wrong-provider states', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const sealed = await sealFlowState(flowState(now), { keys, clock })
    const open = (value: string, providerId = 'github') =>
      openFlowState(value, { keys, providerId, clock })
    await assert.rejects(open(flip(sealed, 4)), code('flow_state_tampered')) // tag
    await assert.rejects(open(flip(sealed, 3)), code('flow_state_tampered')) // ciphertext
    await assert.rejects(open(flip(sealed, 2)), code('flow_state_tampered')) // iv
    await assert.rejects(
      openFlowState(await sealFlowState(flowState(now), { keys: createKeyring(OLD) }), {
        keys,
        providerId: 'github',
      }),
      code('flow_state_key_unknown'),
    )
    for (const junk of [
      '',
      'abc',
      'a.b.c.d.e',
      sealed.slice(0, -3),
      `${sealed}.x`,
      'x'.repeat(5000),
    ]) {
      await assert.rejects(open(junk), code('flow_state_malformed'))
    }
    await assert.rejects(open(sealed, 'google'), code('flow_state_provider_mismatch'))
    now += 600_000
    await assert.rejects(open(sealed), code('flow_state_expired'))
  })

  it('caps the life of a sealed state at 10 minutes whatever expiresAt says', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const sealed = await sealFlowState(
      { ...flowState(now), expiresAt: now + 3_600_000 },
      { keys, clock },
    )
    now += 600_001
    await assert.rejects(
      openFlowState(sealed, { keys, providerId: 'github', clock }),
      code('flow_state_expired'),
    )
  })

  it('refuses a JWE with our key but another header or content (no exception leaks)', async () => {
    const [current] = await keys.keys('flow-state')
    assert.ok(current)
    const wrongTyp = await new CompactEncrypt(new TextEncoder().encode('{}'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
      .encrypt(current.key)
    await assert.rejects(
      openFlowState(wrongTyp, { keys, providerId: 'github' }),
      code('flow_state_malformed'),
    )
    const now = Math.floor(Date.now() / 1000)
    const badShape = await new CompactEncrypt(
      new TextEncoder().encode(
        JSON.stringify({ iat: now, exp: now + 60, fs: { providerId: 'github' } }),
      ),
    )
      .setProtectedHeader({
        alg: 'dir',
        enc: 'A256GCM',
        kid: current.kid,
        typ: 'authkestra-flow+jwt',
      })
      .encrypt(current.key)
    await assert.rejects(
      openFlowState(badShape, { keys, providerId: 'github' }),
      code('flow_state_malformed'),
    )
  })

  it('two concurrent logins produce two independent sealed states', async () => {
    const a = await sealFlowState({ ...flowState(), state: 'a'.repeat(43) }, { keys })
    const b = await sealFlowState({ ...flowState(), state: 'b'.repeat(43) }, { keys })
    assert.equal((await openFlowState(a, { keys, providerId: 'github' })).state, 'a'.repeat(43))
    assert.equal((await openFlowState(b, { keys, providerId: 'github' })).state, 'b'.repeat(43))
  })

  it('seals an extractable DPoP key (a push key) inside the state, never in clear', async () => {
    const dpopKey = await generateDpopKey({ extractable: true })
    const sealed = await sealFlowState({ ...flowState(), dpopKey }, { keys })
    const d = (await crypto.subtle.exportKey('jwk', dpopKey.privateKey)).d ?? ''
    assert.ok(d.length > 0 && !sealed.includes(d))
    const opened = await openFlowState(sealed, { keys, providerId: 'github' })
    assert.equal(opened.dpopKey?.thumbprint, dpopKey.thumbprint)
    assert.equal(opened.dpopKey?.privateKey.extractable, true)
    // Without a key, none comes back.
    const plain = await openFlowState(await sealFlowState(flowState(), { keys }), {
      keys,
      providerId: 'github',
    })
    assert.equal(plain.dpopKey, undefined)
    // A non-extractable key cannot be sealed.
    await assert.rejects(
      sealFlowState({ ...flowState(), dpopKey: await generateDpopKey() }, { keys }),
      code('config_invalid'),
    )
  })

  it('refuses a sealed DPoP key that is not one (flow_state_malformed)', async () => {
    const [current] = await keys.keys('flow-state')
    assert.ok(current)
    const now = Date.now()
    const base = {
      p: 'github',
      s: 's',
      n: 'n',
      r: 'https://app.example/cb',
      sc: [],
      e: now + 60_000,
    }
    for (const k of [{ a: 'ES256', j: { kty: 'EC' } }, { a: 'HS256', j: {} }, 'key']) {
      const sealed = await new CompactEncrypt(
        new TextEncoder().encode(JSON.stringify({ ...base, k })),
      )
        .setProtectedHeader({
          alg: 'dir',
          enc: 'A256GCM',
          kid: current.kid,
          typ: 'authkestra-flow+jwt',
        })
        .encrypt(current.key)
      await assert.rejects(
        openFlowState(sealed, { keys, providerId: 'github' }),
        code('flow_state_malformed'),
        JSON.stringify(k),
      )
    }
  })
})
