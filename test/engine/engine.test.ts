import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createAuthkestra } from '../../src/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { code } from '../helpers/assert-code.ts'
import {
  APP,
  AppBrowser,
  idpProvider,
  jwtEngine,
  type RunningIdp,
  SECRET,
  sessionEngine,
  startIdp,
} from './helpers/setup.ts'

let idp: RunningIdp
before(async () => {
  idp = await startIdp()
})
after(() => idp.close())

describe('session mode', () => {
  it('logs in: flow cookie on /, session cookie after, 302 to returnTo', async () => {
    const auth = sessionEngine(idp.issuer)
    const browser = new AppBrowser(auth.handler)
    const login = await browser.request('/auth/login/idp?returnTo=/dashboard')
    assert.equal(login.status, 302)
    const flowCookie = login.headers.getSetCookie()[0] ?? ''
    assert.match(
      flowCookie,
      /^ak_flow_[A-Za-z0-9_-]{16}=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/,
    )
    const authorizationUrl = new URL(login.headers.get('location') ?? '')
    // Our OP offers PAR: PKCE and the rest were pushed, the URL only names the pushed request.
    assert.deepEqual([...authorizationUrl.searchParams.keys()].sort(), ['client_id', 'request_uri'])
    const atOp = await fetch(authorizationUrl, { redirect: 'manual' })
    const done = await browser.request(atOp.headers.get('location') ?? '')
    assert.equal(done.status, 302)
    assert.equal(done.headers.get('location'), '/dashboard')
    const cookies = done.headers.getSetCookie()
    assert.ok(
      cookies.some((c) => /^ak_flow_.*Max-Age=0/.test(c)),
      'flow cookie deleted',
    )
    assert.ok(
      cookies.some((c) =>
        /^ak_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=604800; HttpOnly; SameSite=Lax$/.test(c),
      ),
    )
    const session = await browser.request('/auth/session')
    assert.equal(session.status, 200)
    const body = (await session.json()) as {
      user: { email: string; provider: string }
      provider: string
    }
    assert.equal(body.user.email, 'alice@example.com')
    assert.equal(body.provider, 'idp')
  })

  it('uses Secure and __Host- cookies off localhost, the flow cookie too', async () => {
    const auth = sessionEngine(idp.issuer)
    const login = await auth.handler(new Request('https://app.example/auth/login/idp'))
    assert.match(
      login.headers.getSetCookie()[0] ?? '',
      /^__Host-ak_flow_[A-Za-z0-9_-]{16}=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/,
    )
  })

  it('completes two concurrent logins in two tabs', async () => {
    const auth = sessionEngine(idp.issuer)
    const browser = new AppBrowser(auth.handler)
    const one = await browser.startLogin('?returnTo=/one')
    const two = await browser.startLogin('?returnTo=/two')
    assert.equal((await browser.request(two.callback.href)).headers.get('location'), '/two')
    assert.equal((await browser.request(one.callback.href)).headers.get('location'), '/one')
  })

  for (const target of [
    '//evil.example',
    'https://evil.example',
    '/\\evil.example',
    'javascript:alert(1)',
    '/%0d%0aX:1',
  ]) {
    it(`sends returnTo=${target} to / instead`, async () => {
      const auth = sessionEngine(idp.issuer)
      const browser = new AppBrowser(auth.handler)
      const { callback } = await browser.startLogin(`?returnTo=${encodeURIComponent(target)}`)
      const done = await browser.request(callback.href)
      assert.equal(done.headers.get('location'), target === '/%0d%0aX:1' ? '/%0d%0aX:1' : '/')
    })
  }

  it('refuses a tampered state, a replayed callback and a missing flow cookie, creating no session', async () => {
    const auth = sessionEngine(idp.issuer)
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    const tampered = new URL(callback)
    tampered.searchParams.set('state', 'A'.repeat(43))
    const t = await browser.request(tampered.href, { headers: { accept: 'application/json' } })
    assert.equal(t.status, 400)
    assert.deepEqual(((await t.json()) as { error: string }).error, 'flow_state_malformed')
    const cookieBefore = new Map(browser.cookies)
    assert.equal((await browser.request(callback.href)).status, 302)
    // replay with the same flow cookie (an attacker who kept it): the code is single-use
    for (const [name, value] of cookieBefore)
      if (name.startsWith('ak_flow_')) browser.cookies.set(name, value)
    const session = browser.cookies.get('ak_session')
    const replay = await browser.request(callback.href, { headers: { accept: 'application/json' } })
    assert.equal(replay.status, 400)
    assert.equal(((await replay.json()) as { error: string }).error, 'token_error')
    assert.deepEqual(browser.cookies.get('ak_session'), session, 'no new session from a replay')
  })

  it('answers failures as HTML for browsers, escaping nothing user-provided', async () => {
    const auth = sessionEngine(idp.issuer)
    const page = await auth.handler(new Request(`${APP}/auth/callback/idp?state=x&code=<script>`))
    assert.equal(page.status, 400)
    const html = await page.text()
    assert.match(html, /flow_state_malformed/)
    assert.ok(!html.includes('<script>'))
  })

  it('rotates the session at login (no fixation) and expires it when idle or too old', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const auth = createAuthkestra({
      providers: [idpProvider(idp.issuer)],
      secret: SECRET,
      clock,
      session: { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600 },
    })
    const browser = new AppBrowser(auth.handler)
    browser.cookies.set('ak_session', { value: 'P'.repeat(43), path: '/' })
    const { callback } = await browser.startLogin()
    await browser.request(callback.href)
    const id = browser.cookies.get('ak_session')?.value
    assert.notEqual(id, 'P'.repeat(43))
    const request = () => new Request(`${APP}/`, { headers: { cookie: `ak_session=${id}` } })
    assert.ok(await auth.getSession(request()))
    now += 500_000
    assert.ok(await auth.getSession(request()), 'activity resets the idle timer')
    now += 500_000
    assert.ok(await auth.getSession(request()))
    now += 601_000
    assert.equal(await auth.getSession(request()), null, 'idle timeout')
    const again = await browser.startLogin()
    await browser.request(again.callback.href)
    const id2 = browser.cookies.get('ak_session')?.value
    for (let i = 0; i < 7; i++) {
      now += 550_000
      await auth.getSession(new Request(`${APP}/`, { headers: { cookie: `ak_session=${id2}` } }))
    }
    assert.equal(
      await auth.getSession(new Request(`${APP}/`, { headers: { cookie: `ak_session=${id2}` } })),
      null,
      'absolute timeout',
    )
  })

  it('logs out only from its own origin', async () => {
    const auth = sessionEngine(idp.issuer)
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    await browser.request(callback.href)
    const foreign = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    })
    assert.equal(foreign.status, 403)
    const noOrigin = await browser.request('/auth/logout', { method: 'POST' })
    assert.equal(noOrigin.status, 403)
    assert.equal((await browser.request('/auth/session')).status, 200, 'still signed in')
    const own = await browser.request('/auth/logout', { method: 'POST', headers: { origin: APP } })
    assert.equal(own.status, 303)
    assert.equal((await browser.request('/auth/session')).status, 401)
  })

  it('refuses the login when onLogin returns null (403 login_rejected, no session)', async () => {
    const auth = createAuthkestra({
      providers: [idpProvider(idp.issuer)],
      secret: SECRET,
      session: {},
      onLogin: () => null,
    })
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    const done = await browser.request(callback.href, { headers: { accept: 'application/json' } })
    assert.equal(done.status, 403)
    assert.equal(((await done.json()) as { error: string }).error, 'login_rejected')
    assert.ok(!browser.cookies.has('ak_session'))
  })

  it('lists providers and answers 404 elsewhere', async () => {
    const auth = sessionEngine(idp.issuer)
    const list = await auth.handler(new Request(`${APP}/auth/providers`))
    assert.deepEqual(await list.json(), [{ id: 'idp', name: 'idp', loginUrl: '/auth/login/idp' }])
    assert.equal((await auth.handler(new Request(`${APP}/auth/login/nope`))).status, 404)
    assert.equal((await auth.handler(new Request(`${APP}/elsewhere`))).status, 404)
    assert.equal(
      (await auth.handler(new Request(`${APP}/auth/logout`))).status,
      200,
      'GET logout is the page that asks (it ends nothing; see logout.test.ts)',
    )
    const forApi = new Request(`${APP}/auth/logout`, { headers: { accept: 'application/json' } })
    assert.equal((await auth.handler(forApi)).status, 404, 'an API client POSTs instead')
  })
})

describe('stateless mode', () => {
  it('delivers a verified JWT in a cookie; tokens from another secret or tampered fail', async () => {
    const auth = jwtEngine(idp.issuer)
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    const done = await browser.request(callback.href)
    assert.equal(done.status, 302)
    const token = browser.cookies.get('ak_token')?.value ?? ''
    assert.equal(token.split('.').length, 3)
    const claims = await auth.verifyRequest(
      new Request(APP, { headers: { authorization: `Bearer ${token}` } }),
    )
    assert.equal((claims?.user as { email?: string } | undefined)?.email, 'alice@example.com')
    assert.equal(
      await auth.verifyRequest(
        new Request(APP, { headers: { authorization: `Bearer ${token.slice(0, -2)}xx` } }),
      ),
      null,
    )
    const other = createAuthkestra({
      providers: [idpProvider(idp.issuer)],
      secret: 'another-secret-that-is-long-enough-0123456',
      jwt: { revocations: 'none-logout-keeps-tokens-valid-until-exp' },
    })
    assert.equal(
      await other.verifyRequest(
        new Request(APP, { headers: { authorization: `Bearer ${token}` } }),
      ),
      null,
    )
    assert.equal((await browser.request('/auth/session')).status, 200)
  })

  it('answers the token as JSON when delivery is json', async () => {
    const auth = jwtEngine(idp.issuer, { delivery: 'json', ttlSeconds: 120 })
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin('?returnTo=/x')
    const done = await browser.request(callback.href)
    assert.equal(done.status, 200)
    const body = (await done.json()) as {
      access_token: string
      expires_in: number
      return_to: string
    }
    assert.equal(body.expires_in, 120)
    assert.equal(body.return_to, '/x')
    assert.equal(done.headers.get('cache-control'), 'no-store')
  })
})

describe('configuration', () => {
  const provider = () => idpProvider('https://id.example')
  it('fails at start with clear messages', () => {
    const bad: Record<string, unknown>[] = [
      { providers: [provider()], secret: SECRET },
      { providers: [provider()], secret: SECRET, session: {}, jwt: {} },
      { providers: [], secret: SECRET, session: {} },
      { providers: [provider(), provider()], secret: SECRET, session: {} },
      { providers: [provider()], secret: 'short', session: {} },
      { providers: [provider()], secret: SECRET, session: {}, basePath: 'auth/' },
      { providers: [provider()], secret: SECRET, session: { idleTimeoutSeconds: 0 } },
      {
        providers: [provider()],
        secret: SECRET,
        jwt: { delivery: 'header', revocations: 'none-logout-keeps-tokens-valid-until-exp' },
      },
      { providers: [provider()], secret: SECRET, jwt: {} },
      { providers: [provider()], secret: SECRET, jwt: { revocations: false } },
      { providers: [provider()], secret: SECRET, jwt: { revocations: 'none' } },
      { providers: [provider()], secret: SECRET, jwt: { revocations: { revoke() {} } } },
      {
        providers: [provider()],
        secret: SECRET,
        jwt: { revocations: 'none-logout-keeps-tokens-valid-until-exp', absoluteTimeoutSeconds: 0 },
      },
      { providers: [provider()], secret: SECRET, session: {}, userKey: 'id' },
    ]
    for (const config of bad)
      assert.throws(() => createAuthkestra(config as never), code('config_invalid'))
  })

  it('names the option to fix: an unknown key (with the one meant), an unset secret, no issuer', () => {
    const cases: [Record<string, unknown> | (() => unknown), RegExp][] = [
      [
        { providers: [provider()], secret: SECRET, session: {}, sesion: {} },
        /^createAuthkestra: unknown option "sesion" \(did you mean "session"\?\)$/,
      ],
      [
        { providers: [provider()], secret: SECRET, session: {}, basepath: '/x' },
        /unknown option "basepath" \(did you mean "basePath"\?\)/,
      ],
      [
        { providers: [provider()], secret: SECRET, session: { idleTimeout: 60 } },
        /^"session": unknown option "idleTimeout"$/,
      ],
      [
        { providers: [provider()], secret: SECRET, jwt: { revocation: 'x' } },
        /^"jwt": unknown option "revocation" \(did you mean "revocations"\?\)$/,
      ],
      [{ providers: [provider()], secret: undefined, session: {} }, /AUTH_SECRET/],
      [{ providers: [provider()], secret: '', session: {} }, /"secret" is not set/],
      [
        {
          providers: [
            oidc({
              id: 'idp',
              issuer: 'https://id.example',
              clientId: 'x',
              redirectUri: `${APP}/callback`,
            }),
          ],
          secret: SECRET,
          session: {},
        },
        /^provider "idp": "redirectUri" must point at \/auth\/callback\/idp \(the engine's callback route\)/,
      ],
      [
        () => oidc({ id: 'corp', clientId: 'x', redirectUri: `${APP}/cb` } as never),
        /^oidc\("corp"\): "issuer" is required/,
      ],
    ]
    for (const [config, message] of cases) {
      const run = typeof config === 'function' ? config : () => createAuthkestra(config as never)
      assert.throws(run, (err: Error & { code?: string }) => {
        assert.equal(err.code, 'config_invalid')
        assert.match(err.message, message)
        return true
      })
    }
  })
})

describe('unexpected errors', () => {
  it('answer 500 internal_error and reach onError', async () => {
    const seen: string[] = []
    const auth = createAuthkestra({
      providers: [idpProvider(idp.issuer)],
      secret: SECRET,
      session: {},
      onLogin: () => {
        throw new Error('database is on fire')
      },
      onError: (error, { route }) => seen.push(`${route}: ${(error as Error).message}`),
    })
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    const done = await browser.request(callback.href, { headers: { accept: 'application/json' } })
    assert.equal(done.status, 500)
    assert.equal(((await done.json()) as { error: string }).error, 'internal_error')
    assert.deepEqual(seen, ['callback: database is on fire'])
    assert.ok(!browser.cookies.has('ak_session'))
  })
})
