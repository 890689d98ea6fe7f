import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OAuth2Flow } from '../../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../../src/client/provider-config.ts'
import { Pkce } from '../../../src/core/pkce.ts'
import { code } from '../../helpers/assert-code.ts'
import { CLIENT_ID, type FakeOpOptions, ISSUER, REDIRECT_URI } from '../../helpers/fake-op.ts'
import { setup } from '../../helpers/flow-setup.ts'

describe('OAuth2Flow.initiateLogin', () => {
  it('builds an authorization URL with PKCE S256, state, nonce and the client parameters', async () => {
    const { flow } = await setup()
    const { url, flowState } = await flow.initiateLogin({ returnTo: '/after' })
    const p = url.searchParams
    assert.equal(url.origin + url.pathname, `${ISSUER}/authorize`)
    assert.equal(p.get('response_type'), 'code')
    assert.equal(p.get('client_id'), CLIENT_ID)
    assert.equal(p.get('redirect_uri'), REDIRECT_URI)
    assert.equal(p.get('scope'), 'openid profile email')
    assert.equal(p.get('code_challenge_method'), 'S256')
    assert.equal(p.get('state'), flowState.state)
    assert.equal(p.get('nonce'), flowState.nonce)
    assert.ok(flowState.codeVerifier)
    assert.equal(p.get('code_challenge'), await Pkce.challenge(flowState.codeVerifier))
    // the verifier itself never leaves in the authorization request
    assert.ok(!url.href.includes(flowState.codeVerifier))
    assert.equal(flowState.returnTo, '/after')
    assert.equal(flowState.providerId, 'fake')
    const ttl = flowState.expiresAt - Date.now()
    assert.ok(ttl > 590_000 && ttl <= 600_000, `ttl ${ttl}`)
  })

  it('draws state and nonce with 256 bits each, fresh every login', async () => {
    const { flow } = await setup()
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const { flowState } = await flow.initiateLogin()
      assert.match(flowState.state, /^[A-Za-z0-9_-]{43}$/)
      assert.match(flowState.nonce, /^[A-Za-z0-9_-]{43}$/)
      seen
        .add(flowState.state)
        .add(flowState.nonce)
        .add(flowState.codeVerifier ?? '')
    }
    assert.equal(seen.size, 150)
  })

  it('adds extra parameters but refuses to let them replace protocol ones', async () => {
    const { flow } = await setup()
    const { url } = await flow.initiateLogin({
      extraParams: { prompt: 'login', login_hint: 'a@b' },
    })
    assert.equal(url.searchParams.get('prompt'), 'login')
    for (const name of [
      'state',
      'code_challenge',
      'code_challenge_method',
      'redirect_uri',
      'nonce',
    ]) {
      await assert.rejects(
        flow.initiateLogin({ extraParams: { [name]: 'x' } }),
        code('config_invalid'),
      )
    }
  })

  it('sends no nonce without openid, and no PKCE only with the named unsafe option', async () => {
    const { flow } = await setup({}, { scopes: ['read'] })
    const { url } = await flow.initiateLogin()
    assert.equal(url.searchParams.get('nonce'), null)
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
    const unsafe = (await setup({}, { pkce: 'disabled-unsafe' })).flow
    const start = await unsafe.initiateLogin()
    assert.equal(start.url.searchParams.get('code_challenge'), null)
    assert.equal(start.flowState.codeVerifier, undefined)
  })

  it('refuses a provider that does not list S256', async () => {
    const { flow } = await setup({
      discovery: (doc) => ({ ...doc, code_challenge_methods_supported: ['plain'] }),
    })
    await assert.rejects(flow.initiateLogin(), code('discovery_invalid'))
  })
})

describe('OAuth2Flow.finalizeLogin (happy paths)', () => {
  for (const [label, config] of [
    ['client_secret_basic', {}],
    ['client_secret_post', { clientAuthMethod: 'client_secret_post' }],
    ['public client (none)', { clientId: 'public-client', clientSecret: undefined }],
  ] as const) {
    it(`logs in with ${label}: code + verifier exchanged, ID token and userinfo checked`, async () => {
      const { op, flow } = await setup({}, config as Partial<ProviderConfig>)
      const { url, flowState } = await flow.initiateLogin()
      const callback = await op.authorize(url)
      const { identity, tokens } = await flow.finalizeLogin(callback.href, flowState)
      assert.deepEqual(
        { ...identity, claims: undefined },
        {
          provider: 'fake',
          issuer: ISSUER,
          subject: 'user-42',
          email: 'alice@example.com',
          emailVerified: true,
          name: 'Alice',
          username: 'alice',
          picture: 'https://img.example/a.png',
          claims: undefined,
        },
      )
      assert.equal(tokens.tokenType, 'Bearer')
      assert.equal(tokens.idTokenClaims?.nonce, flowState.nonce)
      assert.deepEqual(tokens.scope, ['openid', 'profile', 'email'])
      const tokenRequest = op.requests.find((r) => new URL(r.url).pathname === '/token')
      const form = new URLSearchParams(await tokenRequest?.text())
      assert.equal(form.get('code_verifier'), flowState.codeVerifier)
      assert.equal(form.get('grant_type'), 'authorization_code')
      assert.equal(form.get('redirect_uri'), REDIRECT_URI)
    })
  }

  it('accepts the callback as URL or URLSearchParams', async () => {
    const { op, flow } = await setup()
    const a = await flow.initiateLogin()
    await flow.finalizeLogin(await op.authorize(a.url), a.flowState)
    const b = await flow.initiateLogin()
    await flow.finalizeLogin((await op.authorize(b.url)).searchParams, b.flowState)
  })
})

describe('OAuth2Flow.finalizeLogin (hostile callbacks: nothing is sent to the token endpoint)', () => {
  const long = 'x'.repeat(5000)
  const cases: [string, (cb: URL) => void, string, string?][] = [
    ['missing code', (cb) => cb.searchParams.delete('code'), 'callback_invalid'],
    ['empty code', (cb) => cb.searchParams.set('code', ''), 'callback_invalid'],
    ['missing state', (cb) => cb.searchParams.delete('state'), 'callback_invalid'],
    ['duplicated code', (cb) => cb.searchParams.append('code', 'other'), 'callback_invalid'],
    ['duplicated state', (cb) => cb.searchParams.append('state', 'other'), 'callback_invalid'],
    ['duplicated iss', (cb) => cb.searchParams.append('iss', ISSUER), 'callback_invalid'],
    ['oversized code', (cb) => cb.searchParams.set('code', long), 'callback_invalid'],
    ['oversized state', (cb) => cb.searchParams.set('state', long), 'callback_invalid'],
    [
      'oversized query',
      (cb) => {
        for (let i = 0; i < 10; i++) cb.searchParams.set(`p${i}`, long.slice(0, 2000))
      },
      'callback_invalid',
    ],
    ['wrong state', (cb) => cb.searchParams.set('state', 'A'.repeat(43)), 'state_mismatch'],
    [
      'state of another login',
      (cb) => {
        // the same state but for its last character: still refused
        const state = cb.searchParams.get('state') ?? ''
        cb.searchParams.set('state', `${state.slice(0, 42)}${state.endsWith('Q') ? 'R' : 'Q'}`)
      },
      'state_mismatch',
    ],
    ['wrong iss', (cb) => cb.searchParams.set('iss', 'https://evil.example'), 'issuer_mismatch'],
    [
      'iss with trailing slash',
      (cb) => cb.searchParams.set('iss', `${ISSUER}/`),
      'issuer_mismatch',
    ],
    [
      'missing iss where the provider promised it',
      (cb) => cb.searchParams.delete('iss'),
      'issuer_missing',
    ],
    [
      'error=access_denied',
      (cb) => {
        cb.searchParams.delete('code')
        cb.searchParams.set('error', 'access_denied')
      },
      'authorization_error',
      'access_denied',
    ],
    [
      'error without state (RFC 6749 §4.1.2.1 requires it)',
      (cb) => {
        cb.searchParams.delete('code')
        cb.searchParams.delete('state')
        cb.searchParams.set('error', 'login_required')
      },
      'callback_invalid',
    ],
    [
      'error with a wrong state',
      (cb) => {
        cb.searchParams.set('error', 'access_denied')
        cb.searchParams.set('state', 'forged')
      },
      'state_mismatch',
    ],
    [
      'error with a wrong iss',
      (cb) => {
        cb.searchParams.set('error', 'access_denied')
        cb.searchParams.set('iss', 'https://evil.example')
      },
      'issuer_mismatch',
    ],
    [
      'error with illegal characters',
      (cb) => {
        cb.searchParams.set('error', 'bad"value')
      },
      'callback_invalid',
    ],
  ]
  for (const [label, mutate, expected, oauthError] of cases) {
    it(`${label} → ${expected}`, async () => {
      const { op, flow } = await setup()
      const { url, flowState } = await flow.initiateLogin()
      const callback = await op.authorize(url)
      mutate(callback)
      await assert.rejects(
        flow.finalizeLogin(callback.href, flowState),
        code(expected as never, oauthError),
      )
      assert.equal(op.count('/token'), 0)
    })
  }

  it('carries the provider error_description', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const cb = await op.authorize(url, {
      error: 'access_denied',
      error_description: 'User said no',
    })
    cb.searchParams.delete('code')
    await assert.rejects(
      flow.finalizeLogin(cb, flowState),
      (err: { oauthErrorDescription?: string }) => {
        assert.equal(err.oauthErrorDescription, 'User said no')
        return true
      },
    )
  })

  it('refuses an expired flow state, and one from another provider', async () => {
    let now = Date.now()
    const { op, flow } = await setup({}, {}, { clock: { now: () => now } })
    const { url, flowState } = await flow.initiateLogin()
    const callback = await op.authorize(url)
    await assert.rejects(
      flow.finalizeLogin(callback, { ...flowState, providerId: 'other' }),
      code('flow_state_provider_mismatch'),
    )
    now += 600_001
    await assert.rejects(flow.finalizeLogin(callback, flowState), code('flow_state_expired'))
    assert.equal(op.count('/token'), 0)
  })

  it('refuses a callback that is not a URL', async () => {
    const { op, flow } = await setup()
    const { flowState } = await flow.initiateLogin()
    await assert.rejects(flow.finalizeLogin('not a url', flowState), code('callback_invalid'))
    assert.equal(op.count('/token'), 0)
  })

  it('fails the exchange when the verifier does not match (the OP checks PKCE)', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const callback = await op.authorize(url)
    const other = await Pkce.generate()
    await assert.rejects(
      flow.finalizeLogin(callback, { ...flowState, codeVerifier: other.codeVerifier }),
      code('token_error', 'invalid_grant'),
    )
  })

  it('fails a replayed callback (single-use code)', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const callback = await op.authorize(url)
    await flow.finalizeLogin(callback, flowState)
    await assert.rejects(
      flow.finalizeLogin(callback, flowState),
      code('token_error', 'invalid_grant'),
    )
  })
})

describe('OAuth2Flow.finalizeLogin (token responses)', () => {
  const cases: [string, NonNullable<FakeOpOptions['tokenResponse']>, string, string?][] = [
    ['no access_token', ({ access_token: _, ...rest }) => rest, 'token_response_invalid'],
    ['empty access_token', (b) => ({ ...b, access_token: '' }), 'token_response_invalid'],
    ['numeric access_token', (b) => ({ ...b, access_token: 42 }), 'token_response_invalid'],
    ['token_type mac', (b) => ({ ...b, token_type: 'mac' }), 'token_response_invalid'],
    ['missing token_type', ({ token_type: _, ...rest }) => rest, 'token_response_invalid'],
    ['negative expires_in', (b) => ({ ...b, expires_in: -5 }), 'token_response_invalid'],
    ['non-string refresh_token', (b) => ({ ...b, refresh_token: {} }), 'token_response_invalid'],
    ['no id_token for an openid login', ({ id_token: _, ...rest }) => rest, 'id_token_missing'],
    [
      '200 with an OAuth error (GitHub style)',
      () => ({ error: 'bad_verification_code' }),
      'token_error',
      'bad_verification_code',
    ],
    [
      '400 invalid_grant',
      () => new Response('{"error":"invalid_grant"}', { status: 400 }),
      'token_error',
      'invalid_grant',
    ],
    [
      '500 HTML page',
      () => new Response('<html>oops</html>', { status: 500 }),
      'provider_bad_response',
    ],
    [
      '200 not JSON',
      () => new Response('access_token=x&token_type=bearer'),
      'provider_bad_response',
    ],
    ['200 JSON array', () => new Response('[]'), 'provider_bad_response'],
    [
      '302 redirect',
      () => new Response(null, { status: 302, headers: { location: 'https://evil.example' } }),
      'provider_bad_response',
    ],
    [
      'oversized body',
      () => new Response(`{"a":"${'x'.repeat(2_000_000)}"}`),
      'provider_response_too_large',
    ],
  ]
  for (const [label, tokenResponse, expected, oauthError] of cases) {
    it(`${label} → ${expected}`, async () => {
      const { op, flow } = await setup({ tokenResponse })
      const { url, flowState } = await flow.initiateLogin()
      await assert.rejects(
        flow.finalizeLogin(await op.authorize(url), flowState),
        code(expected as never, oauthError),
      )
      assert.equal(op.count('/userinfo'), 0)
    })
  }

  it('accepts a lowercase bearer token type and a numeric-string expires_in', async () => {
    const { op, flow } = await setup({
      tokenResponse: (b) => ({ ...b, token_type: 'bearer', expires_in: '120' }),
    })
    const { url, flowState } = await flow.initiateLogin()
    const { tokens } = await flow.finalizeLogin(await op.authorize(url), flowState)
    assert.equal(tokens.tokenType, 'Bearer')
    assert.ok(tokens.expiresAt && Math.abs(tokens.expiresAt - Date.now() - 120_000) < 5000)
  })
})

describe('OAuth2Flow.finalizeLogin (userinfo)', () => {
  it('refuses userinfo about another subject', async () => {
    const { op, flow } = await setup({ userinfo: (b) => ({ ...b, sub: 'someone-else' }) })
    const { url, flowState } = await flow.initiateLogin()
    await assert.rejects(
      flow.finalizeLogin(await op.authorize(url), flowState),
      code('userinfo_subject_mismatch'),
    )
  })

  it('skips userinfo when told to, and maps ID token claims alone', async () => {
    const { op, flow } = await setup(
      { idTokenClaims: (c) => ({ ...c, email: 'id@example.com', email_verified: false }) },
      { fetchUserinfo: false },
    )
    const { url, flowState } = await flow.initiateLogin()
    const { identity } = await flow.finalizeLogin(await op.authorize(url), flowState)
    assert.equal(op.count('/userinfo'), 0)
    assert.equal(identity.email, 'id@example.com')
    assert.equal(identity.emailVerified, false)
  })

  it('treats a non-boolean email_verified as unverified', async () => {
    const { op, flow } = await setup({ userinfo: (b) => ({ ...b, email_verified: 'true' }) })
    const { url, flowState } = await flow.initiateLogin()
    const { identity } = await flow.finalizeLogin(await op.authorize(url), flowState)
    assert.equal(identity.emailVerified, false)
  })
})

describe('OAuth2Flow.refresh and revoke', () => {
  it('refreshes, verifying the new ID token, and revokes', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const { tokens } = await flow.finalizeLogin(await op.authorize(url), flowState)
    assert.ok(tokens.refreshToken)
    const refreshed = await flow.refresh(tokens.refreshToken)
    assert.notEqual(refreshed.accessToken, tokens.accessToken)
    assert.equal(refreshed.idTokenClaims?.sub, 'user-42')
    await assert.rejects(flow.refresh(tokens.refreshToken), code('token_error', 'invalid_grant'))
    await flow.revoke(refreshed.accessToken, { tokenTypeHint: 'access_token' })
    assert.deepEqual(op.revoked, [refreshed.accessToken])
    const form = new URLSearchParams(await op.requests.at(-1)?.text())
    assert.equal(form.get('token_type_hint'), 'access_token')
  })

  it('asks for narrower scopes on refresh', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const { tokens } = await flow.finalizeLogin(await op.authorize(url), flowState)
    await flow.refresh(tokens.refreshToken as string, { scopes: ['openid'] })
    const form = new URLSearchParams(await op.requests.at(-1)?.text())
    assert.equal(form.get('scope'), 'openid')
  })

  it('says unsupported_operation when the provider cannot revoke', async () => {
    const { flow } = await setup({ discovery: ({ revocation_endpoint: _, ...doc }) => doc })
    await assert.rejects(flow.revoke('token'), code('unsupported_operation'))
  })

  it('refuses an empty refresh token', async () => {
    const { flow } = await setup()
    await assert.rejects(flow.refresh(''), code('config_invalid'))
  })
})

describe('OAuth2Flow configuration', () => {
  const base = {
    id: 'p',
    clientId: 'c',
    redirectUri: REDIRECT_URI,
    authorizationEndpoint: 'https://a.example/authorize',
    tokenEndpoint: 'https://a.example/token',
  }
  const bad: [string, Record<string, unknown>, string][] = [
    ['bad id', { id: 'has space' }, 'config_invalid'],
    ['empty clientId', { clientId: '' }, 'config_invalid'],
    ['secret method without secret', { clientAuthMethod: 'client_secret_basic' }, 'config_invalid'],
    ['http endpoint off loopback', { tokenEndpoint: 'http://a.example/token' }, 'insecure_url'],
    ['http redirect URI off loopback', { redirectUri: 'http://app.example/cb' }, 'insecure_url'],
    ['javascript: endpoint', { authorizationEndpoint: 'javascript:alert(1)' }, 'insecure_url'],
    ['relative endpoint', { authorizationEndpoint: '/authorize' }, 'config_invalid'],
    [
      'endpoint with fragment',
      { authorizationEndpoint: 'https://a.example/authorize#x' },
      'config_invalid',
    ],
    [
      'no endpoints and no issuer',
      { authorizationEndpoint: undefined, tokenEndpoint: undefined },
      'config_invalid',
    ],
    ['unknown pkce mode', { pkce: 'off' as 'S256' }, 'config_invalid'],
    ['alg none in the allow-list', { idTokenAlgorithms: ['none'] }, 'config_invalid'],
    ['HS256 in the allow-list', { idTokenAlgorithms: ['HS256'] }, 'config_invalid'],
    ['scope with a space', { scopes: ['a b'] }, 'config_invalid'],
  ]
  for (const [label, patch, expected] of bad) {
    it(`${label} → ${expected}`, () => {
      assert.throws(
        () => new OAuth2Flow({ ...base, ...patch } as ProviderConfig),
        code(expected as never),
      )
    })
  }

  it('allows plain http on loopback, and elsewhere only with allowInsecureHttp', () => {
    new OAuth2Flow({
      ...base,
      tokenEndpoint: 'http://127.0.0.1:9000/token',
      redirectUri: 'http://localhost:3000/cb',
    })
    new OAuth2Flow({ ...base, tokenEndpoint: 'http://idp.internal/token', allowInsecureHttp: true })
  })

  it('exposes id and name', () => {
    const flow = new OAuth2Flow({ ...base, name: 'Provider P' })
    assert.equal(flow.id, 'p')
    assert.equal(flow.name, 'Provider P')
  })
})

describe('OAuth2Flow.refresh subject check', () => {
  it('refuses a refreshed ID token about another user when expectedSubject is given', async () => {
    const { op, flow } = await setup()
    const { url, flowState } = await flow.initiateLogin()
    const { tokens, identity } = await flow.finalizeLogin(await op.authorize(url), flowState)
    const refreshed = await flow.refresh(tokens.refreshToken as string, {
      expectedSubject: identity.subject,
    })
    await assert.rejects(
      flow.refresh(refreshed.refreshToken as string, { expectedSubject: 'someone-else' }),
      code('id_token_claim_invalid'),
    )
  })
})
