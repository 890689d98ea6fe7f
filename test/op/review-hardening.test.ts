// Hardening found in the OP review: app-hosted interactions, one-time CSRF and attempt limits,
// max_age=0, one binding cookie per interaction, key retirement and revocation, canonical
// loopback redirect URIs.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { actionOf, authorizationUrl, Browser, csrfOf } from './helpers/browser.ts'
import { ISSUER, testOp, WEB_REDIRECT } from './helpers/op-setup.ts'

const APP_LOGIN = 'https://app.example/login'

async function firstPage(browser: Browser, params: Record<string, string | undefined> = {}) {
  const auth = await authorizationUrl(ISSUER, {
    client_id: 'web',
    redirect_uri: WEB_REDIRECT,
    ...params,
  })
  const start = await browser.get(auth.url)
  assert.equal(start.status, 303)
  const location = start.headers.get('location') ?? ''
  return {
    auth,
    location,
    page: location.startsWith(ISSUER) ? await (await browser.get(location)).text() : '',
  }
}

describe('app-hosted interactions (interactionUrl)', () => {
  it('sends the browser to the app, and the built-in pages do not exist', async () => {
    const { op } = await testOp({ interactionUrl: APP_LOGIN })
    const browser = new Browser(op.handler)
    const { location } = await firstPage(browser)
    const uid = new URL(location).searchParams.get('uid') ?? ''
    assert.equal(location, `${APP_LOGIN}?uid=${uid}`)
    assert.ok(browser.cookies.has(`ak_op_interaction_${uid}`))
    const builtin = await browser.get(`${ISSUER}/interaction/${uid}`)
    assert.equal(builtin.status, 404)
    const post = await browser.post(`${ISSUER}/interaction/${uid}/login`, {
      username: 'alice',
      password: 'wonderland',
    })
    assert.equal(post.status, 404)
  })

  it('details() and finish() need the browser binding, and consent must be granted for a third-party client', async () => {
    const { op } = await testOp({ interactionUrl: APP_LOGIN })
    const browser = new Browser(op.handler)
    const { location, auth } = await firstPage(browser)
    const cookie = [...browser.cookies].map(([n, c]) => `${n}=${c.value}`).join('; ')
    const appRequest = () => new Request(location, { headers: { cookie } })
    assert.equal(
      await op.interactions.details(new Request(location)),
      undefined,
      'not without the cookie',
    )
    const details = await op.interactions.details(appRequest())
    assert.equal(details?.clientName, 'Web <App> & "Co"')
    assert.equal(details?.accountId, undefined)
    assert.equal(details?.consentRequired, true)
    await assert.rejects(op.interactions.finish(appRequest(), { sub: 'alice-sub' }), /consent/)
    await assert.rejects(op.interactions.finish(appRequest(), { sub: '' }), /sub/)
    await assert.rejects(
      op.interactions.finish(appRequest(), { error: 'login_required' }),
      /prompt=none/,
    )
    const done = await op.interactions.finish(appRequest(), {
      sub: 'alice-sub',
      grantedScopes: details?.scopes ?? [],
    })
    const callback = new URL(done.headers.get('location') ?? '')
    assert.ok(callback.searchParams.get('code'))
    assert.equal(callback.searchParams.get('state'), auth.state)
    assert.ok(done.headers.getSetCookie().some((c) => c.startsWith('ak_op_session=')))
    assert.ok(done.headers.getSetCookie().some((c) => /^ak_op_interaction_.*Max-Age=0/.test(c)))
    assert.equal(await op.interactions.details(appRequest()), undefined, 'spent')
  })

  it('finish({ error }) answers the client and clears the binding', async () => {
    const { op } = await testOp({ interactionUrl: APP_LOGIN })
    const browser = new Browser(op.handler)
    const { location } = await firstPage(browser)
    const cookie = [...browser.cookies].map(([n, c]) => `${n}=${c.value}`).join('; ')
    const done = await op.interactions.finish(new Request(location, { headers: { cookie } }), {
      error: 'access_denied',
    })
    assert.equal(
      new URL(done.headers.get('location') ?? '').searchParams.get('error'),
      'access_denied',
    )
    assert.ok(done.headers.getSetCookie().some((c) => /Max-Age=0/.test(c)))
  })
})

describe('login form abuse', () => {
  it('spends the CSRF token: the same form cannot be posted twice', async () => {
    const { op } = await testOp()
    const browser = new Browser(op.handler)
    const { page } = await firstPage(browser)
    const form = { username: 'alice', password: 'wrong', csrf: csrfOf(page) }
    assert.equal((await browser.post(actionOf(page), form)).status, 401)
    assert.equal((await browser.post(actionOf(page), form)).status, 400, 'replayed form refused')
  })

  it('ends the interaction after five wrong passwords, even with the right one next', async () => {
    const { op } = await testOp()
    const browser = new Browser(op.handler)
    let { page } = await firstPage(browser)
    for (let i = 1; i <= 5; i++) {
      const response = await browser.post(actionOf(page), {
        username: 'alice',
        password: `wrong-${i}`,
        csrf: csrfOf(page),
      })
      if (i < 5) {
        assert.equal(response.status, 401)
        page = await response.text()
      } else {
        assert.equal(response.status, 429)
      }
    }
    const action = actionOf(page)
    const after = await browser.post(action, {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(page),
    })
    assert.equal(after.status, 400)
    assert.ok(!browser.cookies.has('ak_op_session'))
  })
})

describe('sessions and interactions', () => {
  it('max_age=0 forces a new login even right after one', async () => {
    const { op } = await testOp()
    const browser = new Browser(op.handler)
    const { page } = await firstPage(browser, { client_id: 'first' })
    const done = await browser.post(actionOf(page), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(page),
    })
    assert.equal(done.status, 303)
    const again = await firstPage(browser, { client_id: 'first', max_age: '0' })
    assert.match(again.page, /name="password"/)
  })

  it('keeps two interactions of one browser apart (two tabs)', async () => {
    const { op } = await testOp()
    const browser = new Browser(op.handler)
    const one = await firstPage(browser, { client_id: 'first' })
    const two = await firstPage(browser, { client_id: 'first' })
    const first = await browser.post(actionOf(one.page), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(one.page),
    })
    assert.equal(first.status, 303)
    assert.equal(
      new URL(first.headers.get('location') ?? '').searchParams.get('state'),
      one.auth.state,
    )
    const second = await browser.post(actionOf(two.page), {
      username: 'alice',
      password: 'wonderland',
      csrf: csrfOf(two.page),
    })
    assert.equal(
      new URL(second.headers.get('location') ?? '').searchParams.get('state'),
      two.auth.state,
    )
  })
})

describe('signing keys', () => {
  it('retires old keys on rotation (private part deleted, public kept until tokens expire) and revokes outright', async () => {
    const { op, store, now } = await testOp()
    const [before] = await store.list('key')
    assert.ok(before?.privateJwk)
    await op.rotateKeys()
    const old = await store.get('key', before?.kid ?? '')
    assert.equal(old?.privateJwk, undefined)
    assert.ok(old?.retiredAt)
    const jwks = async () =>
      (
        (await (await op.handler(new Request(`${ISSUER}/jwks`))).json()) as {
          keys: { kid: string }[]
        }
      ).keys.map((k) => k.kid)
    assert.ok((await jwks()).includes(before?.kid ?? ''))
    now.value += 700_000
    assert.ok(
      !(await jwks()).includes(before?.kid ?? ''),
      'unpublished after the longest token lifetime',
    )
    const [current] = await jwks()
    await op.revokeKey(current ?? '')
    assert.ok(!(await jwks()).includes(current ?? ''))
  })
})

describe('native redirect URIs', () => {
  it('accept any loopback port but only in canonical form', async () => {
    const { op } = await testOp()
    for (const [uri, ok] of [
      ['http://127.0.0.1:5000/callback', true],
      ['http://127.0.0.1:5000/x/../callback', false],
      ['HTTP://127.0.0.1:5000/callback', false],
      ['http://127.1:5000/callback', false],
      ['http://localhost:5000/callback', false],
    ] as const) {
      const auth = await authorizationUrl(ISSUER, { client_id: 'cli', redirect_uri: uri })
      const response = await op.handler(new Request(auth.url))
      assert.equal(response.status === 303, ok, uri)
    }
  })
})
