/**
 * End to end through every adapter: the same assertions, over real HTTP on loopback, against the
 * raw Web handler on node:http, Express 5, Express 4, Fastify 5 and Hono 4 (on @hono/node-server). Each app
 * logs in with our OP, guards `GET /api/me` with `session(auth)`, and must behave identically:
 * adapters only translate, so any difference between mounts is an adapter bug.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type RunningApp,
  type StartApp,
  startExpress,
  startExpress4,
  startFastify,
  startHono,
  startNodeHttp,
} from './helpers/adapters/apps.ts'
import { Browser } from './helpers/adapters/browser.ts'
import { type RunningIdp, startIdp } from './helpers/adapters/idp.ts'
import { accessToken, TOKEN, unsignedToken } from './helpers/adapters/tokens.ts'
import { wire } from './helpers/adapters/wiring.ts'

interface MountSpec {
  readonly name: string
  readonly start: StartApp
  /** Whether the app is configured to trust a proxy on loopback (X-Forwarded-Proto). */
  readonly trustsProxy: boolean
}

const MOUNTS: readonly MountSpec[] = [
  { name: 'node:http (raw handler)', start: startNodeHttp, trustsProxy: false },
  { name: 'express', start: startExpress, trustsProxy: true },
  { name: 'express 4', start: startExpress4, trustsProxy: true },
  { name: 'fastify', start: startFastify, trustsProxy: true },
  { name: 'hono', start: startHono, trustsProxy: false },
]

const JSON_ACCEPT = { accept: 'application/json' }
const FLOW_COOKIE = /^(__Host-)?ak_flow_[A-Za-z0-9_-]{16}$/

let idp: RunningIdp
const apps = new Map<string, RunningApp>()

before(async () => {
  idp = await startIdp()
  for (const mount of MOUNTS) apps.set(mount.name, await mount.start((origin) => wire(idp, origin)))
  await idp.configure([...apps.values()].map((app) => app.origin))
})

after(async () => {
  await Promise.all([...apps.values()].map((app) => app.close()))
  await idp.close()
})

async function errorOf(response: Response): Promise<string> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  return ((await response.json()) as { error: string }).error
}

for (const mount of MOUNTS) {
  describe(`through ${mount.name}`, () => {
    const app = (): RunningApp => apps.get(mount.name) as RunningApp
    const browser = (): Browser => new Browser(app().origin)

    /** A browser signed in as alice. */
    async function signedIn(): Promise<Browser> {
      const b = browser()
      assert.equal((await b.login()).status, 302)
      assert.ok(b.session())
      return b
    }

    it('serves the public route without a session', async () => {
      const response = await browser().fetch('/public')
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), { public: true })
    })

    it('logs in with the OP (flow cookie on /), then /api/me answers alice', async () => {
      const b = browser()
      const login = await b.fetch('/auth/login/idp?returnTo=/dashboard')
      assert.equal(login.status, 302)
      const [flowCookie] = login.headers.getSetCookie()
      assert.match(
        flowCookie ?? '',
        /^ak_flow_[A-Za-z0-9_-]{16}=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/,
      )
      const atOp = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' })
      const done = await b.fetch(atOp.headers.get('location') ?? '')
      assert.equal(done.status, 302)
      assert.equal(done.headers.get('location'), '/dashboard')
      // onLogin got the callback as a Web Request, whichever way the adapter fed the engine.
      const seen = app().wiring.logins.at(-1)
      assert.equal(seen?.isRequest, true)
      assert.equal(seen?.method, 'GET')
      assert.ok(seen?.url.startsWith(`${app().origin}/auth/callback/idp?`))
      assert.equal(seen?.host, new URL(app().origin).host)
      assert.ok(
        done.headers
          .getSetCookie()
          .some((c) =>
            /^ak_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=604800; HttpOnly; SameSite=Lax$/.test(
              c,
            ),
          ),
        'session cookie, not Secure on http://127.0.0.1',
      )
      assert.ok(
        ![...b.cookies.keys()].some((name) => FLOW_COOKIE.test(name)),
        'flow cookie deleted',
      )
      const me = await b.fetch('/api/me')
      assert.equal(me.status, 200)
      const principal = (await me.json()) as {
        user: { email: string; name: string; provider: string; subject: string }
        provider: string
        subject: string
        expiresAt: string
      }
      assert.equal(principal.user.email, 'alice@example.com')
      assert.equal(principal.user.name, 'Alice')
      assert.equal(principal.provider, 'idp')
      assert.match(principal.subject, /^[A-Za-z0-9_-]{8,}$/)
      assert.equal(principal.subject, principal.user.subject)
      assert.ok(Date.parse(principal.expiresAt) > Date.now())
    })

    it('refuses an ID token with an untrusted extra audience (400 id_token_claim_invalid, no session), signs in when the provider trusts it', async () => {
      for (const [provider, status] of [
        ['aud', 400],
        ['aud-trusted', 302],
      ] as const) {
        const b = browser()
        const login = await b.fetch(`/auth/login/${provider}`)
        const atOp = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' })
        const done = await b.fetch(atOp.headers.get('location') ?? '', { headers: JSON_ACCEPT })
        assert.equal(done.status, status, provider)
        if (status === 400) assert.equal(await errorOf(done), 'id_token_claim_invalid')
        assert.equal(b.session() !== undefined, status === 302, provider)
      }
    })

    it('answers /api/me without a session (or with a forged one) 401 with WWW-Authenticate', async () => {
      for (const cookie of [undefined, `ak_session=${'A'.repeat(43)}`]) {
        const b = browser()
        const headers: Record<string, string> = cookie === undefined ? {} : { cookie }
        const me = await b.fetch('/api/me', { headers })
        assert.equal(me.status, 401)
        assert.equal(me.headers.get('www-authenticate'), 'Session realm="authkestra"')
        assert.equal(await errorOf(me), 'unauthorized')
      }
    })

    it('refuses a tampered state: 400 flow_state_malformed, JSON for Accept: application/json, HTML otherwise', async () => {
      const b = browser()
      const callback = await b.startLogin()
      callback.searchParams.set('state', 'A'.repeat(43))
      const asJson = await b.fetch(callback.href, { headers: JSON_ACCEPT })
      assert.equal(asJson.status, 400)
      assert.equal(await errorOf(asJson), 'flow_state_malformed')
      const asHtml = await b.fetch(callback.href)
      assert.equal(asHtml.status, 400)
      assert.match(asHtml.headers.get('content-type') ?? '', /^text\/html/)
      assert.match(await asHtml.text(), /<code>flow_state_malformed<\/code>/)
      assert.equal(b.session(), undefined)
    })

    it('refuses a replayed callback (flow cookie kept by an attacker): 400 token_error, no new session', async () => {
      const b = browser()
      const callback = await b.startLogin()
      const kept = [...b.cookies].filter(([name]) => FLOW_COOKIE.test(name))
      assert.equal(kept.length, 1)
      assert.equal((await b.fetch(callback.href)).status, 302)
      const session = b.session()
      for (const [name, cookie] of kept) b.cookies.set(name, cookie)
      const replay = await b.fetch(callback.href, { headers: JSON_ACCEPT })
      assert.equal(replay.status, 400)
      assert.equal(await errorOf(replay), 'token_error')
      assert.ok(
        !replay.headers.getSetCookie().some((c) => c.startsWith('ak_session=')),
        'no session cookie from a replay',
      )
      assert.equal(b.session(), session)
      assert.equal((await b.fetch('/api/me')).status, 200, 'the first login still stands')
    })

    it('refuses a flow older than 10 minutes: 400 flow_state_expired, no session', async () => {
      const b = browser()
      const callback = await b.startLogin()
      const { clock } = app().wiring
      clock.offsetMs = 600_000 + 1_000
      try {
        const late = await b.fetch(callback.href, { headers: JSON_ACCEPT })
        assert.equal(late.status, 400)
        assert.equal(await errorOf(late), 'flow_state_expired')
      } finally {
        clock.offsetMs = 0
      }
      assert.equal(b.session(), undefined)
    })

    it('completes two concurrent logins, each to its own returnTo', async () => {
      const b = browser()
      const one = await b.startLogin('?returnTo=/one')
      const two = await b.startLogin('?returnTo=/two')
      const [doneTwo, doneOne] = [await b.fetch(two.href), await b.fetch(one.href)]
      assert.equal(doneTwo.status, 302)
      assert.equal(doneTwo.headers.get('location'), '/two')
      assert.equal(doneOne.status, 302)
      assert.equal(doneOne.headers.get('location'), '/one')
      assert.equal((await b.fetch('/api/me')).status, 200)
    })

    for (const target of ['//evil.example', 'https://evil.example', '/\\evil.example']) {
      it(`sends returnTo=${target} to / instead`, async () => {
        const done = await browser().login(`?returnTo=${encodeURIComponent(target)}`)
        assert.equal(done.status, 302)
        assert.equal(done.headers.get('location'), '/')
      })
    }

    it('refuses logout from another Origin (403 forbidden_origin) and stays signed in', async () => {
      const b = await signedIn()
      for (const origin of [
        'http://evil.example',
        app().origin.replace('127.0.0.1', 'localhost'),
      ]) {
        const foreign = await b.fetch('/auth/logout', {
          method: 'POST',
          headers: { origin, ...JSON_ACCEPT },
        })
        assert.equal(foreign.status, 403)
        assert.equal(await errorOf(foreign), 'forbidden_origin')
      }
      assert.equal((await b.fetch('/api/me')).status, 200, 'still signed in')
    })

    it(`${mount.trustsProxy ? 'honours' : 'ignores'} X-Forwarded-Host (with its port) from a loopback proxy`, async () => {
      const b = await signedIn()
      // Behind a trusted proxy the request's origin is the forwarded one, port included (Express 4's
      // req.host would drop it); otherwise the forwarded host is a stranger's header.
      const forwarded = 'app.example:8443'
      const logout = await b.fetch('/auth/logout', {
        method: 'POST',
        headers: {
          origin: `https://${forwarded}`,
          'x-forwarded-host': forwarded,
          'x-forwarded-proto': 'https',
          ...JSON_ACCEPT,
        },
      })
      assert.equal(logout.status, mount.trustsProxy ? 204 : 403)
      if (!mount.trustsProxy) assert.equal((await b.fetch('/api/me')).status, 200)
    })

    it('does not let a "//host" request-target fake the origin of a logout', async () => {
      const b = await signedIn()
      const forged = await b.fetch('//evil.example/auth/logout', {
        method: 'POST',
        headers: { origin: 'http://evil.example' },
      })
      assert.equal(forged.status, 404)
      assert.equal((await b.fetch('/api/me')).status, 200, 'still signed in')
    })

    it('logs out from its own origin: 303 to /, session gone server-side', async () => {
      const b = await signedIn()
      const id = b.session() as string
      const out = await b.fetch('/auth/logout', {
        method: 'POST',
        headers: { origin: app().origin },
      })
      assert.equal(out.status, 303)
      assert.equal(out.headers.get('location'), '/')
      assert.equal(b.session(), undefined, 'cookie cleared')
      assert.equal((await b.fetch('/api/me')).status, 401)
      const stale = await browser().fetch('/api/me', { headers: { cookie: `ak_session=${id}` } })
      assert.equal(stale.status, 401, 'the old id is dead')
    })

    const bodies: [kind: string, type: string | undefined, body: BodyInit][] = [
      ['a JSON', 'application/json', JSON.stringify({ reason: 'done', n: [1, 2] })],
      ['a form', 'application/x-www-form-urlencoded', 'reason=done&n=1&n=2'],
      ['a binary', 'application/octet-stream', new Uint8Array(64 * 1024).fill(7)],
      ['an untyped', undefined, new Uint8Array([0, 1, 2])],
    ]
    for (const [kind, type, body] of bodies) {
      it(`logs out with ${kind} body without hanging (204 for Accept: application/json)`, async () => {
        const b = await signedIn()
        const headers: Record<string, string> = { origin: app().origin, ...JSON_ACCEPT }
        if (type !== undefined) headers['content-type'] = type
        const out = await b.fetch('/auth/logout', { method: 'POST', headers, body })
        assert.equal(out.status, 204)
        assert.equal((await b.fetch('/api/me')).status, 401)
        assert.equal((await b.fetch('/public')).status, 200, 'the connection still serves')
      })
    }

    it('leaves the body of a guarded POST to the route', async () => {
      const b = await signedIn()
      const init = { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }
      const echo = await b.fetch('/api/echo', init)
      assert.equal(echo.status, 200)
      assert.equal(await echo.text(), 'hello')
      const refused = await browser().fetch('/api/echo', init)
      assert.equal(refused.status, 401)
      assert.equal(refused.headers.get('www-authenticate'), 'Session realm="authkestra"')
    })

    it(`${mount.trustsProxy ? 'honours' : 'ignores'} X-Forwarded-Proto from a loopback proxy`, async () => {
      const b = browser()
      const login = await b.fetch('/auth/login/idp', { headers: { 'x-forwarded-proto': 'https' } })
      assert.equal(login.status, 302)
      const secure = /; Secure$/.test(login.headers.getSetCookie()[0] ?? '')
      assert.equal(secure, mount.trustsProxy)
      // The redirect_uri went to the OP in the pushed request (PAR); where it sends the browser
      // back is what it was given.
      const atOp = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' })
      const back = new URL(atOp.headers.get('location') ?? '')
      assert.equal(
        `${back.origin}${back.pathname}`,
        `${app().origin}/auth/callback/idp`,
        'the configured one, always',
      )
    })

    describe('GET /api/token guarded by bearer()', () => {
      const INVALID = 'Bearer realm="authkestra", error="invalid_token"'
      const get = (token?: string) =>
        browser().fetch('/api/token', {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        })

      it('accepts a valid access token', async () => {
        const ok = await get(await accessToken({ scope: 'read write' }))
        assert.equal(ok.status, 200)
        assert.deepEqual(await ok.json(), { subject: 'alice', scopes: ['read', 'write'] })
      })

      it('asks for a token when there is none (401, bare challenge)', async () => {
        const none = await get()
        assert.equal(none.status, 401)
        assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="authkestra"')
        assert.equal(await errorOf(none), 'unauthorized')
      })

      const refused: [string, () => Promise<string> | string][] = [
        ['an expired token', () => accessToken({ expiresIn: -120 })],
        ['a token for another audience', () => accessToken({ aud: 'https://other-api.example' })],
        ['an unsigned token (alg none)', () => unsignedToken()],
        ['a token from another issuer', () => accessToken({ iss: `${TOKEN.issuer}.evil` })],
      ]
      for (const [what, make] of refused) {
        it(`refuses ${what}: 401 invalid_token`, async () => {
          const response = await get(await make())
          assert.equal(response.status, 401)
          assert.equal(response.headers.get('www-authenticate'), INVALID)
          assert.equal(await errorOf(response), 'invalid_token')
        })
      }
    })

    it('ends every session of the user from POST /auth/logout-everywhere, in every browser', async () => {
      const [one, two] = [await signedIn(), await signedIn()]
      const out = await one.fetch('/auth/logout-everywhere', {
        method: 'POST',
        headers: { origin: app().origin, ...JSON_ACCEPT },
      })
      assert.equal(out.status, 204)
      assert.equal((await one.fetch('/api/me')).status, 401)
      assert.equal((await two.fetch('/api/me')).status, 401, 'the other browser is signed out too')
    })

    it('caps abandoned logins at 4 flow cookies; the latest login still completes (no 431)', async () => {
      const b = browser()
      let last: URL | undefined
      for (let i = 0; i < 30; i++) {
        last = await b.startLogin(`?returnTo=/t${i}`)
        app().wiring.clock.offsetMs += 1_000
      }
      app().wiring.clock.offsetMs = 0
      const flows = [...b.cookies.keys()].filter((name) => FLOW_COOKIE.test(name))
      assert.equal(flows.length, 4)
      const done = await b.fetch(last?.href ?? '')
      assert.equal(done.status, 302)
      assert.equal(done.headers.get('location'), '/t29')
    })

    describe('the stateless engine under /jwt (Secure cookies)', () => {
      const JWT_COOKIE = '__Host-ak_token'
      async function jwtSignedIn(): Promise<Browser> {
        const b = browser()
        assert.equal((await b.login('', '/jwt')).status, 302)
        assert.ok(b.cookies.get(JWT_COOKIE), 'token cookie set')
        return b
      }
      const asCookie = (token: string) => ({ headers: { cookie: `${JWT_COOKIE}=${token}` } })
      const asBearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })

      it('uses __Host- flow cookies on /, and refuses a planted unprefixed one (login CSRF)', async () => {
        const attacker = browser()
        const login = await attacker.fetch('/jwt/login/idp')
        const [flow = ''] = login.headers.getSetCookie()
        assert.match(
          flow,
          /^__Host-ak_flow_[A-Za-z0-9_-]{16}=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/,
        )
        const atOp = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' })
        const callback = atOp.headers.get('location') ?? ''
        const [name = '', value = ''] = (flow.split(';')[0] ?? '').split(/=(.*)/)
        const victim = browser()
        victim.cookies.set(name.replace('__Host-', ''), { value, path: '/', attributes: [] })
        const planted = await victim.fetch(callback, { headers: JSON_ACCEPT })
        assert.equal(planted.status, 400)
        assert.equal(await errorOf(planted), 'flow_state_malformed')
        assert.equal(victim.cookies.get(JWT_COOKIE), undefined, 'the victim is not signed in')
        assert.equal((await attacker.fetch(callback)).status, 302, 'the code was never spent')
      })

      it('revokes the token at logout: dead as a cookie and as a bearer token', async () => {
        const b = await jwtSignedIn()
        const token = b.cookies.get(JWT_COOKIE)?.value ?? ''
        assert.equal((await b.fetch('/api/jwt-me')).status, 200)
        // Both ways work before the logout, so the 401s below are the logout's doing.
        for (const init of [asCookie(token), asBearer(token)])
          assert.equal((await browser().fetch('/api/jwt-me', init)).status, 200)
        const out = await b.fetch('/jwt/logout', {
          method: 'POST',
          headers: { origin: app().origin },
        })
        assert.equal(out.status, 303)
        assert.equal(b.cookies.get(JWT_COOKIE), undefined)
        for (const init of [asCookie(token), asBearer(token)]) {
          const me = await browser().fetch('/api/jwt-me', init)
          assert.equal(me.status, 401)
          assert.equal(await errorOf(me), 'unauthorized')
          assert.equal((await browser().fetch('/jwt/session', init)).status, 401)
        }
      })

      it('refreshes the token (same origin), and a logout ends the old and the new', async () => {
        const b = await jwtSignedIn()
        const old = b.cookies.get(JWT_COOKIE)?.value ?? ''
        const foreign = await b.fetch('/jwt/refresh', {
          method: 'POST',
          headers: { origin: 'http://evil.example', ...JSON_ACCEPT },
        })
        assert.equal(foreign.status, 403)
        app().wiring.clock.offsetMs += 1_000
        const refreshed = await b.fetch('/jwt/refresh', {
          method: 'POST',
          headers: { origin: app().origin },
        })
        app().wiring.clock.offsetMs = 0
        assert.equal(refreshed.status, 200)
        const fresh = b.cookies.get(JWT_COOKIE)?.value ?? ''
        assert.notEqual(fresh, old)
        await b.fetch('/jwt/logout', { method: 'POST', headers: { origin: app().origin } })
        for (const token of [old, fresh])
          assert.equal((await browser().fetch('/api/jwt-me', asBearer(token))).status, 401)
      })

      it('logs out everywhere: every token of the user dies', async () => {
        const [one, two] = [await jwtSignedIn(), await jwtSignedIn()]
        const token = two.cookies.get(JWT_COOKIE)?.value ?? ''
        const out = await browser().fetch('/jwt/logout-everywhere', {
          method: 'POST',
          headers: {
            ...asBearer(one.cookies.get(JWT_COOKIE)?.value ?? '').headers,
            ...JSON_ACCEPT,
          },
        })
        assert.equal(out.status, 204)
        assert.equal((await two.fetch('/api/jwt-me')).status, 401)
        assert.equal((await browser().fetch('/api/jwt-me', asBearer(token))).status, 401)
      })
    })

    it('answers 404 for an unknown auth route', async () => {
      const b = browser()
      const unknown = await b.fetch('/auth/nope', { headers: JSON_ACCEPT })
      assert.equal(unknown.status, 404)
      assert.equal(await errorOf(unknown), 'not_found')
      assert.equal((await b.fetch('/auth/logout', { headers: JSON_ACCEPT })).status, 404)
    })
  })
}

describe('fastify specifics', () => {
  const get = (path: string, init: RequestInit = {}) =>
    fetch(`${(apps.get('fastify') as RunningApp).origin}${path}`, {
      ...init,
      signal: AbortSignal.timeout(5_000),
    })

  it('leaves the app’s own routes with Fastify’s parsers (a form body there is still 415)', async () => {
    const response = await get('/api/form', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    })
    assert.equal(response.status, 415)
  })

  it('decorates requests app-wide (the plugin skips encapsulation): request.auth is null', async () => {
    const response = await get('/api/decorated')
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { decorated: true, auth: null })
  })
})
