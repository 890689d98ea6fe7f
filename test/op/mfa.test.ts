// The OP with second factors (createOp({ mfa })): TOTP, recovery codes and passkeys after the
// password, passkey-first sign-in, amr/acr in the tokens, acr_values and essential acr, step-up in
// a live session, and the account page (re-authentication, CSRF). A software authenticator plays
// the passkey; Chromium does the same in test/op/passkeys-browser.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { createMemoryCredentialStore, createMfa, totpCode } from '../../src/mfa/index.ts'
import type { Op } from '../../src/op/create-op.ts'
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts'
import { actionOf, authorizationUrl, Browser, csrfOf } from './helpers/browser.ts'
import { ISSUER, testOp } from './helpers/op-setup.ts'
import { redeemCode } from './helpers/sign-in.ts'

const CALLBACK = 'https://app.example/cb'
const PASSKEY_ORIGIN = 'http://localhost:9000'

async function setup() {
  const clock = { now: () => now.value }
  const now = { value: Date.UTC(2026, 11, 2, 12, 0, 5) }
  const credentials = createMemoryCredentialStore({ clock })
  const mfa = createMfa({
    store: credentials,
    secret: 'op-mfa-test-secret-at-least-32-bytes!!',
    issuer: 'Test OP',
    clock,
    passkeys: { id: 'localhost', name: 'Test OP', origins: [PASSKEY_ORIGIN] },
  })
  const { op, store } = await testOp({ mfa, clock })
  const sub = (await store.get('username', 'alice'))?.sub as string
  return { op, store, mfa, credentials, now, sub }
}
type World = Awaited<ReturnType<typeof setup>>

/** Starts an authorization for the first-party client and opens the page it leads to. */
async function start(_op: Op, browser: Browser, params: Record<string, string> = {}) {
  const auth = await authorizationUrl(ISSUER, {
    client_id: 'first',
    redirect_uri: CALLBACK,
    ...params,
  })
  const first = await browser.get(auth.url)
  const location = first.headers.get('location') ?? ''
  if (location.startsWith(CALLBACK)) return { auth, callback: new URL(location), html: '' }
  const page = await browser.get(location)
  return { auth, callback: undefined, html: await page.text(), status: page.status }
}

async function password(browser: Browser, html: string, pw = 'wonderland') {
  return browser.post(actionOf(html), { username: 'alice', password: pw, csrf: csrfOf(html) })
}

/** The ID token's claims for a redirect with a code. */
async function claimsOf(op: Op, response: Response | URL, verifier: string) {
  const url = response instanceof URL ? response : new URL(response.headers.get('location') ?? '')
  const code = url.searchParams.get('code')
  assert.ok(code, `no code in ${url}`)
  const tokens = await redeemCode(op, code, 'first', CALLBACK, verifier)
  return { id: decodeJwt(tokens.id_token), access: decodeJwt(tokens.access_token) }
}

/** Signs alice in (password only) and enrolls TOTP through the account page. */
async function withTotp(w: World) {
  const browser = new Browser(w.op.handler)
  const { html } = await start(w.op, browser)
  await password(browser, html)
  const account = await (await browser.get(`${ISSUER}/account`)).text()
  assert.match(account, /Add an authenticator app/)
  const enroll = await browser.post(`${ISSUER}/account/totp`, { csrf: csrfOf(account) })
  const page = await enroll.text()
  const secret = /<code>([A-Z2-7 ]+)<\/code>/.exec(page)?.[1]?.replace(/ /g, '') as string
  assert.match(page, /<svg/)
  const credential = /name="credential" value="([^"]+)"/.exec(page)?.[1] as string
  const confirmed = await browser.post(`${ISSUER}/account/totp/confirm`, {
    csrf: csrfOf(page),
    credential,
    code: await totpCode(secret, w.now.value),
  })
  assert.match(await confirmed.text(), /Authenticator app added/)
  return { browser, secret }
}

describe('OP with mfa: discovery and password-only accounts', () => {
  it('advertises acr values, the claims parameter and amr/acr claims', async () => {
    const { op } = await setup()
    const meta = op.metadata() as Record<string, unknown>
    assert.deepEqual(meta.acr_values_supported, ['sfa', 'mfa', 'phr'])
    assert.equal(meta.claims_parameter_supported, true)
    for (const c of ['acr', 'amr', 'auth_time'])
      assert.ok((meta.claims_supported as string[]).includes(c))
  })

  it('a password-only account gets amr ["pwd"] and acr "sfa" in both tokens', async () => {
    const { op } = await setup()
    const browser = new Browser(op.handler)
    const { auth, html } = await start(op, browser)
    assert.match(html, /Sign in with a passkey/)
    const { id, access } = await claimsOf(op, await password(browser, html), auth.verifier)
    assert.deepEqual([id.amr, id.acr, access.amr, access.acr], [['pwd'], 'sfa', ['pwd'], 'sfa'])
  })

  it('acr_values=mfa without any factor: voluntary gives sfa, essential ends with unmet_authentication_requirements', async () => {
    const { op } = await setup()
    const voluntary = new Browser(op.handler)
    const v = await start(op, voluntary, { acr_values: 'mfa' })
    assert.equal(
      (await claimsOf(op, await password(voluntary, v.html), v.auth.verifier)).id.acr,
      'sfa',
    )
    const essential = new Browser(op.handler)
    const e = await start(op, essential, {
      claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['mfa'] } } }),
    })
    const answer = new URL((await password(essential, e.html)).headers.get('location') ?? '')
    assert.equal(answer.searchParams.get('error'), 'unmet_authentication_requirements')
    assert.equal(answer.searchParams.get('state'), e.auth.state)
    assert.equal(answer.searchParams.has('code'), false)
  })

  it('refuses malformed acr_values and claims before anything is stored', async () => {
    const { op, store } = await setup()
    const before = store.size()
    for (const params of [
      { acr_values: Array.from({ length: 11 }, (_, i) => `a${i}`).join(' ') },
      { acr_values: 'é' },
      { claims: '{not json' },
      { claims: '[1]' },
      { claims: JSON.stringify({ id_token: { acr: { values: 'mfa' } } }) },
      { claims: JSON.stringify({ id_token: { acr: { values: [] } } }) },
      { claims: JSON.stringify({ id_token: { acr: 7 } }) },
      { claims: `{"x":"${'a'.repeat(5000)}"}` },
    ]) {
      const auth = await authorizationUrl(ISSUER, {
        client_id: 'first',
        redirect_uri: CALLBACK,
        ...params,
      })
      const response = await op.handler(new Request(auth.url))
      const location = new URL(response.headers.get('location') ?? '')
      assert.equal(location.searchParams.get('error'), 'invalid_request', JSON.stringify(params))
      assert.ok(!(location.searchParams.get('error_description') ?? '').includes('aaaa'))
    }
    assert.equal(store.size(), before, 'no interaction or other record stored')
  })
})

describe('OP with mfa: TOTP and recovery codes', () => {
  it('asks for the code after the password; amr pwd+otp+mfa, acr mfa', async () => {
    const w = await setup()
    const { secret } = await withTotp(w)
    w.now.value += 30_000
    const browser = new Browser(w.op.handler)
    const { auth, html } = await start(w.op, browser)
    const second = await password(browser, html)
    const page = await second.text()
    assert.equal(second.status, 200)
    assert.match(
      page,
      /Code from your authenticator app, or a recovery code|Code from your authenticator app/,
    )
    assert.ok(!browser.cookies.has('ak_op_session'), 'no session before the second factor')
    const wrong = await browser.post(actionOf(page), { csrf: csrfOf(page), code: '000917' })
    assert.equal(wrong.status, 401)
    const retry = await wrong.text()
    assert.ok(!retry.includes('000917'), 'the wrong code is not echoed')
    const right = await browser.post(actionOf(retry), {
      csrf: csrfOf(retry),
      code: await totpCode(secret, w.now.value),
    })
    const { id } = await claimsOf(w.op, right, auth.verifier)
    assert.deepEqual([id.amr, id.acr], [['pwd', 'otp', 'mfa'], 'mfa'])
  })

  it('refuses a TOTP code already used, and the second-factor step without the first', async () => {
    const w = await setup()
    const { secret } = await withTotp(w)
    w.now.value += 30_000
    const code = await totpCode(secret, w.now.value)
    const a = new Browser(w.op.handler)
    const first = await start(w.op, a)
    const pageA = await (await password(a, first.html)).text()
    const ok = await a.post(actionOf(pageA), { csrf: csrfOf(pageA), code })
    assert.equal(ok.status, 303)
    const b = new Browser(w.op.handler)
    const second = await start(w.op, b)
    const pageB = await (await password(b, second.html)).text()
    const replay = await b.post(actionOf(pageB), { csrf: csrfOf(pageB), code })
    assert.equal(replay.status, 401)
    // Straight to /otp without the password step: nothing expected.
    const c = new Browser(w.op.handler)
    const third = await start(w.op, c)
    const skip = await c.post(actionOf(third.html).replace(/\/login$/, '/otp'), {
      csrf: csrfOf(third.html),
      code,
    })
    assert.equal(skip.status, 400)
  })

  it('limits guesses: five wrong codes end the interaction', async () => {
    const w = await setup()
    await withTotp(w)
    const browser = new Browser(w.op.handler)
    const { html } = await start(w.op, browser)
    let page = await (await password(browser, html)).text()
    let last: Response | undefined
    for (let i = 0; i < 5; i++) {
      last = await browser.post(actionOf(page), { csrf: csrfOf(page), code: String(100000 + i) })
      if (last.status === 401) page = await last.text()
    }
    assert.equal(last?.status, 429)
  })

  it('takes a recovery code once', async () => {
    const w = await setup()
    await withTotp(w)
    const [code] = await w.mfa.generateRecoveryCodes(w.sub)
    for (const expected of [303, 401]) {
      const browser = new Browser(w.op.handler)
      const { html } = await start(w.op, browser)
      const page = await (await password(browser, html)).text()
      const r = await browser.post(actionOf(page), { csrf: csrfOf(page), code: code as string })
      assert.equal(r.status, expected)
    }
  })

  it('asks for the enrolled factor whatever acr_values says (sfa, phr, unknown)', async () => {
    const w = await setup()
    await withTotp(w)
    for (const acr_values of ['sfa', 'bogus', 'phr', 'mfa bogus']) {
      const browser = new Browser(w.op.handler)
      const { html } = await start(w.op, browser, { acr_values })
      const second = await password(browser, html)
      assert.equal(second.status, 200, `${acr_values}: no code after the password alone`)
      assert.match(await second.text(), /Code from your authenticator app/, acr_values)
      assert.ok(!browser.cookies.has('ak_op_session'), acr_values)
    }
  })

  it('a step-up whose session ended meanwhile starts no session of its own', async () => {
    const w = await setup()
    const { browser, secret } = await withTotp(w)
    w.now.value += 30_000
    const up = await start(w.op, browser, { acr_values: 'mfa' })
    assert.match(up.html, /Confirm it’s you/)
    // The session ends (logged out elsewhere) while the code page is open.
    await w.op.logoutUser(w.sub)
    const done = await browser.post(actionOf(up.html), {
      csrf: csrfOf(up.html),
      code: await totpCode(secret, w.now.value),
    })
    assert.equal(done.status, 400)
    assert.equal(done.headers.get('location'), null)
    const after = await start(w.op, browser, { prompt: 'none' })
    assert.equal(after.callback?.searchParams.get('error'), 'login_required')
  })

  it('steps up a live password session in place when acr_values asks for mfa', async () => {
    const w = await setup()
    const { browser, secret } = await withTotp(w)
    const sessionBefore = browser.cookies.get('ak_op_session')?.value
    // The session was made with the password alone: reused as is without acr_values.
    const plain = await start(w.op, browser)
    assert.ok(plain.callback)
    const plainClaims = (await claimsOf(w.op, plain.callback, plain.auth.verifier)).id
    assert.equal(plainClaims.acr, 'sfa')
    const sidBefore = plainClaims.sid
    // prompt=none cannot step up.
    const none = await start(w.op, browser, { acr_values: 'mfa', prompt: 'none' })
    assert.equal(none.callback?.searchParams.get('error'), 'login_required')
    w.now.value += 30_000
    const up = await start(w.op, browser, { acr_values: 'mfa' })
    assert.match(up.html, /Confirm it’s you/)
    assert.ok(!/name="password"/.test(up.html), 'no password again')
    const done = await browser.post(actionOf(up.html), {
      csrf: csrfOf(up.html),
      code: await totpCode(secret, w.now.value),
    })
    const { id } = await claimsOf(w.op, done, up.auth.verifier)
    assert.deepEqual([id.acr, id.amr], ['mfa', ['pwd', 'otp', 'mfa']])
    assert.equal(id.auth_time, Math.floor(w.now.value / 1000))
    assert.notEqual(
      browser.cookies.get('ak_op_session')?.value,
      sessionBefore,
      'a new cookie secret',
    )
    assert.equal(id.sid, sidBefore, 'the same OP session (sid), upgraded in place')
    const again = await start(w.op, browser, { acr_values: 'mfa' })
    assert.ok(again.callback, 'the upgraded session meets mfa now')
  })
})

describe('OP with mfa: passkeys', () => {
  async function register(w: World) {
    const browser = new Browser(w.op.handler)
    const { html } = await start(w.op, browser)
    await password(browser, html)
    const account = await (await browser.get(`${ISSUER}/account`)).text()
    const options = await (
      await browser.request(`${ISSUER}/account/passkey/options`, { method: 'POST' })
    ).json()
    const auth = new SoftAuthenticator(PASSKEY_ORIGIN)
    const added = await browser.post(`${ISSUER}/account/passkey`, {
      csrf: csrfOf(account),
      name: 'Laptop',
      response: JSON.stringify(auth.create(options)),
    })
    assert.match(await added.text(), /Passkey added/)
    return auth
  }

  it('signs in with a passkey alone (usernameless): amr hwk+mfa, acr phr', async () => {
    const w = await setup()
    const auth = await register(w)
    const browser = new Browser(w.op.handler)
    const { auth: request, html } = await start(w.op, browser)
    const base = actionOf(html).replace(/\/login$/, '')
    const options = await (
      await browser.request(`${base}/passkey/options`, { method: 'POST' })
    ).json()
    assert.deepEqual(options.allowCredentials ?? [], [])
    const done = await browser.post(`${base}/passkey`, {
      csrf: csrfOf(html),
      response: JSON.stringify(auth.get(options)),
    })
    const { id } = await claimsOf(w.op, done, request.verifier)
    assert.deepEqual([id.amr, id.acr, id.sub], [['hwk', 'mfa'], 'phr', w.sub])
  })

  it('asks for the passkey after the password, and acr_values=phr offers only it', async () => {
    const w = await setup()
    const auth = await register(w)
    const browser = new Browser(w.op.handler)
    const { auth: request, html } = await start(w.op, browser, { acr_values: 'phr' })
    const page = await (await password(browser, html)).text()
    assert.match(page, /Use a passkey/)
    assert.ok(!/name="code"/.test(page))
    const base = actionOf(html).replace(/\/login$/, '')
    const options = await (
      await browser.request(`${base}/passkey/options`, { method: 'POST' })
    ).json()
    const done = await browser.post(`${base}/passkey`, {
      csrf: csrfOf(page),
      response: JSON.stringify(auth.get(options)),
    })
    const { id } = await claimsOf(w.op, done, request.verifier)
    assert.deepEqual([id.amr, id.acr], [['pwd', 'hwk', 'mfa'], 'phr'])
  })

  it('refuses an assertion made for another interaction, and options without its cookie', async () => {
    const w = await setup()
    const auth = await register(w)
    const a = new Browser(w.op.handler)
    const b = new Browser(w.op.handler)
    const pa = await start(w.op, a)
    const pb = await start(w.op, b)
    const baseA = actionOf(pa.html).replace(/\/login$/, '')
    const baseB = actionOf(pb.html).replace(/\/login$/, '')
    const optionsA = await (await a.request(`${baseA}/passkey/options`, { method: 'POST' })).json()
    const stolen = await b.post(`${baseB}/passkey`, {
      csrf: csrfOf(pb.html),
      response: JSON.stringify(auth.get(optionsA)),
    })
    assert.equal(stolen.status, 401)
    assert.ok(!b.cookies.has('ak_op_session'))
    const stranger = new Browser(w.op.handler)
    assert.equal(
      (await stranger.request(`${baseA}/passkey/options`, { method: 'POST' })).status,
      400,
    )
  })
})

describe('OP with mfa: the account page', () => {
  it('needs a session, a fresh sign-in for changes, and an unspent CSRF token', async () => {
    const w = await setup()
    assert.equal((await new Browser(w.op.handler).get(`${ISSUER}/account`)).status, 401)
    const { browser, secret } = await withTotp(w)
    const page = await (await browser.get(`${ISSUER}/account`)).text()
    assert.equal((await browser.post(`${ISSUER}/account/recovery`, { csrf: 'forged' })).status, 400)
    // The session signed in with the password alone; now that the account has an app, a change
    // needs the app (the password is not enough).
    const needsFactor = await (
      await browser.post(`${ISSUER}/account/recovery`, { csrf: csrfOf(page) })
    ).text()
    assert.match(needsFactor, /Confirm it’s you/)
    assert.ok(!/name="password"/.test(needsFactor))
    w.now.value += 30_000
    const upgraded = await (
      await browser.post(`${ISSUER}/account/reauth`, {
        csrf: csrfOf(needsFactor),
        code: await totpCode(secret, w.now.value),
      })
    ).text()
    assert.match(upgraded, /Confirmed/)
    const csrf = csrfOf(upgraded)
    const codes = await browser.post(`${ISSUER}/account/recovery`, { csrf })
    assert.equal((await codes.text()).match(/<li><code>/g)?.length, 10)
    assert.equal(
      (await browser.post(`${ISSUER}/account/recovery`, { csrf })).status,
      400,
      'spent token',
    )
    // Six minutes later a change needs a fresh confirmation, and the password alone is not enough.
    w.now.value += 360_000
    const stale = await (await browser.get(`${ISSUER}/account`)).text()
    const reauth = await (
      await browser.post(`${ISSUER}/account/recovery`, { csrf: csrfOf(stale) })
    ).text()
    assert.match(reauth, /Confirm it’s you/)
    const pw = await browser.post(`${ISSUER}/account/reauth`, {
      csrf: csrfOf(reauth),
      username: 'alice',
      password: 'wonderland',
    })
    assert.equal(pw.status, 401)
    const retry = await pw.text()
    const confirmed = await browser.post(`${ISSUER}/account/reauth`, {
      csrf: csrfOf(retry),
      code: await totpCode(secret, w.now.value),
    })
    const list = await confirmed.text()
    assert.match(list, /Confirmed/)
    const totpId = (await w.mfa.factors(w.sub)).totp[0]?.id as string
    const renamed = await (
      await browser.post(`${ISSUER}/account/rename`, {
        csrf: csrfOf(list),
        credential: totpId,
        name: 'Work <phone>',
      })
    ).text()
    assert.match(renamed, /Renamed\./)
    assert.ok(renamed.includes('<strong>Work &lt;phone&gt;</strong>'))
    const removed = await browser.post(`${ISSUER}/account/remove`, {
      csrf: csrfOf(renamed),
      credential: totpId,
    })
    assert.match(await removed.text(), /Removed/)
    assert.deepEqual((await w.mfa.factors(w.sub)).totp, [])
  })

  it('limits password re-entry on the account page like codes', async () => {
    const w = await setup()
    const browser = new Browser(w.op.handler)
    const { html } = await start(w.op, browser)
    await password(browser, html)
    w.now.value += 360_000
    let page = await (await browser.get(`${ISSUER}/account`)).text()
    page = await (await browser.post(`${ISSUER}/account/recovery`, { csrf: csrfOf(page) })).text()
    for (let i = 0; i < 5; i++) {
      const r = await browser.post(`${ISSUER}/account/reauth`, {
        csrf: csrfOf(page),
        username: 'alice',
        password: `wrong-${i}`,
      })
      assert.equal(r.status, 401)
      page = await r.text()
    }
    const right = await browser.post(`${ISSUER}/account/reauth`, {
      csrf: csrfOf(page),
      username: 'alice',
      password: 'wonderland',
    })
    assert.match(await right.text(), /Too many attempts/)
  })

  it('is absent without mfa', async () => {
    const { op } = await testOp()
    assert.equal((await op.handler(new Request(`${ISSUER}/account`))).status, 404)
  })
})
