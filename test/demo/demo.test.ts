// `npm start` as a user runs it: the demo process on a free port, offline, no configuration,
// driven over HTTP by a browser without JavaScript (one path-aware cookie jar for the app and its
// OP, which share the origin): home, a full login through the OP's form, the profile, the flow
// inspector's PKCE proof, sign-out; then the optional providers and a bad secret.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Pkce } from '../../src/core/pkce.ts'
import { totpCode } from '../../src/mfa/totp.ts'
import { rawHttp } from '../helpers/net.ts'
import { type DemoProcess, spawnDemo, startDemo } from './helpers/demo-process.ts'
import { HttpBrowser, readForm, unescapeHtml } from './helpers/path-jar.ts'

/** The value cell of a parameter row in the inspector's tables. */
function paramValue(html: string, name: string): string | undefined {
  const row = new RegExp(`<th scope="row"><code>${name}</code></th><td><code>([^<]*)</code>`).exec(
    html,
  )
  return row?.[1] === undefined ? undefined : unescapeHtml(row[1])
}

describe('the demo (npm start), over HTTP', () => {
  let demo: DemoProcess
  let browser: HttpBrowser
  const seen = { challenge: '', verifier: '', code: '', session: '' }

  before(async () => {
    demo = await startDemo()
    browser = new HttpBrowser(demo.origin)
  })
  after(async () => {
    await demo?.stop()
  })

  it('prints where to go, and nothing secret', () => {
    const out = demo.output()
    assert.match(demo.origin, /^http:\/\/localhost:\d+$/)
    assert.match(out, /sign in with Authkestra ID as alice \/ wonderland/)
    assert.match(out, new RegExp(`Flow inspector: ${demo.origin}/inspector`))
    assert.match(out, new RegExp(`${demo.origin}/oidc`))
    assert.match(out, /Sessions are kept in SQLite \(.*demo\.sqlite\): sign-ins survive a restart/)
    assert.match(out, /AUTH_SECRET is not set: a random secret was generated/)
  })

  it('serves the home page signed out, with the sign-in button and a strict CSP', async () => {
    const { response, html } = await browser.page('/')
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
    const csp = response.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'none'/)
    assert.doesNotMatch(csp, /script-src|unsafe-inline/)
    assert.doesNotMatch(html, /<script|\sstyle=|\son[a-z]+=/i)
    assert.match(
      html,
      /<a class="button primary provider-authkestra" href="\/auth\/login\/authkestra\?returnTo=\/profile">Sign in with Authkestra ID<\/a>/,
    )
    assert.doesNotMatch(html, /GitHub|Google/)
    const css = await browser.request('/assets/demo.css')
    assert.equal(css.status, 200)
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/)
    await css.body?.cancel()
  })

  it('sends a signed-out visitor from /profile to /, and shows an empty inspector', async () => {
    const profile = await browser.request('/profile')
    assert.equal(profile.status, 302)
    assert.equal(profile.headers.get('location'), '/')
    const { html } = await browser.page('/inspector')
    assert.match(html, /Nothing to show yet/)
    assert.match(html, /href="\/auth\/login\/authkestra\?returnTo=\/inspector"/)
  })

  it('redirects a GET for the other loopback names to http://localhost:<port>', async () => {
    const port = new URL(demo.origin).port
    const response = await fetch(`http://127.0.0.1:${port}/profile?x=1`, { redirect: 'manual' })
    assert.equal(response.status, 302)
    assert.equal(response.headers.get('location'), `${demo.origin}/profile?x=1`)
    const post = await rawHttp(Number(port), {
      host: `127.0.0.1:${port}`,
      method: 'POST',
      path: '/auth/logout',
    })
    assert.equal(post.status, 421)
  })

  it('refuses any other host name with 421, even a GET (DNS rebinding), and a missing Host with 400', async () => {
    const port = Number(new URL(demo.origin).port)
    for (const path of ['/', '/oidc/.well-known/openid-configuration', '/auth/login/authkestra']) {
      const rebound = await rawHttp(port, { host: `attacker.example:${port}`, path })
      assert.equal(rebound.status, 421, path)
      assert.equal(rebound.headers.location, undefined)
      assert.equal(rebound.headers['set-cookie'], undefined, 'no flow cookie, nothing started')
      assert.doesNotMatch(rebound.body, /attacker/)
    }
    assert.equal((await rawHttp(port, { host: undefined })).status, 400)
  })

  it('signs alice in through the OP login form and lands on her profile', async () => {
    const start = await browser.request('/auth/login/authkestra?returnTo=/profile')
    assert.equal(start.status, 302)
    const authorization = new URL(start.headers.get('location') ?? '')
    assert.equal(authorization.origin + authorization.pathname, `${demo.origin}/oidc/authorize`)
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256')
    seen.challenge = authorization.searchParams.get('code_challenge') ?? ''
    assert.match(seen.challenge, /^[A-Za-z0-9_-]{43}$/)
    const callbackPath = new URL('/auth/callback/authkestra', demo.origin)
    assert.equal(browser.jar.names(callbackPath).filter((n) => n.startsWith('ak_flow_')).length, 1)
    assert.deepEqual(
      browser.jar.names(new URL('/', demo.origin)).filter((n) => n.startsWith('ak_flow_')).length,
      1,
      'the flow cookie is on / (so a new login can count and cap them)',
    )

    // The OP's login form, same origin, same cookie jar.
    const toOp = await browser.request(authorization)
    assert.equal(toOp.status, 303)
    const interaction = new URL(toOp.headers.get('location') ?? '', authorization)
    assert.match(interaction.pathname, /^\/oidc\/interaction\/[A-Za-z0-9_-]{22}$/)
    assert.ok(browser.jar.names(interaction).includes('ak_op_interaction'))
    assert.ok(!browser.jar.names(authorization).includes('ak_op_interaction'))
    const loginPage = await browser.page(interaction)
    assert.equal(loginPage.response.status, 200)
    assert.match(loginPage.html, /<input type="password" id="password" name="password"/)
    const form = readForm(loginPage.html, interaction)
    const signedIn = await browser.post(form.action, {
      ...form.fields,
      username: 'alice',
      password: 'wonderland',
    })
    assert.equal(signedIn.status, 303, 'the demo app is first-party: no consent page')
    const callback = new URL(signedIn.headers.get('location') ?? '', form.action)
    assert.equal(callback.origin + callback.pathname, callbackPath.href)
    assert.equal(callback.searchParams.get('iss'), `${demo.origin}/oidc`)
    assert.equal(callback.searchParams.get('state'), authorization.searchParams.get('state'))
    seen.code = callback.searchParams.get('code') ?? ''
    assert.notEqual(seen.code, '')
    assert.ok(browser.jar.names(new URL('/oidc/authorize', demo.origin)).includes('ak_op_session'))

    const landed = await browser.request(callback)
    assert.equal(landed.status, 302)
    assert.equal(landed.headers.get('location'), '/profile')
    seen.session =
      /ak_session=([^;]+)/.exec(browser.jar.header(new URL(demo.origin)) ?? '')?.[1] ?? ''
    assert.notEqual(seen.session, '')
    assert.deepEqual(
      browser.jar.names(callbackPath).filter((n) => n.startsWith('ak_flow_')),
      [],
      'the flow cookie is gone after the callback',
    )

    const { response, html } = await browser.page('/profile')
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.match(html, /<h1>Alice Liddell<\/h1>/)
    assert.match(html, /alice@example\.com <span class="badge ok">verified<\/span>/)
    assert.match(html, /<dt>Signed in with<\/dt><dd>Authkestra ID<\/dd>/)
    assert.match(html, /<th scope="row"><code>email_verified<\/code><\/th><td><code>true<\/code>/)
    assert.match(
      html,
      /<th scope="row"><code>preferred_username<\/code><\/th><td><code>alice<\/code>/,
    )
    assert.match(
      html,
      /<dt>Expires<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC <span class="muted">\(in 7 days/,
    )
    assert.match(html, /<form class="signout" method="post" action="\/auth\/logout">/)
    assert.match(html, /<form class="signout" method="post" action="\/auth\/logout-everywhere">/)

    const home = await browser.page('/')
    assert.match(home.html, /Welcome back, Alice Liddell/)
    assert.match(home.html, /href="\/profile"/)
    assert.doesNotMatch(home.html, /Sign in with Authkestra ID/)
  })

  it('shows the login step by step in the flow inspector, with the PKCE proof', async () => {
    const { response, html } = await browser.page('/inspector')
    assert.equal(response.status, 200)
    // (1) the authorization request, challenge and method highlighted
    assert.match(
      html,
      new RegExp(
        `<tr class="highlight"><th scope="row"><code>code_challenge</code></th><td><code>${seen.challenge}</code>`,
      ),
    )
    assert.match(
      html,
      /<tr class="highlight"><th scope="row"><code>code_challenge_method<\/code><\/th><td><code>S256<\/code>/,
    )
    // (2) the callback: code redacted, state and iss checked
    assert.equal(paramValue(html, 'code'), `[redacted, ${seen.code.length} characters]`)
    assert.ok(!html.includes(seen.code), 'the authorization code is never shown')
    assert.match(html, /<span class="check ok" title="matches">✓<\/span> <code>state<\/code>/)
    assert.match(html, /✓<\/span> <code>iss<\/code> is the provider's issuer/)
    // (3) the token request carried the verifier, whose hash is the challenge
    seen.verifier = paramValue(html, 'code_verifier') ?? ''
    assert.match(seen.verifier, /^[A-Za-z0-9._~-]{43,128}$/)
    assert.equal(await Pkce.challenge(seen.verifier), seen.challenge)
    assert.match(html, /BASE64URL\(SHA256\(code_verifier\)\), computed now/)
    assert.equal(
      html.split(seen.challenge).length - 1,
      4,
      'the challenge: in the URL and the table of step 1, and both sides of the check',
    )
    assert.match(html, /<h3>PKCE check <span class="check ok" title="matches">✓<\/span><\/h3>/)
    assert.doesNotMatch(html, /✗/)
    // (4) the result, JWTs decoded without their signature (opaque tokens cut to 8 characters)
    assert.match(html, /<dt>Subject<\/dt><dd><code>[^<]+<\/code><\/dd>/)
    assert.match(html, /<dt>Token type<\/dt><dd>Bearer<\/dd>/)
    const decoded = String.raw`\{[^<]*alg[^<]*\} \. \{[^<]*sub[^<]*\} \. \[signature, \d+ characters\]`
    assert.match(html, new RegExp(`<dt>Access token</dt><dd><code>${decoded}</code></dd>`))
    assert.match(html, new RegExp(`<dt>ID token</dt><dd><code>${decoded}</code></dd>`))
    assert.match(
      html,
      new RegExp(`<th scope="row"><code>access_token</code></th><td><code>${decoded}</code>`),
    )
    assert.doesNotMatch(
      html,
      /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/,
      'no whole JWT on the page',
    )
  })

  it('refuses a cross-site sign-out, then signs out on a same-origin POST', async () => {
    const foreign = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
    })
    assert.equal(foreign.status, 403)
    await foreign.body?.cancel()
    assert.equal((await browser.request('/profile')).status, 200)

    // The header's "Sign out" ends this app's session only (Authkestra ID's stays).
    const out = await browser.request('/auth/logout?local=true', {
      method: 'POST',
      headers: { origin: demo.origin },
    })
    assert.equal(out.status, 303)
    assert.equal(out.headers.get('location'), '/')
    assert.deepEqual(browser.jar.names(new URL('/profile', demo.origin)), [])
    const profile = await browser.request('/profile')
    assert.equal(profile.status, 302)
    const home = await browser.page('/')
    assert.match(home.html, /Sign in with Authkestra ID/)
    // The old session id is dead on the server too, not just dropped by the browser.
    const replay = await fetch(new URL('/profile', demo.origin), {
      headers: { cookie: `ak_session=${seen.session}` },
      redirect: 'manual',
    })
    assert.equal(replay.status, 302)
  })

  it('signs out everywhere: a second browser’s session ends too', async () => {
    /** A whole sign-in through the OP (its form when the browser has no OP session yet). */
    async function signIn(b: HttpBrowser): Promise<void> {
      const start = await b.request('/auth/login/authkestra?returnTo=/profile')
      let next = new URL(start.headers.get('location') ?? '', demo.origin)
      for (let hops = 0; hops < 6 && !next.pathname.startsWith('/auth/callback/'); hops++) {
        const page = await b.page(next)
        if (page.response.status === 200) {
          const form = readForm(page.html, next)
          const posted = await b.post(form.action, {
            ...form.fields,
            username: 'alice',
            password: 'wonderland',
          })
          next = new URL(posted.headers.get('location') ?? '', form.action)
        } else {
          next = new URL(page.response.headers.get('location') ?? '', next)
        }
      }
      assert.equal((await b.request(next)).status, 302)
      assert.equal((await b.request('/profile')).status, 200)
    }
    const other = new HttpBrowser(demo.origin)
    await signIn(browser)
    await signIn(other)
    const out = await browser.request('/auth/logout-everywhere', {
      method: 'POST',
      headers: { origin: demo.origin },
    })
    assert.equal(out.status, 303)
    assert.equal((await browser.request('/profile')).status, 302)
    assert.equal((await other.request('/profile')).status, 302, 'the other browser is signed out')
  })

  it('steps up for the sensitive page: an authenticator app from the account page, then its code', async () => {
    // A browser of its own, signed in with the password.
    const browser = new HttpBrowser(demo.origin)
    const start = await browser.request('/auth/login/authkestra?returnTo=/profile')
    const authorize = new URL(start.headers.get('location') ?? '')
    const loginAt = new URL(
      (await browser.request(authorize)).headers.get('location') ?? '',
      authorize,
    )
    const loginPage = await browser.page(loginAt)
    const loginForm = readForm(loginPage.html, loginAt)
    const signedIn = await browser.post(loginForm.action, {
      ...loginForm.fields,
      username: 'alice',
      password: 'wonderland',
    })
    await browser.request(new URL(signedIn.headers.get('location') ?? '', loginForm.action))
    const denied = await browser.request('/sensitive', { headers: { accept: 'application/json' } })
    assert.equal(denied.status, 401)
    assert.match(
      denied.headers.get('www-authenticate') ?? '',
      /error="insufficient_user_authentication".*acr_values="mfa phr", max_age="300"/,
    )
    await denied.body?.cancel()
    const csrf = (html: string) => unescapeHtml(/name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '')
    const account = await browser.page('/oidc/account')
    assert.equal(account.response.status, 200)
    assert.match(account.html, /Sign-in methods/)
    const enroll = await (
      await browser.post('/oidc/account/totp', { csrf: csrf(account.html) })
    ).text()
    const secret = /<code>([A-Z2-7 ]+)<\/code>/.exec(enroll)?.[1]?.replace(/ /g, '') ?? ''
    const credential = /name="credential" value="([^"]+)"/.exec(enroll)?.[1] ?? ''
    const added = await browser.post('/oidc/account/totp/confirm', {
      csrf: csrf(enroll),
      credential,
      code: await totpCode(secret, Date.now()),
    })
    assert.match(await added.text(), /Authenticator app added/)

    const login = await browser.request(
      '/auth/login/authkestra?returnTo=/sensitive&acr_values=mfa%20phr&max_age=300',
    )
    const authorization = new URL(login.headers.get('location') ?? '')
    assert.deepEqual(JSON.parse(authorization.searchParams.get('claims') ?? ''), {
      id_token: { acr: { essential: true, values: ['mfa', 'phr'] } },
    })
    const interaction = new URL(
      (await browser.request(authorization)).headers.get('location') ?? '',
      authorization,
    )
    const stepUp = await browser.page(interaction)
    assert.match(stepUp.html, /Confirm it’s you/)
    const action = new URL(
      unescapeHtml(/<form method="post" action="([^"]+)"/.exec(stepUp.html)?.[1] ?? ''),
      interaction,
    )
    // The next step's code: the one that confirmed the app is spent.
    const answered = await browser.post(action, {
      csrf: csrf(stepUp.html),
      code: await totpCode(secret, Date.now() + 30_000),
    })
    const callback = new URL(answered.headers.get('location') ?? '', action)
    const landed = await browser.request(callback)
    assert.equal(landed.headers.get('location'), '/sensitive')
    const { response, html } = await browser.page('/sensitive')
    assert.equal(response.status, 200)
    assert.match(html, /<dt>Assurance \(<code>acr<\/code>\)<\/dt><dd><code>mfa<\/code>/)
    assert.match(html, /<code>pwd otp mfa<\/code>/)
    // The flow inspector shows the essential acr asked for and the acr received.
    const inspector = await browser.page('/inspector')
    assert.match(inspector.html, /<code>claims<\/code>/)
    assert.match(
      inspector.html,
      /&quot;acr&quot;: &quot;mfa&quot;|&quot;acr&quot;:&quot;mfa&quot;|"acr": "mfa"/,
    )
  })

  it('never printed the code, the verifier or the session id', () => {
    const out = demo.output()
    for (const [name, value] of Object.entries(seen)) {
      assert.notEqual(value, '', `${name} was seen`)
      if (name !== 'challenge') assert.ok(!out.includes(value), `${name} is not in the output`)
    }
  })
})

describe('the demo, configured', () => {
  it('adds GitHub and Google buttons when their credentials are set', async () => {
    const demo = await startDemo({
      GITHUB_CLIENT_ID: 'gh-client',
      GITHUB_CLIENT_SECRET: 'gh-secret-value',
      GOOGLE_CLIENT_ID: 'google-client',
      GOOGLE_CLIENT_SECRET: 'google-secret-value',
      AUTH_SECRET: 'a-demo-secret-that-is-at-least-32-bytes-long',
    })
    try {
      const html = await (await fetch(demo.origin)).text()
      assert.match(html, /href="\/auth\/login\/github\?returnTo=\/profile">Sign in with GitHub</)
      assert.match(html, /href="\/auth\/login\/google\?returnTo=\/profile">Sign in with Google</)
      const login = await fetch(`${demo.origin}/auth/login/github`, { redirect: 'manual' })
      const url = new URL(login.headers.get('location') ?? '')
      assert.equal(url.origin, 'https://github.com')
      assert.equal(url.searchParams.get('redirect_uri'), `${demo.origin}/auth/callback/github`)
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
      const out = demo.output()
      assert.match(out, /Also signing in with: GitHub, Google/)
      assert.match(out, /Using AUTH_SECRET from the environment/)
      assert.ok(!out.includes('gh-secret-value') && !out.includes('at-least-32-bytes'))
    } finally {
      await demo.stop()
    }
  })

  it('says when only half of a provider’s credentials is set', async () => {
    const demo = await startDemo({ GITHUB_CLIENT_ID: 'gh-client' })
    try {
      assert.match(
        demo.output(),
        /GitHub sign-in needs both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET/,
      )
      const html = await (await fetch(demo.origin)).text()
      assert.doesNotMatch(html, /Sign in with GitHub/)
    } finally {
      await demo.stop()
    }
  })

  it('refuses a short AUTH_SECRET without echoing it', async () => {
    const { output, exited } = spawnDemo({ AUTH_SECRET: 'too-short-secret' })
    assert.equal(await exited, 1)
    assert.match(output(), /at least 32 bytes/)
    assert.ok(!output().includes('too-short-secret'))
  })
})
