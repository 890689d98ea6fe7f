// The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0) and session ids in ID tokens:
// logout with an id_token_hint of this browser's session (expired ones too), the confirmation
// page otherwise, CSRF and cross-browser attempts, and hostile requests (exact status, nothing
// ended, nothing redirected, nothing echoed).
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { decodeJwt, SignJWT } from 'jose'
import type { Op } from '../../src/op/create-op.ts'
import type { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { actionOf, Browser, csrfOf } from './helpers/browser.ts'
import { ISSUER, testOp } from './helpers/op-setup.ts'
import { signedIn as signedInAt, signIn as signInAt } from './helpers/sign-in.ts'

const RP = 'https://rp.example'
const CALLBACK = `${RP}/cb`
const AFTER = `${RP}/signed-out?from=op`
const END = `${ISSUER}/logout`

let op: Op
let store: ReturnType<typeof createMemoryOpStore>
let now: { value: number }

before(async () => {
  ;({ op, store, now } = await testOp({
    clients: [
      {
        client_id: 'rp',
        redirect_uris: [CALLBACK],
        post_logout_redirect_uris: [AFTER],
        skip_consent: true,
        client_name: 'The <RP>',
      },
      { client_id: 'other', redirect_uris: [CALLBACK], skip_consent: true },
      { client_id: 'asks', redirect_uris: [CALLBACK] },
    ],
  }))
})

const signIn = (browser: Browser, clientId = 'rp') => signInAt(op, browser, clientId, CALLBACK)
const signedIn = (browser: Browser) => signedInAt(op, browser, 'rp', CALLBACK)

function endSession(params: Record<string, string>): URL {
  const url = new URL(END)
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v)
  return url
}

describe('session ids', () => {
  it('puts the OP session’s sid in ID tokens, the same for every client of one session', async () => {
    const browser = new Browser(op.handler)
    const first = decodeJwt((await signIn(browser)).id_token)
    const second = decodeJwt((await signIn(browser, 'other')).id_token)
    assert.match(String(first.sid), /^[A-Za-z0-9_-]{22}$/)
    assert.equal(second.sid, first.sid)
    const elsewhere = decodeJwt((await signIn(new Browser(op.handler))).id_token)
    assert.notEqual(elsewhere.sid, first.sid)
  })

  it('advertises end_session_endpoint', () => {
    assert.equal(op.metadata().end_session_endpoint, END)
  })
})

describe('RP-initiated logout', () => {
  it('ends the session named by id_token_hint and returns to the registered URI with state', async () => {
    const browser = new Browser(op.handler)
    const { id_token } = await signIn(browser)
    const sid = String(decodeJwt(id_token).sid)
    assert.ok(await store.get('sessionClient', `${sid} rp`))
    const response = await browser.get(
      endSession({ id_token_hint: id_token, post_logout_redirect_uri: AFTER, state: 's-1' }),
    )
    assert.equal(response.status, 303)
    const back = new URL(response.headers.get('location') ?? '')
    assert.equal(`${back.origin}${back.pathname}`, `${RP}/signed-out`)
    assert.equal(back.searchParams.get('from'), 'op')
    assert.equal(back.searchParams.get('state'), 's-1')
    assert.ok(response.headers.getSetCookie().some((c) => /^ak_op_session=;.*Max-Age=0/.test(c)))
    assert.equal(await signedIn(browser), false)
    assert.equal(await store.get('sessionClient', `${sid} rp`), undefined)
  })

  it('accepts an expired id_token_hint (POST form too)', async () => {
    const browser = new Browser(op.handler)
    const { id_token } = await signIn(browser)
    now.value += 3600_000
    try {
      const response = await browser.post(END, { id_token_hint: id_token })
      assert.equal(response.status, 200)
      assert.match(await response.text(), /You are signed out/)
      assert.equal(await signedIn(browser), false)
    } finally {
      now.value -= 3600_000
    }
  })

  it('asks first without a hint; the confirmed logout ends the session and returns with state', async () => {
    const browser = new Browser(op.handler)
    await signIn(browser)
    const ask = await browser.get(
      endSession({ client_id: 'rp', post_logout_redirect_uri: AFTER, state: 's-2' }),
    )
    assert.equal(ask.status, 200)
    const html = await ask.text()
    assert.ok(html.includes('The &lt;RP&gt;'))
    assert.equal(await signedIn(browser), true, 'nothing ended before the user confirms')
    const uid = /name="uid" value="([^"]+)"/.exec(html)?.[1] ?? ''
    const done = await browser.post(actionOf(html), { uid, csrf: csrfOf(html), decision: 'logout' })
    assert.equal(done.status, 303)
    assert.equal(new URL(done.headers.get('location') ?? '').searchParams.get('state'), 's-2')
    assert.equal(await signedIn(browser), false)
  })

  it('keeps the session when the user chooses to stay, and a confirmation form works once', async () => {
    const browser = new Browser(op.handler)
    await signIn(browser)
    const html = await (await browser.get(endSession({}))).text()
    const uid = /name="uid" value="([^"]+)"/.exec(html)?.[1] ?? ''
    const form = { uid, csrf: csrfOf(html), decision: 'stay' }
    const stay = await browser.post(actionOf(html), form)
    assert.equal(stay.status, 200)
    assert.match(await stay.text(), /still signed in/)
    const again = await browser.post(actionOf(html), { ...form, decision: 'logout' })
    assert.equal(again.status, 400)
    assert.equal(await signedIn(browser), true)
  })

  it('asks first when the hint is another user’s or another session’s', async () => {
    const mine = new Browser(op.handler)
    await signIn(mine)
    const theirs = (await signIn(new Browser(op.handler))).id_token
    const response = await mine.get(endSession({ id_token_hint: theirs }))
    assert.equal(response.status, 200)
    assert.match(await response.text(), /Sign out\?/)
    assert.equal(await signedIn(mine), true)
  })

  it('refuses a confirmation made in another browser (logout CSRF): 400, victim still signed in', async () => {
    const attacker = new Browser(op.handler)
    await signIn(attacker)
    const html = await (await attacker.get(endSession({}))).text()
    const uid = /name="uid" value="([^"]+)"/.exec(html)?.[1] ?? ''
    const victim = new Browser(op.handler)
    await signIn(victim)
    const forged = await victim.post(actionOf(html), {
      uid,
      csrf: csrfOf(html),
      decision: 'logout',
    })
    assert.equal(forged.status, 400)
    assert.equal(forged.headers.get('location'), null)
    assert.equal(await signedIn(victim), true)
    assert.equal(await signedIn(attacker), true)
  })

  it('asks first for a hint without sid, even of the same user (it could be any earlier session)', async () => {
    const browser = new Browser(op.handler)
    await signIn(browser)
    // Another OP over the same store signs with the same keys, for the same user, but with no
    // OP session (auto-login): its ID token has no sid.
    const { createOp } = await import('../../src/op/create-op.ts')
    const twin = await createOp({
      issuer: ISSUER,
      store,
      clock: { now: () => now.value },
      logger: { warn: () => {}, error: () => {} },
      dangerouslyAutoLogin: 'alice',
    })
    const { signIn: twinSignIn } = await import('./helpers/sign-in.ts')
    const { id_token } = await twinSignIn(twin, new Browser(twin.handler), 'rp', CALLBACK)
    assert.equal(decodeJwt(id_token).sid, undefined)
    const response = await browser.get(endSession({ id_token_hint: id_token }))
    assert.equal(response.status, 200)
    assert.match(await response.text(), /Sign out\?/)
    assert.equal(await signedIn(browser), true)
  })

  it('refuses a consent left open in a tab once the OP session is logged out: no code', async () => {
    const browser = new Browser(op.handler)
    const { id_token } = await signIn(browser)
    const { authorizationUrl } = await import('./helpers/browser.ts')
    const auth = await authorizationUrl(ISSUER, { client_id: 'asks', redirect_uri: CALLBACK })
    const page = await browser.get((await browser.get(auth.url)).headers.get('location') ?? '')
    const consentHtml = await page.text()
    assert.match(consentHtml, /decision/, 'the consent page is showing')
    assert.equal((await browser.get(endSession({ id_token_hint: id_token }))).status, 200)
    const allow = await browser.post(actionOf(consentHtml), {
      csrf: csrfOf(consentHtml),
      decision: 'allow',
    })
    assert.equal(allow.status, 400)
    assert.equal(allow.headers.get('location'), null, 'no code for a logged-out session')
  })

  it('without a session, goes straight back to a registered URI (nothing to end)', async () => {
    const response = await new Browser(op.handler).get(
      endSession({ client_id: 'rp', post_logout_redirect_uri: AFTER, state: 'x' }),
    )
    assert.equal(response.status, 303)
    assert.equal(new URL(response.headers.get('location') ?? '').searchParams.get('state'), 'x')
  })
})

describe('hostile end-session requests: 400 page, no redirect, nothing ended, nothing echoed', async () => {
  const forgedHint = () =>
    new SignJWT({ sub: 'alice', aud: 'rp' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setIssuedAt()
      .sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef'))
  const none = (claims: object) =>
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
  const MARK = 'zz<hostile>'
  const cases: [
    string,
    (tokens: {
      id_token: string
      access_token: string
    }) => Promise<Record<string, string>> | Record<string, string>,
    RegExp,
  ][] = [
    [
      'an unregistered post_logout_redirect_uri',
      () => ({ client_id: 'rp', post_logout_redirect_uri: `${RP}/evil?${MARK}` }),
      /not registered/,
    ],
    [
      'a registered URI of another client',
      () => ({ client_id: 'other', post_logout_redirect_uri: AFTER }),
      /not registered/,
    ],
    [
      'a post_logout_redirect_uri without a client',
      () => ({ post_logout_redirect_uri: AFTER }),
      /needs &quot;client_id&quot;/,
    ],
    [
      'client_id not matching the hint',
      (t) => ({ id_token_hint: t.id_token, client_id: 'other' }),
      /does not match/,
    ],
    ['an unknown client_id', () => ({ client_id: MARK }), /not a registered client/],
    [
      'an access token as id_token_hint',
      (t) => ({ id_token_hint: t.access_token }),
      /not a valid ID token/,
    ],
    [
      'an alg=none hint',
      () => ({ id_token_hint: none({ iss: ISSUER, sub: 'alice', aud: 'rp', iat: 1 }) }),
      /not a valid ID token/,
    ],
    [
      'an HS256 hint signed by someone else',
      async () => ({ id_token_hint: await forgedHint() }),
      /not a valid ID token/,
    ],
    [
      'a tampered hint',
      (t) => ({ id_token_hint: `${t.id_token.slice(0, -4)}AAAA` }),
      /not a valid ID token/,
    ],
    ['garbage as hint', () => ({ id_token_hint: MARK }), /not a valid ID token/],
    ['malformed ui_locales', () => ({ ui_locales: `en ${MARK}` }), /ui_locales/],
  ]
  for (const [what, params, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const browser = new Browser(op.handler)
      const tokens = await signIn(browser)
      const response = await browser.get(endSession({ ...(await params(tokens)), state: MARK }))
      assert.equal(response.status, 400)
      assert.equal(response.headers.get('location'), null)
      assert.equal(response.headers.getSetCookie().length, 0)
      const html = await response.text()
      assert.match(html, reason)
      assert.ok(!html.includes('hostile'), 'nothing from the request echoed')
      assert.equal(await signedIn(browser), true)
    })
  }

  it('refuses a parameter given twice and other methods', async () => {
    const browser = new Browser(op.handler)
    await signIn(browser)
    const twice = new URL(END)
    twice.searchParams.append('state', 'a')
    twice.searchParams.append('state', 'b')
    assert.equal((await browser.get(twice)).status, 400)
    const put = await browser.request(END, { method: 'PUT' })
    assert.equal(put.status, 405)
    assert.equal(put.headers.get('allow'), 'GET, POST')
    const confirmGet = await browser.get(`${END}/confirm`)
    assert.equal(confirmGet.status, 405)
    assert.equal(await signedIn(browser), true)
  })
})
