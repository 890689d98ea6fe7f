// Flow cookies against login CSRF and cookie pile-up: on https they carry the `__Host-` prefix,
// so a flow cookie of the attacker's own login planted from a sibling subdomain or over plain
// http (which cannot have that prefix) is never read; abandoned logins leave at most four flow
// cookies, the oldest dropped first, each small.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { AppBrowser, type RunningIdp, sessionEngine, startIdp } from './helpers/setup.ts'

let idp: RunningIdp
before(async () => {
  idp = await startIdp()
})
after(() => idp.close())

const JSON_ACCEPT = { headers: { accept: 'application/json' } }

/** An engine clock that moves one second per call to `tick`, ahead of real time. */
function steppingClock() {
  let offset = 0
  return {
    now: () => Date.now() + offset,
    tick: (ms = 1_000) => {
      offset += ms
    },
  }
}

const flowCookies = (browser: AppBrowser) =>
  [...browser.cookies].filter(([name]) => /^(__Host-)?ak_flow_/.test(name))

describe('flow cookies on https (__Host- prefix)', () => {
  it('refuses a planted, unprefixed copy of the attacker’s own flow cookie: no session, code not spent', async () => {
    const auth = sessionEngine(idp.issuer, {}, { secureCookies: true })
    const attacker = new AppBrowser(auth.handler)
    const { callback } = await attacker.startLogin()
    const [[name, cookie] = ['', { value: '', path: '' }]] = flowCookies(attacker)
    assert.match(name, /^__Host-ak_flow_[A-Za-z0-9_-]{16}$/)
    assert.equal(cookie.path, '/')

    // What a sibling subdomain (Domain=parent) or a plain-http response can set: no __Host- prefix.
    const victim = new AppBrowser(auth.handler)
    victim.cookies.set(name.replace(/^__Host-/, ''), cookie)
    const planted = await victim.request(callback.href, JSON_ACCEPT)
    assert.equal(planted.status, 400)
    assert.equal(((await planted.json()) as { error: string }).error, 'flow_state_malformed')
    assert.ok(
      !planted.headers.getSetCookie().some((c) => /ak_session=[^;]/.test(c)),
      'no session for the victim',
    )
    assert.equal(victim.cookies.get('__Host-ak_session'), undefined)

    // The attacker's code was never sent to the token endpoint: their own login still completes.
    const own = await attacker.request(callback.href)
    assert.equal(own.status, 302)
    assert.ok(attacker.cookies.get('__Host-ak_session'))
  })

  it('still completes two logins started in two tabs', async () => {
    const auth = sessionEngine(idp.issuer, {}, { secureCookies: true })
    const browser = new AppBrowser(auth.handler)
    const one = await browser.startLogin('?returnTo=/one')
    const two = await browser.startLogin('?returnTo=/two')
    assert.equal(flowCookies(browser).length, 2)
    assert.equal((await browser.request(two.callback.href)).headers.get('location'), '/two')
    assert.equal((await browser.request(one.callback.href)).headers.get('location'), '/one')
    assert.equal(flowCookies(browser).length, 0, 'each callback deletes its own cookie')
  })
})

describe('abandoned logins', () => {
  for (const secureCookies of [true, false]) {
    it(`keep at most 4 flow cookies, dropping the oldest (${secureCookies ? 'https' : 'http://localhost'})`, async () => {
      const clock = steppingClock()
      const auth = sessionEngine(idp.issuer, {}, { secureCookies, clock })
      const browser = new AppBrowser(auth.handler)
      const callbacks: URL[] = []
      for (let i = 0; i < 12; i++) {
        callbacks.push((await browser.startLogin(`?returnTo=/tab${i}`)).callback)
        clock.tick()
        assert.ok(flowCookies(browser).length <= 4, `after login ${i}`)
      }
      const cookies = flowCookies(browser)
      assert.equal(cookies.length, 4)
      for (const [name, { value }] of cookies)
        assert.ok(name.length + value.length < 640, `a flow cookie is small (${value.length})`)
      for (const [i, callback] of callbacks.entries()) {
        const done = await browser.request(callback.href, JSON_ACCEPT)
        if (i < 8) {
          assert.equal(done.status, 400, `login ${i} was dropped`)
          assert.equal(((await done.json()) as { error: string }).error, 'flow_state_malformed')
        } else {
          assert.equal(done.status, 302, `login ${i} completes`)
          assert.equal(done.headers.get('location'), `/tab${i}`)
        }
      }
    })
  }

  it('drop expired and unreadable flow cookies when a login starts', async () => {
    const clock = steppingClock()
    const auth = sessionEngine(idp.issuer, {}, { secureCookies: true, clock })
    const browser = new AppBrowser(auth.handler)
    await browser.startLogin()
    browser.cookies.set('__Host-ak_flow_AAAAAAAAAAAAAAAA', { value: 'garbage', path: '/' })
    clock.tick(601_000)
    const fresh = await browser.startLogin()
    assert.equal(flowCookies(browser).length, 1, 'only the new login’s cookie is left')
    assert.equal((await browser.request(fresh.callback.href)).status, 302)
  })

  it('never touch cookies that are not flow cookies of this mode', async () => {
    const auth = sessionEngine(idp.issuer, {}, { secureCookies: true })
    const login = await auth.handler(
      new Request('https://app.example/auth/login/idp', {
        headers: { cookie: 'ak_flow_AAAAAAAAAAAAAAAA=x; theme=dark; __Host-other=1' },
      }),
    )
    const set = login.headers.getSetCookie()
    assert.equal(set.length, 1, 'only the new flow cookie')
    assert.match(set[0] ?? '', /^__Host-ak_flow_/)
  })
})
