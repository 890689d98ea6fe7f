// Logout that ends the credential, in both modes. Stateless: the token a logout saw is revoked
// server-side (as a cookie and as a bearer token, at /auth/session, through verifyRequest and the
// session guard), refreshed tokens of the same login with it; "log out everywhere" ends every
// login of the user. Session mode: "log out everywhere" deletes every session of the user.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { AuthkestraError } from '../../src/core/errors.ts'
import {
  createAuthkestra,
  createMemoryRevocationStore,
  type RevocationStore,
  type StatelessAuthkestra,
  session,
} from '../../src/index.ts'
import { createSqliteStores } from '../../src/stores/sqlite.ts'
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

const SAME_ORIGIN = { origin: APP }
const JSON_ACCEPT = { accept: 'application/json' }

const post = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${APP}${path}`, { method: 'POST', headers })
const bearer = (token: string, path = '/auth/session') =>
  new Request(`${APP}${path}`, { headers: { authorization: `Bearer ${token}` } })
const asCookie = (token: string, path = '/auth/session') =>
  new Request(`${APP}${path}`, { headers: { cookie: `ak_token=${token}` } })

async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: string }).error
}

/** A browser signed in through the engine; returns it with its token cookie's value. */
async function signedIn(handler: (r: Request) => Promise<Response>) {
  const browser = new AppBrowser(handler)
  const { callback } = await browser.startLogin()
  const done = await browser.request(callback.href)
  assert.equal(done.status, 302)
  const token = browser.cookies.get('ak_token')?.value
  return { browser, token: token ?? '' }
}

/** Every way a stateless token is checked: the route (cookie, bearer), verifyRequest, the guard. */
async function works(auth: StatelessAuthkestra<unknown>, token: string): Promise<boolean[]> {
  const guard = session(auth)
  return [
    (await auth.handler(asCookie(token))).status === 200,
    (await auth.handler(bearer(token))).status === 200,
    (await auth.verifyRequest(bearer(token))) !== null,
    (await guard(asCookie(token))).ok,
  ]
}

const ALIVE = [true, true, true, true]
const DEAD = [false, false, false, false]

describe('GET /auth/logout', () => {
  it('asks first: a page whose form POSTs to /auth/logout; the GET itself ends nothing', async () => {
    const auth = jwtEngine(idp.issuer)
    const { browser, token } = await signedIn(auth.handler)
    for (const [query, action] of [
      ['', '/auth/logout'],
      ['?local=true', '/auth/logout?local=true'],
    ] as const) {
      const page = await browser.request(`/auth/logout${query}`)
      assert.equal(page.status, 200)
      assert.equal(page.headers.get('cache-control'), 'no-store')
      assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self'/)
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
      assert.ok((await page.text()).includes(`<form method="post" action="${action}">`))
    }
    assert.deepEqual(await works(auth, token), ALIVE, 'still signed in after the GETs')
    const out = await browser.request('/auth/logout', { method: 'POST', headers: SAME_ORIGIN })
    assert.equal(out.status, 303)
    assert.deepEqual(await works(auth, token), DEAD)
  })
})

describe('stateless logout', () => {
  it('ends the token server-side: as a cookie, as a bearer token, in verifyRequest and the guard', async () => {
    const auth = jwtEngine(idp.issuer)
    const { browser, token } = await signedIn(auth.handler)
    const other = await signedIn(auth.handler)
    assert.deepEqual(await works(auth, token), ALIVE)
    const out = await browser.request('/auth/logout', { method: 'POST', headers: SAME_ORIGIN })
    assert.equal(out.status, 303)
    assert.equal(browser.cookies.get('ak_token'), undefined, 'cookie cleared')
    assert.deepEqual(await works(auth, token), DEAD, 'the copied token is dead everywhere')
    assert.deepEqual(await works(auth, other.token), ALIVE, 'another login of the same user lives')
  })

  it('lets a bearer client (no cookie, no Origin) log out; refuses a cookie logout from another origin', async () => {
    const auth = jwtEngine(idp.issuer)
    const { token } = await signedIn(auth.handler)
    const foreign = await auth.handler(
      new Request(`${APP}/auth/logout`, {
        method: 'POST',
        headers: { cookie: `ak_token=${token}`, origin: 'https://evil.example', ...JSON_ACCEPT },
      }),
    )
    assert.equal(foreign.status, 403)
    assert.equal(await errorOf(foreign), 'forbidden_origin')
    assert.deepEqual(await works(auth, token), ALIVE, 'a refused logout revokes nothing')
    const out = await auth.handler(
      post('/auth/logout', { authorization: `Bearer ${token}`, ...JSON_ACCEPT }),
    )
    assert.equal(out.status, 204)
    assert.deepEqual(await works(auth, token), DEAD)
  })

  it('remembers the revocation across instances sharing the store, until the login’s absolute end', async () => {
    let now = Math.floor(Date.now() / 1000) * 1000
    const clock = { now: () => now }
    const revocations = createMemoryRevocationStore({ clock })
    // A token living as long as its login: exp = sxp, so only the revocation keeps it out.
    const make = () =>
      jwtEngine(
        idp.issuer,
        { revocations, ttlSeconds: 3600, absoluteTimeoutSeconds: 3600 },
        { clock },
      )
    const [one, two] = [make(), make()]
    const { token } = await signedIn(one.handler)
    assert.equal((await two.handler(bearer(token))).status, 200)
    await one.handler(post('/auth/logout', { authorization: `Bearer ${token}` }))
    assert.equal((await two.handler(bearer(token))).status, 401, 'seen by the other instance')
    assert.equal(revocations.size(), 1)
    now += 3_599_000
    assert.equal((await two.handler(bearer(token))).status, 401, 'still revoked near the end')
    now += 5_000
    assert.equal(
      (await two.handler(bearer(token))).status,
      401,
      'still revoked inside the 5 s verification leeway past exp',
    )
    assert.deepEqual(
      await revocations.revokedAt([`sid:x`]),
      [undefined],
      'the store answers per key',
    )
    now += 2_000
    assert.equal((await two.handler(bearer(token))).status, 401, 'expired by then anyway')
  })

  it('ends a login whose token a copy kept refreshing, from the browser’s expired copy', async () => {
    let now = Date.now()
    const auth = jwtEngine(
      idp.issuer,
      { ttlSeconds: 60, absoluteTimeoutSeconds: 3600 },
      { clock: { now: () => now } },
    )
    const { browser, token: victim } = await signedIn(auth.handler)
    const refresh = async (token: string) => {
      const response = await auth.handler(
        post('/auth/refresh', { authorization: `Bearer ${token}` }),
      )
      assert.equal(response.status, 200)
      const cookie = response.headers.getSetCookie()[0] ?? ''
      const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1])
      assert.ok(maxAge > 3000, `the cookie lives as long as the login, not the token: ${maxAge}`)
      return /ak_token=([^;]+)/.exec(cookie)?.[1] ?? ''
    }
    now += 50_000
    const stolen = await refresh(victim)
    now += 50_000
    const stillStolen = await refresh(stolen)
    assert.notEqual(stillStolen, '')
    assert.equal((await auth.handler(bearer(victim))).status, 401, 'the victim’s copy expired')
    assert.ok(
      browser.cookies.get('ak_token'),
      'the cookie outlives the token, until the login ends',
    )
    const out = await browser.request('/auth/logout', { method: 'POST', headers: SAME_ORIGIN })
    assert.equal(out.status, 303)
    assert.deepEqual(await works(auth, stillStolen), DEAD, 'the refreshed copy is dead too')
  })

  it('ends a login that started in the very millisecond of a log out everywhere, not the one after', async () => {
    let now = Date.now()
    const auth = jwtEngine(idp.issuer, {}, { clock: { now: () => now } })
    const { token } = await signedIn(auth.handler)
    const claims = await auth.verifyRequest(bearer(token))
    now = claims?.loginAt.getTime() ?? 0
    await auth.logoutEverywhere(`idp:${claims?.subject}`)
    assert.deepEqual(await works(auth, token), DEAD)
    now += 1
    const after = await signedIn(auth.handler)
    assert.deepEqual(await works(auth, after.token), ALIVE)
  })

  it('checks the cookie’s origin even when an Authorization header comes with it', async () => {
    const auth = jwtEngine(idp.issuer)
    const { token } = await signedIn(auth.handler)
    for (const path of ['/auth/logout', '/auth/logout-everywhere', '/auth/refresh']) {
      const response = await auth.handler(
        post(path, {
          cookie: `ak_token=${token}`,
          authorization: `Bearer ${token}`,
          origin: 'https://evil.example',
          ...JSON_ACCEPT,
        }),
      )
      assert.equal(response.status, 403, path)
    }
    assert.deepEqual(await works(auth, token), ALIVE)
  })

  it('answers 503 store_unavailable when the revocation store is down, never a token accepted unchecked', async () => {
    let down = false
    const inner = createMemoryRevocationStore()
    const flaky: RevocationStore = {
      revoke: (...args) => inner.revoke(...args),
      revokedAt: async (keys) => {
        if (down) throw new AuthkestraError('store_unavailable', 'revocations.revokedAt failed')
        return inner.revokedAt(keys)
      },
    }
    const auth = jwtEngine(idp.issuer, { revocations: flaky })
    const { token } = await signedIn(auth.handler)
    down = true
    const route = await auth.handler(
      new Request(`${APP}/auth/session`, {
        headers: { authorization: `Bearer ${token}`, ...JSON_ACCEPT },
      }),
    )
    assert.equal(route.status, 503)
    assert.equal(await errorOf(route), 'store_unavailable')
    await assert.rejects(auth.verifyRequest(bearer(token)))
    const guarded = await session(auth)(bearer(token)).catch(() => 'threw')
    assert.equal(guarded, 'threw', 'the guard does not let it through')
    down = false
    assert.deepEqual(await works(auth, token), ALIVE)
  })
})

describe('stateless refresh (POST /auth/refresh)', () => {
  it('gives a new token of the same login; logout ends both', async () => {
    const auth = jwtEngine(idp.issuer, { delivery: 'json', ttlSeconds: 300 })
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    const first = (await (await browser.request(callback.href)).json()) as { access_token: string }
    const refreshed = await auth.handler(
      post('/auth/refresh', { authorization: `Bearer ${first.access_token}` }),
    )
    assert.equal(refreshed.status, 200)
    assert.equal(refreshed.headers.get('cache-control'), 'no-store')
    const body = (await refreshed.json()) as { access_token: string; expires_in: number }
    assert.notEqual(body.access_token, first.access_token)
    assert.equal(body.expires_in, 300)
    const a = await auth.verifyRequest(bearer(first.access_token))
    const b = await auth.verifyRequest(bearer(body.access_token))
    assert.equal(a?.loginAt.getTime(), b?.loginAt.getTime(), 'same login')
    assert.deepEqual(await works(auth, body.access_token), ALIVE)
    await auth.handler(post('/auth/logout', { authorization: `Bearer ${body.access_token}` }))
    assert.deepEqual(await works(auth, first.access_token), DEAD)
    assert.deepEqual(await works(auth, body.access_token), DEAD)
    const again = await auth.handler(
      post('/auth/refresh', { authorization: `Bearer ${first.access_token}`, ...JSON_ACCEPT }),
    )
    assert.equal(again.status, 401, 'a logged-out login cannot be refreshed')
    assert.equal(await errorOf(again), 'unauthorized')
  })

  it('sets the new token as a cookie (same origin only), never in the body', async () => {
    const auth = jwtEngine(idp.issuer)
    const { browser } = await signedIn(auth.handler)
    const before = browser.cookies.get('ak_token')?.value
    const foreign = await browser.request('/auth/refresh', {
      method: 'POST',
      headers: { origin: 'https://evil.example', ...JSON_ACCEPT },
    })
    assert.equal(foreign.status, 403)
    assert.equal(await errorOf(foreign), 'forbidden_origin')
    const done = await browser.request('/auth/refresh', { method: 'POST', headers: SAME_ORIGIN })
    assert.equal(done.status, 200)
    const body = (await done.json()) as Record<string, unknown>
    assert.equal(body.access_token, undefined)
    assert.equal(body.expires_in, 900, 'the default lifetime is 15 minutes')
    assert.notEqual(browser.cookies.get('ak_token')?.value, before)
    assert.equal((await browser.request('/auth/session')).status, 200)
  })

  it('never extends a login past its absolute timeout', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const auth = jwtEngine(
      idp.issuer,
      { delivery: 'json', ttlSeconds: 600, absoluteTimeoutSeconds: 1000 },
      { clock },
    )
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    let token = ((await (await browser.request(callback.href)).json()) as { access_token: string })
      .access_token
    now += 590_000
    const refreshed = await auth.handler(
      post('/auth/refresh', { authorization: `Bearer ${token}` }),
    )
    const body = (await refreshed.json()) as { access_token: string; expires_in: number }
    assert.ok(body.expires_in <= 411 && body.expires_in >= 409, `capped: ${body.expires_in}`)
    token = body.access_token
    const claims = await auth.verifyRequest(bearer(token))
    assert.ok(claims && claims.expiresAt.getTime() <= claims.sessionExpiresAt.getTime())
    now += 411_000
    const late = await auth.handler(post('/auth/refresh', { authorization: `Bearer ${token}` }))
    assert.equal(late.status, 401)
  })

  const forged: [string, (token: string) => string][] = [
    ['a tampered signature', (t) => `${t.slice(0, -3)}AAA`],
    [
      'a token of another secret',
      () => 'eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo',
    ],
    ['garbage', () => 'not-a-token'],
    ['an empty bearer', () => ''],
  ]
  for (const [what, make] of forged) {
    it(`refuses ${what}: 401 unauthorized, no token issued, nothing echoed`, async () => {
      const auth = jwtEngine(idp.issuer, { delivery: 'json' })
      const { token } = await signedIn(jwtEngine(idp.issuer).handler)
      const value = make(token)
      const response = await auth.handler(
        post('/auth/refresh', { authorization: `Bearer ${value}`, ...JSON_ACCEPT }),
      )
      assert.equal(response.status, value === '' ? 403 : 401)
      const text = await response.text()
      assert.doesNotMatch(text, /access_token/)
      if (value.length > 8) assert.ok(!text.includes(value.slice(0, 20)))
      assert.equal(response.headers.getSetCookie().length, 0)
    })
  }

  it('is not a route in session mode', async () => {
    const auth = sessionEngine(idp.issuer)
    const response = await auth.handler(post('/auth/refresh', { ...SAME_ORIGIN, ...JSON_ACCEPT }))
    assert.equal(response.status, 404)
  })
})

describe('log out everywhere', () => {
  it('stateless: ends every login of the user, refreshed ones too; a later login works', async () => {
    let now = Date.now()
    const auth = jwtEngine(idp.issuer, {}, { clock: { now: () => now } })
    const one = await signedIn(auth.handler)
    const two = await signedIn(auth.handler)
    const refreshed = await auth.handler(
      post('/auth/refresh', { authorization: `Bearer ${two.token}` }),
    )
    assert.equal(refreshed.status, 200)
    const three = refreshed.headers.getSetCookie()[0]?.split(';')[0]?.split('=')[1] ?? ''
    assert.match(three, /^eyJ/, 'the refresh set a new token')
    now += 5
    const out = await one.browser.request('/auth/logout-everywhere', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, ...JSON_ACCEPT },
    })
    assert.equal(out.status, 204)
    for (const token of [one.token, two.token, three])
      assert.deepEqual(await works(auth, token), DEAD)
    now += 5
    const later = await signedIn(auth.handler)
    assert.deepEqual(await works(auth, later.token), ALIVE, 'a login after it is not affected')
  })

  it('stateless: by user key from the app (auth.logoutEverywhere)', async () => {
    let now = Date.now()
    const auth = jwtEngine(idp.issuer, {}, { clock: { now: () => now } })
    const { token } = await signedIn(auth.handler)
    const claims = await auth.verifyRequest(bearer(token))
    await auth.logoutEverywhere('idp:someone-else')
    assert.deepEqual(await works(auth, token), ALIVE)
    now += 1
    await auth.logoutEverywhere(`idp:${claims?.subject}`)
    assert.deepEqual(await works(auth, token), DEAD)
  })

  it('session mode: deletes every session of the user, in every browser', async () => {
    const auth = sessionEngine(idp.issuer)
    const browsers = [new AppBrowser(auth.handler), new AppBrowser(auth.handler)]
    for (const b of browsers) {
      const { callback } = await b.startLogin()
      assert.equal((await b.request(callback.href)).status, 302)
    }
    const [first, second] = browsers as [AppBrowser, AppBrowser]
    const stolen = second.cookies.get('ak_session')?.value ?? ''
    await auth.logoutEverywhere('idp:someone-else')
    assert.equal(
      (await second.request('/auth/session')).status,
      200,
      'another user’s key: no effect',
    )
    const out = await first.request('/auth/logout-everywhere', {
      method: 'POST',
      headers: SAME_ORIGIN,
    })
    assert.equal(out.status, 303)
    assert.equal(first.cookies.get('ak_session'), undefined)
    assert.equal((await first.request('/auth/session')).status, 401)
    assert.equal((await second.request('/auth/session')).status, 401, 'the other browser too')
    const replay = await auth.handler(
      new Request(`${APP}/auth/session`, { headers: { cookie: `ak_session=${stolen}` } }),
    )
    assert.equal(replay.status, 401)
  })

  it('session mode: with the app’s own user key (userKey), from the app', async () => {
    const auth = sessionEngine(
      idp.issuer,
      {},
      { onLogin: () => ({ id: 'user-42' }), userKey: (user: { id: string }) => user.id },
    )
    const browser = new AppBrowser(auth.handler)
    const { callback } = await browser.startLogin()
    await browser.request(callback.href)
    assert.equal((await browser.request('/auth/session')).status, 200)
    await auth.logoutEverywhere('user-42')
    assert.equal((await browser.request('/auth/session')).status, 401)
  })

  it('session mode: uses the user key stored at login, not one recomputed from the stored user', async () => {
    // A class with a getter: the store keeps JSON, where `id` is gone.
    class User {
      readonly #id: string
      constructor(id: string) {
        this.#id = id
      }
      get id(): string {
        return this.#id
      }
      toJSON() {
        return { name: 'alice' }
      }
    }
    const database = new Database(':memory:')
    const stores = createSqliteStores({ database })
    await stores.migrate()
    const auth = sessionEngine(
      idp.issuer,
      { store: stores.sessions },
      { onLogin: () => new User('user-7'), userKey: (user: User) => user.id },
    )
    const [a, b] = [new AppBrowser(auth.handler), new AppBrowser(auth.handler)]
    for (const browser of [a, b]) await browser.request((await browser.startLogin()).callback.href)
    const out = await a.request('/auth/logout-everywhere', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, ...JSON_ACCEPT },
    })
    assert.equal(out.status, 204)
    assert.equal((await b.request('/auth/session')).status, 401)
    stores.close()
    database.close()
  })

  it('session mode: ends a session stored without a user key (before 0.2) instead of serving it', async () => {
    const database = new Database(':memory:')
    const stores = createSqliteStores({ database })
    await stores.migrate()
    const id = 'L'.repeat(43)
    const storageId = Buffer.from(await crypto.subtle.digest('SHA-256', Buffer.from(id))).toString(
      'base64url',
    )
    const now = Date.now()
    const legacy = {
      user: { name: 'old' },
      provider: 'idp',
      subject: 's',
      createdAt: now,
      expiresAt: now + 3_600_000,
      lastSeenAt: now,
    }
    await stores.sessions.set(storageId, legacy, 3600)
    assert.ok(await stores.sessions.get(storageId))
    const auth = sessionEngine(idp.issuer, { store: stores.sessions })
    const response = await auth.handler(
      new Request(`${APP}/auth/session`, { headers: { cookie: `ak_session=${id}` } }),
    )
    assert.equal(response.status, 401)
    assert.equal(await stores.sessions.get(storageId), undefined, 'deleted')
    stores.close()
    database.close()
  })

  it('refuses another origin (403) and a request with no sign-in (401), ending nothing', async () => {
    for (const auth of [sessionEngine(idp.issuer), jwtEngine(idp.issuer)]) {
      const browser = new AppBrowser(auth.handler)
      const { callback } = await browser.startLogin()
      await browser.request(callback.href)
      const foreign = await browser.request('/auth/logout-everywhere', {
        method: 'POST',
        headers: { origin: 'https://evil.example', ...JSON_ACCEPT },
      })
      assert.equal(foreign.status, 403)
      assert.equal(await errorOf(foreign), 'forbidden_origin')
      assert.equal((await browser.request('/auth/session')).status, 200)
      const anonymous = await auth.handler(
        post('/auth/logout-everywhere', { ...SAME_ORIGIN, ...JSON_ACCEPT }),
      )
      assert.equal(anonymous.status, 401)
      assert.equal(await errorOf(anonymous), 'unauthorized')
    }
  })
})

describe('stateless mode without a revocation store (the explicit opt-out)', () => {
  const optOut = () =>
    createAuthkestra({
      providers: [idpProvider(idp.issuer)],
      secret: SECRET,
      jwt: { revocations: 'none-logout-keeps-tokens-valid-until-exp' },
    })

  it('clears the cookie at logout, and the copied token stays valid, as the option says', async () => {
    const auth = optOut()
    const { browser, token } = await signedIn(auth.handler)
    await browser.request('/auth/logout', { method: 'POST', headers: SAME_ORIGIN })
    assert.equal(browser.cookies.get('ak_token'), undefined)
    assert.deepEqual(await works(auth as StatelessAuthkestra<unknown>, token), ALIVE)
  })

  it('renews nothing: POST /auth/refresh is 404, before and after logout; absoluteTimeoutSeconds refused', async () => {
    const auth = optOut()
    const { browser, token } = await signedIn(auth.handler)
    const refresh = () =>
      auth.handler(post('/auth/refresh', { authorization: `Bearer ${token}`, ...JSON_ACCEPT }))
    const before = await refresh()
    assert.equal(before.status, 404)
    await browser.request('/auth/logout', { method: 'POST', headers: SAME_ORIGIN })
    const afterLogout = await refresh()
    assert.equal(afterLogout.status, 404)
    assert.equal(afterLogout.headers.get('set-cookie'), null, 'no token issued')
    assert.throws(
      () =>
        createAuthkestra({
          providers: [idpProvider(idp.issuer)],
          secret: SECRET,
          jwt: {
            revocations: 'none-logout-keeps-tokens-valid-until-exp',
            absoluteTimeoutSeconds: 3600,
          },
        }),
      (err: Error) => /"jwt.absoluteTimeoutSeconds" needs a revocation store/.test(err.message),
    )
  })

  it('has no log-out-everywhere: 404 for the route, unsupported_operation for the method', async () => {
    const auth = optOut()
    const { token } = await signedIn(auth.handler)
    const route = await auth.handler(
      post('/auth/logout-everywhere', { authorization: `Bearer ${token}`, ...JSON_ACCEPT }),
    )
    assert.equal(route.status, 404)
    await assert.rejects(auth.logoutEverywhere('idp:x'), code('unsupported_operation'))
  })

  it('is refused without the explicit choice', () => {
    assert.throws(
      () =>
        createAuthkestra({
          providers: [idpProvider(idp.issuer)],
          secret: SECRET,
          jwt: {} as never,
        }),
      (err: Error) =>
        /needs "jwt.revocations"/.test(err.message) &&
        /none-logout-keeps-tokens-valid-until-exp/.test(err.message),
    )
  })
})
