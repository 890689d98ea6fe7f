import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt, generateKeyPair, SignJWT } from 'jose'
import { OAuth2Flow } from '../../../src/client/oauth2-flow.ts'
import { encodeBase64url } from '../../../src/core/base64url.ts'
import { oidc } from '../../../src/providers/oidc.ts'
import { code } from '../../helpers/assert-code.ts'
import { CLIENT_ID, CLIENT_SECRET, createFakeOp, type FakeOp } from '../../helpers/fake-op.ts'
import { FAKE_PROVIDER, login, setup } from '../../helpers/flow-setup.ts'

const text = (value: unknown): string =>
  encodeBase64url(new TextEncoder().encode(JSON.stringify(value)))
const now = (): number => Math.floor(Date.now() / 1000)

describe('ID token validation', () => {
  const claimCases: [string, (c: Record<string, unknown>) => Record<string, unknown>, string][] = [
    ['wrong aud', (c) => ({ ...c, aud: 'another-client' }), 'id_token_claim_invalid'],
    [
      'several audiences without azp',
      (c) => ({ ...c, aud: [CLIENT_ID, 'other'] }),
      'id_token_claim_invalid',
    ],
    ['azp of another client', (c) => ({ ...c, azp: 'other' }), 'id_token_claim_invalid'],
    ['wrong iss', (c) => ({ ...c, iss: 'https://evil.example' }), 'id_token_claim_invalid'],
    ['wrong nonce', (c) => ({ ...c, nonce: 'A'.repeat(43) }), 'id_token_nonce_mismatch'],
    ['missing nonce', ({ nonce: _, ...c }) => c, 'id_token_nonce_mismatch'],
    ['expired', (c) => ({ ...c, iat: now() - 3600, exp: now() - 60 }), 'id_token_expired'],
    [
      'iat in the future',
      (c) => ({ ...c, iat: now() + 600, exp: now() + 900 }),
      'id_token_claim_invalid',
    ],
    ['nbf in the future', (c) => ({ ...c, nbf: now() + 600 }), 'id_token_claim_invalid'],
    ['missing sub', ({ sub: _, ...c }) => c, 'id_token_claim_invalid'],
    ['missing exp', ({ exp: _, ...c }) => c, 'id_token_claim_invalid'],
    [
      'at_hash of another token',
      (c) => ({ ...c, at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' }),
      'id_token_claim_invalid',
    ],
  ]
  for (const [label, idTokenClaims, expected] of claimCases) {
    it(`${label} → ${expected}`, async () => {
      const { op, flow } = await setup({ idTokenClaims })
      await assert.rejects(login(op, flow), code(expected as never))
      assert.equal(op.count('/userinfo'), 0)
    })
  }

  it('refuses an extra audience that is not trusted, even when azp is this client (OIDC Core §3.1.3.7)', async () => {
    const { op, flow } = await setup({
      idTokenClaims: (c) => ({ ...c, aud: [CLIENT_ID, 'api'], azp: CLIENT_ID }),
    })
    await assert.rejects(login(op, flow), code('id_token_claim_invalid'))
    assert.equal(op.count('/userinfo'), 0)
  })

  it('accepts extra audiences listed in trustedAudiences when azp is this client, and expiry within the leeway', async () => {
    const { op, flow } = await setup(
      {
        idTokenClaims: (c) => ({ ...c, aud: [CLIENT_ID, 'api'], azp: CLIENT_ID, exp: now() - 10 }),
      },
      { trustedAudiences: ['api'] },
    )
    const { tokens } = await login(op, flow)
    assert.equal(tokens.idTokenClaims?.azp, CLIENT_ID)
  })

  it('still needs azp with a trusted extra audience, and refuses one trusted and one not', async () => {
    for (const idTokenClaims of [
      (c: Record<string, unknown>) => ({ ...c, aud: [CLIENT_ID, 'api'] }),
      (c: Record<string, unknown>) => ({ ...c, aud: [CLIENT_ID, 'api', 'x'], azp: CLIENT_ID }),
      (c: Record<string, unknown>) => ({ ...c, aud: ['api'], azp: CLIENT_ID }),
    ]) {
      const { op, flow } = await setup({ idTokenClaims }, { trustedAudiences: ['api'] })
      await assert.rejects(login(op, flow), code('id_token_claim_invalid'))
    }
  })

  it('takes trustedAudiences through the provider descriptors', () => {
    const config = oidc({
      issuer: 'https://id.example',
      clientId: 'web',
      redirectUri: 'https://app.example/cb',
      trustedAudiences: ['https://api.example'],
    })
    assert.deepEqual(config.trustedAudiences, ['https://api.example'])
  })

  it('checks trustedAudiences at configuration', () => {
    for (const trustedAudiences of [[''], 'api', [1]]) {
      assert.throws(
        () => new OAuth2Flow({ ...FAKE_PROVIDER, trustedAudiences } as never),
        code('config_invalid'),
      )
    }
  })

  it('refuses alg "none" → id_token_alg_unsupported', async () => {
    const { op, flow } = await setup({
      tokenResponse: (b) => {
        const claims = decodeJwt(b.id_token as string)
        return { ...b, id_token: `${text({ alg: 'none' })}.${text(claims)}.` }
      },
    })
    await assert.rejects(login(op, flow), code('id_token_alg_unsupported'))
  })

  it('refuses HS256 signed with a guessable key → id_token_alg_unsupported', async () => {
    const { op, flow } = await setup({
      tokenResponse: async (b) => {
        const claims = decodeJwt(b.id_token as string)
        const forged = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(CLIENT_SECRET))
        return { ...b, id_token: forged }
      },
    })
    await assert.rejects(login(op, flow), code('id_token_alg_unsupported'))
  })

  it('refuses a token signed by another key under the same kid → id_token_signature_invalid', async () => {
    const attacker = await generateKeyPair('ES256')
    let op: FakeOp | undefined
    const setupResult = await setup({
      tokenResponse: async (b) => {
        const claims = decodeJwt(b.id_token as string)
        const forged = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: op?.kid() ?? '' })
          .sign(attacker.privateKey)
        return { ...b, id_token: forged }
      },
    })
    op = setupResult.op
    await assert.rejects(
      login(setupResult.op, setupResult.flow),
      code('id_token_signature_invalid'),
    )
  })

  it('refuses a token that is not a JWT → id_token_invalid', async () => {
    const { op, flow } = await setup({ tokenResponse: (b) => ({ ...b, id_token: 'not.a.jwt' }) })
    await assert.rejects(login(op, flow), code('id_token_invalid'))
  })

  it('unknown kid: one JWKS refetch, then none during the cooldown → id_token_key_not_found', async () => {
    const { op, flow } = await setup({ idTokenHeader: () => ({ kid: 'unknown-kid' }) })
    await assert.rejects(login(op, flow), code('id_token_key_not_found'))
    assert.equal(op.count('/jwks'), 1)
    await assert.rejects(login(op, flow), code('id_token_key_not_found'))
    assert.equal(op.count('/jwks'), 1, 'no refetch inside the cooldown')
  })

  it('picks up a rotated key by refetching the JWKS once the cooldown has passed', async () => {
    const { op, flow } = await setup({}, {}, { jwks: { cooldownMs: 0 } })
    await login(op, flow)
    assert.equal(op.count('/jwks'), 1)
    await login(op, flow)
    assert.equal(op.count('/jwks'), 1, 'cached keys reused')
    await op.rotateKey()
    await login(op, flow)
    assert.equal(op.count('/jwks'), 2)
  })

  it('maps an unreachable JWKS endpoint to provider_unreachable', async () => {
    const { op, flow } = await setup(
      {},
      {},
      {},
      (opFetch) =>
        (async (input, init) => {
          if (String(input).endsWith('/jwks')) throw new TypeError('fetch failed')
          return opFetch(input, init)
        }) as typeof fetch,
    )
    await assert.rejects(login(op, flow), code('provider_unreachable'))
  })

  it('does not hammer a failing JWKS: one fetch per backoff, whatever the number of logins', async () => {
    let offset = 0
    let jwksCalls = 0
    const { op, flow } = await setup(
      {},
      {},
      { clock: { now: () => Date.now() + offset } },
      (opFetch) =>
        (async (input, init) => {
          if (String(input).endsWith('/jwks')) {
            jwksCalls++
            return new Response('down', { status: 503 })
          }
          return opFetch(input, init)
        }) as typeof fetch,
    )
    for (let i = 0; i < 5; i++) await assert.rejects(login(op, flow), code('provider_bad_response'))
    assert.equal(jwksCalls, 1, 'backing off: the failure again, no new fetch')
    offset += 1_000
    await assert.rejects(login(op, flow), code('provider_bad_response'))
    assert.equal(jwksCalls, 2)
  })

  it('maps a JWKS that is not a key set to provider_bad_response', async () => {
    const { op, flow } = await setup(
      {},
      {},
      {},
      (opFetch) =>
        (async (input, init) => {
          if (String(input).endsWith('/jwks')) return new Response('{"keys":"nope"}')
          return opFetch(input, init)
        }) as typeof fetch,
    )
    await assert.rejects(login(op, flow), code('provider_bad_response'))
  })

  it('accepts an issuer alias only when the provider declares it', async () => {
    const op = await createFakeOp({ idTokenClaims: (c) => ({ ...c, iss: 'op.example' }) })
    await assert.rejects(
      login(op, new OAuth2Flow(FAKE_PROVIDER, { fetch: op.fetch })),
      code('id_token_claim_invalid'),
    )
    const aliased = new OAuth2Flow(
      { ...FAKE_PROVIDER, quirks: { idTokenIssuerAliases: ['op.example'] } },
      { fetch: op.fetch },
    )
    const { identity } = await login(op, aliased)
    assert.equal(identity.subject, 'user-42')
  })

  it('restricts algorithms to the configured allow-list', async () => {
    const { op, flow } = await setup({}, { idTokenAlgorithms: ['RS256'] })
    await assert.rejects(login(op, flow), code('id_token_alg_unsupported'))
  })
})
