// Refresh-token policy per client: rotate (reuse revokes the family, also for a concurrent
// double use), rotate-with-grace (a rotated token again within the window: a new pair of the
// same family; after it: reuse revokes), none (the token stays, no successor; only for
// sender-constrained clients). Refusals answer the exact error, store nothing new and never
// echo the presented token.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { AuthkestraError } from '../../src/core/errors.ts'
import type { OpClientConfig, OpConfig } from '../../src/op/config.ts'
import type { OpStore } from '../../src/op/store/types.ts'
import { secretId } from '../../src/op/tokens/secrets.ts'
import { type PolicyOp, policyOp } from './helpers/policy-op.ts'

const ops: PolicyOp[] = []
after(() => {
  for (const op of ops) op.close()
})
async function open(
  clients: readonly OpClientConfig[],
  extra: Partial<OpConfig> = {},
  wrap?: (store: OpStore) => OpStore,
) {
  const op = await policyOp(clients, { signingAlgs: ['ES256'], ...extra }, wrap)
  ops.push(op)
  return op
}

const confidential = (id: string, policy: Partial<OpClientConfig> = {}): OpClientConfig => ({
  client_id: id,
  client_secret: `${id}-secret-0123456789abcdefghijklmnopqrstuv`,
  redirect_uris: ['https://rp.example/callback'],
  ...policy,
})
const publicClient = (id: string, policy: Partial<OpClientConfig> = {}): OpClientConfig => ({
  client_id: id,
  redirect_uris: ['https://rp.example/callback'],
  ...policy,
})

const refresh = (op: PolicyOp, clientId: string, token: string, extra = {}) =>
  op.token(clientId, { grant_type: 'refresh_token', refresh_token: token, ...extra })

/** Whether the OP still accepts an access token (its own verification, revocation included). */
async function accessLive(op: PolicyOp, token: string): Promise<boolean> {
  const { verifyAccessToken } = await import('../../src/op/tokens/jwt.ts')
  const deps = {
    keys: op.runtime.keys,
    issuer: op.runtime.settings.issuer,
    clock: op.clock,
    store: op.store,
    audience: op.runtime.settings.audience,
  }
  return (await verifyAccessToken(token, deps)) !== undefined
}

/** The grant (family) a refresh token belongs to, when it is stored. */
async function familyOf(op: PolicyOp, token: string): Promise<string | undefined> {
  return (await op.store.get('refresh', await secretId(token)))?.grantId
}

/** A refusal: the exact status and error, nothing stored, the token not echoed. */
async function assertRefused(
  op: PolicyOp,
  attempt: () => Promise<{ status: number; text: string; body: Record<string, unknown> }>,
  token: string,
  error: string,
): Promise<void> {
  const before = op.store.size()
  const result = await attempt()
  assert.equal(result.status, 400)
  assert.equal(result.body.error, error)
  assert.ok(!result.text.includes(token), 'the presented token is not echoed')
  assert.ok(op.store.size() <= before, 'nothing stored by a refusal')
}

describe("refresh policy 'rotate' (default)", () => {
  it('reuse of a rotated token revokes the family, even a second later', async () => {
    const op = await open([confidential('c')])
    const first = await op.signIn('c')
    const t0 = String(first.refresh_token)
    const r1 = await refresh(op, 'c', t0)
    assert.equal(r1.status, 200)
    const t1 = String(r1.body.refresh_token)
    assert.notEqual(t1, t0)
    op.clock.advance(1)
    await assertRefused(op, () => refresh(op, 'c', t0), t0, 'invalid_grant')
    assert.equal((await refresh(op, 'c', t1)).body.error, 'invalid_grant', 'family revoked')
    assert.equal(await accessLive(op, String(r1.body.access_token)), false)
  })

  it('a concurrent double use hands out nothing usable', async () => {
    const op = await open([confidential('c')])
    const t0 = String((await op.signIn('c')).refresh_token)
    const results = await Promise.all([refresh(op, 'c', t0), refresh(op, 'c', t0)])
    assert.ok(results.some((r) => r.status === 400 && r.body.error === 'invalid_grant'))
    for (const r of results) {
      if (r.status !== 200) continue
      assert.equal(await accessLive(op, String(r.body.access_token)), false)
      assert.equal((await refresh(op, 'c', String(r.body.refresh_token))).status, 400)
    }
  })
})

describe("refresh policy 'rotate-with-grace'", () => {
  const graceClient = confidential('g', {
    refresh_token_rotation: 'rotate-with-grace',
    refresh_token_grace_seconds: 5,
  })

  it('a rotated token within the window gets a new pair of the same family, nothing revoked', async () => {
    const op = await open([graceClient])
    const first = await op.signIn('g')
    const t0 = String(first.refresh_token)
    const family = await familyOf(op, t0)
    const r1 = await refresh(op, 'g', t0)
    assert.equal(r1.status, 200)
    op.clock.advance(4)
    const r2 = await refresh(op, 'g', t0)
    assert.equal(r2.status, 200, r2.text)
    const [t1, t2] = [String(r1.body.refresh_token), String(r2.body.refresh_token)]
    assert.notEqual(t1, t2, 'a new successor, not the same one')
    assert.equal(await familyOf(op, t1), family)
    assert.equal(await familyOf(op, t2), family)
    assert.equal(await accessLive(op, String(r1.body.access_token)), true)
    assert.equal(await accessLive(op, String(r2.body.access_token)), true)
    // Both successors work (each then rotates normally).
    assert.equal((await refresh(op, 'g', t1)).status, 200)
    assert.equal((await refresh(op, 'g', t2)).status, 200)
  })

  it('after the window, reuse revokes the whole family again', async () => {
    const op = await open([graceClient])
    const t0 = String((await op.signIn('g')).refresh_token)
    const r1 = await refresh(op, 'g', t0)
    const t1 = String(r1.body.refresh_token)
    op.clock.advance(6)
    await assertRefused(op, () => refresh(op, 'g', t0), t0, 'invalid_grant')
    assert.equal((await refresh(op, 'g', t1)).body.error, 'invalid_grant')
    assert.equal(await accessLive(op, String(r1.body.access_token)), false)
  })

  it('the window does not slide: a grace use does not restart it', async () => {
    const op = await open([graceClient])
    const t0 = String((await op.signIn('g')).refresh_token)
    assert.equal((await refresh(op, 'g', t0)).status, 200)
    op.clock.advance(4)
    assert.equal((await refresh(op, 'g', t0)).status, 200)
    op.clock.advance(2) // 6 s after the rotation, 2 s after the grace use
    assert.equal((await refresh(op, 'g', t0)).body.error, 'invalid_grant')
  })

  it('two parallel refreshes with one token both succeed, in the one family', async () => {
    const op = await open([graceClient])
    const t0 = String((await op.signIn('g')).refresh_token)
    const family = await familyOf(op, t0)
    const results = await Promise.all([refresh(op, 'g', t0), refresh(op, 'g', t0)])
    for (const r of results) {
      assert.equal(r.status, 200, r.text)
      assert.equal(await familyOf(op, String(r.body.refresh_token)), family)
    }
    // Revoking the family (a later reuse) kills both successors: no second family got out.
    op.clock.advance(6)
    assert.equal((await refresh(op, 'g', t0)).body.error, 'invalid_grant')
    for (const r of results) {
      assert.equal((await refresh(op, 'g', String(r.body.refresh_token))).status, 400)
      assert.equal(await accessLive(op, String(r.body.access_token)), false)
    }
  })

  it('the same, over a store whose writes are slow (the loser of consume finds the mark)', async () => {
    // A database store: the marker write takes time. Were it written after `consume`, the loser
    // of the race would look for it too early and revoke the family.
    const slowWrites = (store: OpStore): OpStore => ({
      ...store,
      set: async (kind, id, value, options) => {
        if (kind === 'revocation') await new Promise((r) => setTimeout(r, 20))
        return store.set(kind, id, value, options)
      },
    })
    const op = await open([graceClient], {}, slowWrites)
    const t0 = String((await op.signIn('g')).refresh_token)
    const results = await Promise.all([refresh(op, 'g', t0), refresh(op, 'g', t0)])
    for (const r of results) assert.equal(r.status, 200, r.text)
  })

  it('a grace use still checks the client and the scope', async () => {
    const op = await open([graceClient, confidential('other')])
    const t0 = String((await op.signIn('g')).refresh_token)
    assert.equal((await refresh(op, 'g', t0)).status, 200)
    await assertRefused(
      op,
      () => refresh(op, 'g', t0, { scope: 'openid profile email' }),
      t0,
      'invalid_scope',
    )
    // Another client presenting it is not in the owner's grace: refused, and the family is
    // revoked as a reuse would be.
    await assertRefused(op, () => refresh(op, 'other', t0), t0, 'invalid_grant')
  })

  it('defaults: 10 s, from the OP-wide refreshTokens', async () => {
    const op = await open([confidential('d')], { refreshTokens: { rotation: 'rotate-with-grace' } })
    const record = await op.store.get('client', 'd')
    assert.equal(record?.refreshTokenRotation, 'rotate-with-grace')
    assert.equal(record?.refreshTokenGraceSeconds, 10)
    const t0 = String((await op.signIn('d')).refresh_token)
    assert.equal((await refresh(op, 'd', t0)).status, 200)
    op.clock.advance(10)
    assert.equal((await refresh(op, 'd', t0)).status, 200)
    op.clock.advance(1)
    assert.equal((await refresh(op, 'd', t0)).body.error, 'invalid_grant')
  })
})

describe("refresh policy 'none'", () => {
  it('the token stays valid, no successor is issued, parallel uses all succeed', async () => {
    const op = await open([confidential('n', { refresh_token_rotation: 'none' })])
    const t0 = String((await op.signIn('n')).refresh_token)
    const results = await Promise.all([refresh(op, 'n', t0), refresh(op, 'n', t0)])
    for (const r of results) {
      assert.equal(r.status, 200, r.text)
      assert.equal(r.body.refresh_token, undefined, 'no new refresh token (RFC 6749 §6)')
      assert.equal(await accessLive(op, String(r.body.access_token)), true)
    }
    op.clock.advance(3600)
    assert.equal((await refresh(op, 'n', t0)).status, 200)
    assert.equal(await op.store.get('revocation', `refresh:${await secretId(t0)}`), undefined)
  })

  it('ends with the family: refused after its absolute expiry', async () => {
    const op = await open([confidential('n', { refresh_token_rotation: 'none' })], {
      ttl: { refreshToken: 120 },
    })
    const t0 = String((await op.signIn('n')).refresh_token)
    op.clock.advance(121)
    await assertRefused(op, () => refresh(op, 'n', t0), t0, 'invalid_grant')
  })

  it('is refused at start for a public client without DPoP, allowed with it', async () => {
    await assert.rejects(
      policyOp([publicClient('p', { refresh_token_rotation: 'none' })]),
      /"clients\[0\]\.refresh_token_rotation" can be "none" only for a confidential client or one with dpop_bound_access_tokens/,
    )
    const op = await open([
      publicClient('p', { refresh_token_rotation: 'none', dpop_bound_access_tokens: true }),
    ])
    assert.equal((await op.store.get('client', 'p'))?.refreshTokenRotation, 'none')
  })

  it('OP-wide none falls back to rotate, with a warning, for a client that does not qualify', async () => {
    const op = await open([confidential('c'), publicClient('p')], {
      refreshTokens: { rotation: 'none' },
    })
    assert.equal((await op.store.get('client', 'c'))?.refreshTokenRotation, 'none')
    assert.equal((await op.store.get('client', 'p'))?.refreshTokenRotation, undefined)
    assert.ok(op.warnings.some((w) => w.includes('"p"') && w.includes('rotate')))
  })
})

describe('refresh policy: configuration errors name the field', () => {
  const cases: [string, OpClientConfig, Partial<OpConfig>, RegExp][] = [
    [
      'unknown rotation',
      confidential('a', { refresh_token_rotation: 'sometimes' as 'none' }),
      {},
      /"clients\[0\]\.refresh_token_rotation" must be one of rotate, rotate-with-grace, none/,
    ],
    [
      'grace 0',
      confidential('a', {
        refresh_token_rotation: 'rotate-with-grace',
        refresh_token_grace_seconds: 0,
      }),
      {},
      /"clients\[0\]\.refresh_token_grace_seconds" must be an integer from 1 to 60/,
    ],
    [
      'grace 61',
      confidential('a', {
        refresh_token_rotation: 'rotate-with-grace',
        refresh_token_grace_seconds: 61,
      }),
      {},
      /"clients\[0\]\.refresh_token_grace_seconds"/,
    ],
    [
      'grace without rotate-with-grace',
      confidential('a', { refresh_token_grace_seconds: 5 }),
      {},
      /"clients\[0\]\.refresh_token_grace_seconds" needs "rotate-with-grace"/,
    ],
    [
      'OP-wide unknown',
      confidential('a'),
      { refreshTokens: { rotation: 'x' as 'none' } },
      /"refreshTokens\.rotation"/,
    ],
    [
      'OP-wide grace 1.5',
      confidential('a'),
      { refreshTokens: { graceSeconds: 1.5 } },
      /"refreshTokens\.graceSeconds"/,
    ],
  ]
  for (const [name, c, extra, message] of cases) {
    it(name, async () => {
      await assert.rejects(policyOp([c], extra), (err: unknown) => {
        assert.ok(err instanceof AuthkestraError)
        assert.equal(err.code, 'config_invalid')
        assert.match(err.message, message)
        return true
      })
    })
  }
})
