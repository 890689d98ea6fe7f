import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { Op } from '../../src/op/create-op.ts'
import type { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { actionOf, authorizationUrl, Browser, csrfOf } from './helpers/browser.ts'
import { ISSUER, testOp, WEB_REDIRECT } from './helpers/op-setup.ts'

let op: Op
let store: ReturnType<typeof createMemoryOpStore>
let now: { value: number }

before(async () => {
  ;({ op, store, now } = await testOp())
})

/** Starts an authorization in `browser` and returns the first interaction page. */
async function start(browser: Browser, params: Record<string, string | undefined> = {}) {
  const auth = await authorizationUrl(ISSUER, {
    client_id: 'web',
    redirect_uri: WEB_REDIRECT,
    ...params,
  })
  const first = await browser.get(auth.url)
  return { auth, first }
}

async function openPage(
  browser: Browser,
  response: Response,
): Promise<{ response: Response; html: string }> {
  assert.equal(response.status, 303)
  const page = await browser.get(response.headers.get('location') ?? '')
  return { response: page, html: await page.text() }
}

async function login(
  browser: Browser,
  html: string,
  username = 'alice',
  password = 'wonderland',
): Promise<Response> {
  return browser.post(actionOf(html), { username, password, csrf: csrfOf(html) })
}

function callbackOf(response: Response): URL {
  assert.equal(response.status, 303)
  return new URL(response.headers.get('location') ?? '')
}

describe('login page', () => {
  it('is a form with username, password and a CSRF token, escaping the client name and login_hint', async () => {
    const browser = new Browser(op.handler)
    const { first } = await start(browser, { login_hint: '"><script>x</script>' })
    const { response, html } = await openPage(browser, first)
    assert.equal(response.status, 200)
    assert.match(html, /name="username"/)
    assert.match(html, /name="password"/)
    assert.match(html, /name="csrf" value="[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"/)
    assert.ok(html.includes('Web &lt;App&gt; &amp; &quot;Co&quot;'))
    assert.ok(!html.includes('<script>x'))
    assert.ok(html.includes('&quot;&gt;&lt;script&gt;'))
    assert.match(response.headers.get('x-frame-options') ?? '', /DENY/)
    assert.equal(response.headers.get('cache-control'), 'no-store')
  })

  it('answers a wrong password and an unknown user the same way', async () => {
    const pages: string[] = []
    for (const [user, pass] of [
      ['alice', 'wrong'],
      ['mallory', 'wonderland'],
    ] as const) {
      const browser = new Browser(op.handler)
      const { first } = await start(browser)
      const { html } = await openPage(browser, first)
      const response = await login(browser, html, user, pass)
      assert.equal(response.status, 401)
      const body = await response.text()
      assert.match(body, /Invalid username or password/)
      assert.ok(!browser.cookies.has('ak_op_session'))
      pages.push(
        body
          .replace(/value="[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"/, '')
          .replace(/value="(alice|mallory)"/, '')
          .replace(/interaction\/[A-Za-z0-9_-]{22}/, ''),
      )
    }
    assert.equal(pages[0], pages[1])
  })

  it('refuses a post without CSRF token, with a wrong one, or from another browser', async () => {
    const browser = new Browser(op.handler)
    const { first } = await start(browser)
    const { html } = await openPage(browser, first)
    const action = actionOf(html)
    const noCsrf = await browser.post(action, { username: 'alice', password: 'wonderland' })
    assert.equal(noCsrf.status, 400)
    const wrong = await browser.post(action, {
      username: 'alice',
      password: 'wonderland',
      csrf: 'A'.repeat(43),
    })
    assert.equal(wrong.status, 400)
    const other = new Browser(op.handler)
    const stolen = await other.post(action, {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(html),
    })
    assert.equal(stolen.status, 400, 'the interaction is bound to the browser that started it')
    assert.ok(!browser.cookies.has('ak_op_session'))
  })

  it('expires with the interaction', async () => {
    const browser = new Browser(op.handler)
    const { first } = await start(browser)
    const { html } = await openPage(browser, first)
    now.value += 601_000
    const late = await login(browser, html)
    assert.equal(late.status, 400)
    now.value -= 601_000
  })
})

describe('consent and codes', () => {
  it('logs in, asks consent, and on allow redirects with code, state and iss', async () => {
    const browser = new Browser(op.handler)
    const { first, auth } = await start(browser)
    const { html } = await openPage(browser, first)
    const afterLogin = await login(browser, html)
    assert.equal(afterLogin.status, 200)
    const session = afterLogin.headers.getSetCookie().find((c) => c.startsWith('ak_op_session='))
    assert.match(
      session ?? '',
      /^ak_op_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/,
    )
    const consentHtml = await afterLogin.text()
    assert.match(consentHtml, /Allow access/)
    const callback = callbackOf(
      await browser.post(actionOf(consentHtml), { csrf: csrfOf(consentHtml), decision: 'allow' }),
    )
    assert.equal(`${callback.origin}${callback.pathname}`, WEB_REDIRECT)
    assert.match(callback.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/)
    assert.equal(callback.searchParams.get('state'), auth.state)
    assert.equal(callback.searchParams.get('iss'), ISSUER)
    assert.ok(!browser.cookies.has('ak_op_interaction'), 'interaction cookie cleared')
  })

  it('on deny redirects with access_denied, state and iss', async () => {
    const browser = new Browser(op.handler)
    const { first, auth } = await start(browser, {
      client_id: 'spa',
      redirect_uri: 'http://localhost:3000/cb',
    })
    const { html } = await openPage(browser, first)
    const consentHtml = await (await login(browser, html)).text()
    const callback = callbackOf(
      await browser.post(actionOf(consentHtml), { csrf: csrfOf(consentHtml), decision: 'deny' }),
    )
    assert.equal(callback.searchParams.get('error'), 'access_denied')
    assert.equal(callback.searchParams.get('state'), auth.state)
    assert.equal(callback.searchParams.get('iss'), ISSUER)
    assert.equal(callback.searchParams.get('code'), null)
  })

  it('reuses the session and the consent (SSO), honours prompt=login, prompt=consent and max_age', async () => {
    // a fresh OP: no consent remembered from other tests
    const fresh = await testOp()
    const browser = new Browser(fresh.op.handler)
    const start = async (params: Record<string, string> = {}) => {
      const auth = await authorizationUrl(ISSUER, {
        client_id: 'web',
        redirect_uri: WEB_REDIRECT,
        ...params,
      })
      return { first: await browser.get(auth.url) }
    }
    const { first } = await start()
    const { html } = await openPage(browser, first)
    const consentHtml = await (await login(browser, html)).text()
    await browser.post(actionOf(consentHtml), { csrf: csrfOf(consentHtml), decision: 'allow' })

    const sso = await start()
    assert.match(callbackOf(sso.first).searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/)
    const silent = await start({ prompt: 'none' })
    assert.ok(callbackOf(silent.first).searchParams.get('code'))

    const forced = await start({ prompt: 'login' })
    const forcedPage = await openPage(browser, forced.first)
    assert.match(forcedPage.html, /name="password"/, forcedPage.html)
    const reconsent = await start({ prompt: 'consent' })
    assert.match((await openPage(browser, reconsent.first)).html, /Allow access/)
    fresh.now.value += 10_000
    const aged = await start({ max_age: '5' })
    assert.match((await openPage(browser, aged.first)).html, /name="password"/)
    const recent = await start({ max_age: '60' })
    assert.ok(callbackOf(recent.first).searchParams.get('code'))
  })

  it('prompt=none with a session but no consent → consent_required', async () => {
    const browser = new Browser(op.handler)
    const { first } = await start(browser, { client_id: 'first' })
    const { html } = await openPage(browser, first)
    callbackOf(await login(browser, html)) // first-party: no consent page
    const silent = await start(browser, {
      prompt: 'none',
      client_id: 'spa',
      redirect_uri: 'http://localhost:3000/cb',
    })
    assert.equal(callbackOf(silent.first).searchParams.get('error'), 'consent_required')
  })

  it('makes a new session id at every login (no fixation)', async () => {
    const browser = new Browser(op.handler)
    browser.setCookie('ak_op_session', 'F'.repeat(43))
    const { first } = await start(browser, { client_id: 'first' })
    const { html } = await openPage(browser, first)
    callbackOf(await login(browser, html))
    assert.notEqual(browser.cookies.get('ak_op_session')?.value, 'F'.repeat(43))
  })

  it('stores the code only as a hash, single-use and for 60 s', async () => {
    const browser = new Browser(op.handler)
    const { first } = await start(browser, { client_id: 'first' })
    const { html } = await openPage(browser, first)
    const code = callbackOf(await login(browser, html)).searchParams.get('code') ?? ''
    assert.equal(await store.get('code', code), undefined, 'not stored under its own value')
  })
})

describe('auto-login (dev IdP --auto-login)', () => {
  it('grants every authorization to the user without a form', async () => {
    const { op: auto } = await testOp({ dangerouslyAutoLogin: 'alice' })
    const { url, state } = await authorizationUrl(ISSUER, {
      client_id: 'web',
      redirect_uri: WEB_REDIRECT,
    })
    const callback = callbackOf(await auto.handler(new Request(url)))
    assert.ok(callback.searchParams.get('code'))
    assert.equal(callback.searchParams.get('state'), state)
    // still validates the request first
    const bad = await authorizationUrl(ISSUER, {
      client_id: 'web',
      redirect_uri: WEB_REDIRECT,
      code_challenge: undefined,
    })
    assert.equal(
      callbackOf(await auto.handler(new Request(bad.url))).searchParams.get('error'),
      'invalid_request',
    )
  })
})

describe('consent for a resource (RFC 8707)', () => {
  it('names the API the access is for, escaped', async () => {
    const api = 'https://api.example/a&b'
    const world = await testOp({
      scopes: ['read'],
      resources: [{ resource: api, scopes: ['read'] }],
      clients: [
        {
          client_id: 'web',
          client_secret: 'web-secret-0123456789abcdef',
          redirect_uris: [WEB_REDIRECT],
          scope: 'read',
          allowed_resources: [api],
        },
      ],
    })
    const browser = new Browser(world.op.handler)
    const auth = await authorizationUrl(ISSUER, {
      client_id: 'web',
      redirect_uri: WEB_REDIRECT,
      scope: 'openid read',
      resource: api,
    })
    const { html } = await openPage(browser, await browser.get(auth.url))
    const consent = await (await login(browser, html)).text()
    assert.match(consent, /Allow access/)
    assert.ok(consent.includes('for use at:'), consent)
    assert.ok(consent.includes('<code>https://api.example/a&amp;b</code>'), consent)
    // The same client without `resource`: no API named.
    const other = new Browser(world.op.handler)
    const plain = await authorizationUrl(ISSUER, {
      client_id: 'web',
      redirect_uri: WEB_REDIRECT,
      scope: 'openid read',
    })
    const { html: otherLogin } = await openPage(other, await other.get(plain.url))
    const plainConsent = await (await login(other, otherLogin)).text()
    assert.match(plainConsent, /Allow access/)
    assert.ok(!plainConsent.includes('for use at:'))
  })
})
