// The OP's login page with a bot check, over real HTTP (the OP behind node:http, a fetch-driven
// browser, the loopback siteverify simulator): the widget and its CSP only when required, the
// token verified before the password (an accounts backend that counts its calls proves it), and
// a missing or refused token counted as a failed attempt.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { hcaptcha } from '../../src/captcha/hcaptcha.ts'
import { recaptchaV3 } from '../../src/captcha/recaptcha.ts'
import { turnstile } from '../../src/captcha/turnstile.ts'
import { defaultCrypto } from '../../src/core/crypto/index.ts'
import { opListener } from '../../src/node/index.ts'
import type { OpConfig } from '../../src/op/config.ts'
import type { Op } from '../../src/op/create-op.ts'
import { code } from '../helpers/assert-code.ts'
import { freePort } from '../helpers/net.ts'
import { SIM_HCAPTCHA_SITEKEY, SIM_SECRETS, SiteverifySim } from '../helpers/siteverify-sim.ts'
import { actionOf, authorizationUrl, Browser, csrfOf } from './helpers/browser.ts'
import { testOp, WEB_REDIRECT } from './helpers/op-setup.ts'

let sim: SiteverifySim
const servers: Server[] = []
before(async () => {
  sim = await new SiteverifySim().start()
})
after(async () => {
  await sim.stop()
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

const SITE_KEY = '0x4AAAAAAAsimulatedSiteKey'

/** An OP on a real port, whose accounts backend counts the passwords it is asked to check. */
async function serve(patch: Partial<OpConfig>) {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const calls = { authenticate: 0 }
  const { op } = await testOp({
    issuer,
    authenticate: async (username, password) => {
      calls.authenticate++
      return username === 'alice' && password === 'wonderland' ? 'alice-sub' : null
    },
    findAccount: async (sub) => (sub === 'alice-sub' ? { sub, claims: {} } : undefined),
    ...patch,
  })
  const server = createServer(opListener(op))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { op, issuer, calls }
}

/** A browser that speaks HTTP to the server, at the first login page. */
async function loginPage(issuer: string) {
  const browser = new Browser((request) => fetch(request, { redirect: 'manual' }))
  const auth = await authorizationUrl(issuer, { client_id: 'first', redirect_uri: WEB_REDIRECT })
  const first = await browser.get(auth.url)
  assert.equal(first.status, 303)
  const page = await browser.get(first.headers.get('location') ?? '')
  return { browser, page, html: await page.text() }
}

function post(browser: Browser, html: string, fields: Record<string, string>) {
  return browser.post(actionOf(html), { csrf: csrfOf(html), username: 'alice', ...fields })
}

const turnstileCaptcha = () => ({
  verifier: turnstile({
    secret: SIM_SECRETS.turnstile,
    hostnames: ['login.example'],
    action: 'login',
    verifyUrl: sim.url('turnstile'),
  }),
  siteKey: SITE_KEY,
})

describe('OP login with a bot check always required (Turnstile)', () => {
  let issuer: string
  let calls: { authenticate: number }
  before(async () => {
    ;({ issuer, calls } = await serve({ captcha: turnstileCaptcha() }))
  })

  it('shows the widget, and its CSP allows exactly challenges.cloudflare.com for scripts and frames', async () => {
    const { page, html } = await loginPage(issuer)
    assert.equal(page.status, 200)
    assert.ok(
      html.includes(
        `<div class="cf-turnstile" data-sitekey="${SITE_KEY}" data-action="login"></div>`,
      ),
    )
    assert.ok(
      html.includes(
        '<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>',
      ),
    )
    assert.equal(
      page.headers.get('content-security-policy'),
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; frame-src https://challenges.cloudflare.com; script-src https://challenges.cloudflare.com",
    )
  })

  it('without a token: 400, the generic message, the widget again, and no password check', async () => {
    const before = calls.authenticate
    const { browser, html } = await loginPage(issuer)
    for (const fields of [
      { password: 'wonderland' },
      { password: 'wonderland', 'cf-turnstile-response': 'forged-token' },
      { password: 'wonderland', 'cf-turnstile-response': 'x'.repeat(3000) },
    ]) {
      const page = await browser.get(actionOf(html).replace(/\/login$/, ''))
      const fresh = await page.text()
      const response = await post(browser, fresh, fields)
      assert.equal(response.status, 400)
      const body = await response.text()
      assert.match(body, /complete the check that you are not a robot/)
      assert.ok(body.includes('class="cf-turnstile"'))
      assert.ok(!body.includes('forged-token'))
      assert.match(
        response.headers.get('content-security-policy') ?? '',
        /challenges\.cloudflare\.com/,
      )
    }
    assert.equal(calls.authenticate, before, 'the password was checked')
    assert.ok(!browser.cookies.has('ak_op_session'))
  })

  it('the failures count: the fifth ends the interaction', async () => {
    const { browser, html } = await loginPage(issuer)
    let page = html
    for (let i = 1; i <= 4; i++) {
      const response = await post(browser, page, { password: 'wonderland' })
      assert.equal(response.status, 400)
      page = await response.text()
    }
    const last = await post(browser, page, { password: 'wonderland' })
    assert.equal(last.status, 429)
  })

  it('with a valid token: the password is checked, once, and the login proceeds; remoteip is sent', async () => {
    const before = calls.authenticate
    const { browser, html } = await loginPage(issuer)
    const token = sim.issue('turnstile', { hostname: 'login.example', action: 'login' })
    const response = await post(browser, html, {
      password: 'wonderland',
      'cf-turnstile-response': token,
    })
    assert.equal(response.status, 303)
    assert.ok((response.headers.get('location') ?? '').startsWith(`${WEB_REDIRECT}?code=`))
    assert.equal(calls.authenticate, before + 1)
    const sent = sim.requests.at(-1)?.fields
    assert.equal(sent?.response, token)
    assert.match(sent?.remoteip ?? '', /127\.0\.0\.1/)
  })

  it('a spent token, another action or a siteverify outage: 400 and no password check', async () => {
    const spent = sim.issue('turnstile', { hostname: 'login.example', action: 'login' })
    const first = await loginPage(issuer)
    assert.equal(
      (
        await post(first.browser, first.html, {
          password: 'wonderland',
          'cf-turnstile-response': spent,
        })
      ).status,
      303,
    )
    const before = calls.authenticate
    const wrongAction = sim.issue('turnstile', { hostname: 'login.example', action: 'signup' })
    for (const token of [spent, wrongAction]) {
      const { browser, html } = await loginPage(issuer)
      const response = await post(browser, html, {
        password: 'wonderland',
        'cf-turnstile-response': token,
      })
      assert.equal(response.status, 400)
    }
    sim.mode = 'down'
    try {
      const { browser, html } = await loginPage(issuer)
      const token = sim.issue('turnstile', { hostname: 'login.example', action: 'login' })
      const response = await post(browser, html, {
        password: 'wonderland',
        'cf-turnstile-response': token,
      })
      assert.equal(response.status, 400)
    } finally {
      sim.mode = 'normal'
    }
    assert.equal(calls.authenticate, before)
  })
})

describe('OP login with a bot check after two failures (hCaptcha)', () => {
  it('the first two attempts need none; the third shows the widget, its CSP, and needs a token', async () => {
    const { issuer, calls } = await serve({
      captcha: {
        verifier: hcaptcha({
          secret: SIM_SECRETS.hcaptcha,
          siteKey: SIM_HCAPTCHA_SITEKEY,
          hostnames: ['login.example'],
          verifyUrl: sim.url('hcaptcha'),
        }),
        siteKey: SIM_HCAPTCHA_SITEKEY,
        when: { afterFailures: 2 },
      },
    })
    const { browser, page, html } = await loginPage(issuer)
    assert.ok(!html.includes('h-captcha'))
    assert.doesNotMatch(
      page.headers.get('content-security-policy') ?? '',
      /hcaptcha|script-src|frame-src/,
    )
    const one = await post(browser, html, { password: 'wrong' })
    assert.equal(one.status, 401)
    const oneHtml = await one.text()
    assert.ok(!oneHtml.includes('h-captcha'))
    const two = await post(browser, oneHtml, { password: 'wrong' })
    assert.equal(two.status, 401)
    assert.equal(calls.authenticate, 2)
    const twoHtml = await two.text()
    assert.ok(
      twoHtml.includes(`<div class="h-captcha" data-sitekey="${SIM_HCAPTCHA_SITEKEY}"></div>`),
    )
    assert.ok(
      twoHtml.includes('<script src="https://js.hcaptcha.com/1/api.js" async defer></script>'),
    )
    const csp = two.headers.get('content-security-policy') ?? ''
    const origins = 'https://hcaptcha.com https://*.hcaptcha.com'
    for (const directive of ['script-src', 'frame-src', 'connect-src', 'style-src'])
      assert.ok(
        csp.includes(
          `${directive} ${directive === 'style-src' ? "'unsafe-inline' " : ''}${origins}`,
        ),
        csp,
      )
    const three = await post(browser, twoHtml, { password: 'wonderland' })
    assert.equal(three.status, 400)
    assert.equal(calls.authenticate, 2, 'the password was checked without a token')
    const token = sim.issue('hcaptcha', { hostname: 'login.example' })
    const four = await post(browser, await three.text(), {
      password: 'wonderland',
      'h-captcha-response': token,
    })
    assert.equal(four.status, 303)
    assert.equal(calls.authenticate, 3)
    assert.equal(sim.requests.at(-1)?.fields.sitekey, SIM_HCAPTCHA_SITEKEY)
  })
})

describe('OP login with a bot check after failures of the client address', () => {
  it('asks a bot that opens a new interaction per guess, once its address has failed twice', async () => {
    const { issuer, calls } = await serve({
      captcha: {
        verifier: hcaptcha({
          secret: SIM_SECRETS.hcaptcha,
          siteKey: SIM_HCAPTCHA_SITEKEY,
          hostnames: ['login.example'],
          verifyUrl: sim.url('hcaptcha'),
        }),
        siteKey: SIM_HCAPTCHA_SITEKEY,
        when: { afterFailures: 2 },
      },
    })
    for (let i = 0; i < 2; i++) {
      const { browser, html } = await loginPage(issuer)
      assert.ok(!html.includes('h-captcha'), `fresh interaction ${i + 1}`)
      assert.equal((await post(browser, html, { password: 'wrong' })).status, 401)
    }
    const { browser, html } = await loginPage(issuer)
    assert.ok(html.includes('class="h-captcha"'), 'the third interaction shows the widget')
    const refused = await post(browser, html, { password: 'wonderland' })
    assert.equal(refused.status, 400)
    assert.equal(calls.authenticate, 2, 'no password checked without a token')
  })
})

describe('OP login with reCAPTCHA v3', () => {
  it("renders the hidden field and its constant script, allowed by hash with Google's origins", async () => {
    const { issuer, calls } = await serve({
      captcha: {
        verifier: recaptchaV3({
          secret: SIM_SECRETS.recaptcha,
          hostnames: ['login.example'],
          action: 'login',
          verifyUrl: sim.url('recaptcha'),
        }),
        siteKey: SITE_KEY,
      },
    })
    const { browser, page, html } = await loginPage(issuer)
    assert.ok(
      html.includes(
        `<input type="hidden" name="g-recaptcha-response" value="" data-recaptcha data-sitekey="${SITE_KEY}" data-action="login">`,
      ),
    )
    assert.ok(
      html.includes(
        `<script src="https://www.google.com/recaptcha/api.js?render=${SITE_KEY}" async defer></script>`,
      ),
    )
    const inline = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? ''
    const digest = Buffer.from(await defaultCrypto.sha256(inline)).toString('base64')
    const csp = page.headers.get('content-security-policy') ?? ''
    assert.ok(
      csp.includes(
        `script-src 'sha256-${digest}' https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/`,
      ),
      csp,
    )
    assert.ok(
      csp.includes(
        'frame-src https://www.google.com/recaptcha/ https://recaptcha.google.com/recaptcha/',
      ),
    )
    const low = sim.issue('recaptcha', { hostname: 'login.example', action: 'login', score: 0.1 })
    assert.equal(
      (await post(browser, html, { password: 'wonderland', 'g-recaptcha-response': low })).status,
      400,
    )
    assert.equal(calls.authenticate, 0)
  })
})

describe('OP login without a bot check', () => {
  it('has no third-party origin in its CSP', async () => {
    const { issuer } = await serve({})
    const { page, html } = await loginPage(issuer)
    assert.equal(
      page.headers.get('content-security-policy'),
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    )
    assert.ok(!html.includes('<script'))
  })
})

describe('createOp({ captcha }) is checked at start', () => {
  it('refuses a bad verifier, site key or when, and captcha with an app-hosted login page', async () => {
    const good = turnstileCaptcha()
    const bad: unknown[] = [
      { ...good, verifier: { verify: () => Promise.resolve({ ok: true }) } },
      { ...good, siteKey: '' },
      { ...good, siteKey: '"><script>' },
      { ...good, when: 'sometimes' },
      { ...good, when: { afterFailures: 0 } },
      { ...good, when: { afterFailures: 21 } },
      { ...good, when: { afterFailures: 1.5 } },
      'turnstile',
    ]
    for (const captcha of bad) {
      await assert.rejects(
        testOp({ captcha: captcha as NonNullable<OpConfig['captcha']> }),
        code('config_invalid'),
        JSON.stringify(captcha),
      )
    }
    await assert.rejects(
      testOp({ captcha: good, interactionUrl: 'https://app.example/login' }),
      code('config_invalid'),
    )
    const op: Op = (await testOp({ captcha: { ...good, when: { afterFailures: 4 } } })).op
    assert.ok(op)
  })
})
