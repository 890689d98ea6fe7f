// Front-Channel Logout 1.0 on the OP: the signed-out page frames each client that used the ended
// session (with iss and sid when it asked), its CSP allows exactly those origins, and it moves on
// to the post-logout URI. Handler-level checks, then the real thing in Chromium: a person signs in
// through the login form, the RP sends them to /logout, the browser loads the RP's front-channel
// page in the iframe and lands back on the RP.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { chromium } from 'playwright-core'
import { serve } from '../../src/dev-idp/serve.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import type { OpRequest } from '../../src/op/http/message.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { authorizationUrl, Browser } from './helpers/browser.ts'
import { redeemCode, signIn } from './helpers/sign-in.ts'

const CHROMIUM = '/usr/bin/chromium'

let op: Op
let opServer: Awaited<ReturnType<typeof serve>>
let rp: ReturnType<typeof createServer>
let RP = ''
const frontchannelHits: URL[] = []

before(async () => {
  rp = createServer((req, res) => {
    const url = new URL(req.url ?? '/', RP)
    if (url.pathname.startsWith('/fc')) frontchannelHits.push(url)
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<p>${url.pathname}</p>`)
  })
  await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve))
  RP = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`
  let ready: (h: { message: (m: OpRequest) => ReturnType<Op['handleMessage']> }) => void = () => {}
  opServer = await serve(new Promise((resolve) => (ready = resolve)), {
    host: '127.0.0.1',
    port: 0,
  })
  const issuer = `http://127.0.0.1:${(opServer.address() as AddressInfo).port}`
  op = await createOp({
    issuer,
    store: createMemoryOpStore(),
    logger: { warn: () => {}, error: () => {} },
    clients: [
      {
        client_id: 'rp',
        redirect_uris: [`${RP}/cb`],
        post_logout_redirect_uris: [`${RP}/out`],
        frontchannel_logout_uri: `${RP}/fc?app=1`,
        frontchannel_logout_session_required: true,
        skip_consent: true,
      },
      {
        client_id: 'plain',
        redirect_uris: [`${RP}/cb`],
        frontchannel_logout_uri: `${RP}/fc-plain`,
        skip_consent: true,
      },
      {
        client_id: 'unused',
        redirect_uris: [`${RP}/cb`],
        frontchannel_logout_uri: `${RP}/fc-unused`,
        skip_consent: true,
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland' }],
  })
  ready({ message: (m) => op.handleMessage(m) })
})

after(() => {
  opServer.closeAllConnections()
  opServer.close()
  rp.closeAllConnections()
  rp.close()
})

describe('front-channel logout from the OP', () => {
  it('advertises it in discovery', () => {
    assert.equal(op.metadata().frontchannel_logout_supported, true)
    assert.equal(op.metadata().frontchannel_logout_session_supported, true)
  })

  it('frames the clients of the ended session, with iss and sid where asked, then moves on', async () => {
    const browser = new Browser(op.handler)
    const { id_token } = await signIn(op, browser, 'rp', `${RP}/cb`)
    await signIn(op, browser, 'plain', `${RP}/cb`)
    const { sid } = decodeJwt(id_token)
    const url = new URL(`${op.issuer}/logout`)
    url.search = new URLSearchParams({
      id_token_hint: id_token,
      post_logout_redirect_uri: `${RP}/out`,
      state: 'st',
    }).toString()
    const response = await browser.get(url)
    assert.equal(response.status, 200, 'a page (with frames) instead of the 303')
    const html = await response.text()
    const frames = [...html.matchAll(/<iframe src="([^"]+)"/g)].map((m) =>
      (m[1] ?? '').replace(/&amp;/g, '&'),
    )
    const withSid = new URL(`${RP}/fc?app=1`)
    withSid.searchParams.set('iss', op.issuer)
    withSid.searchParams.set('sid', String(sid))
    assert.deepEqual(frames.sort(), [withSid.href, `${RP}/fc-plain`].sort())
    assert.ok(!html.includes('fc-unused'), 'a client that did not use the session is not framed')
    const csp = response.headers.get('content-security-policy') ?? ''
    assert.match(csp, new RegExp(`frame-src ${RP.replace(/[.]/g, '\\.')}$`))
    assert.match(csp, /default-src 'none'/)
    assert.ok(html.includes(`content="2;url=${RP}/out?state=st"`), 'moves on to the client')
  })

  it('refuses a frontchannel_logout_uri on another origin than the redirect URIs', async () => {
    await assert.rejects(
      createOp({
        issuer: 'http://127.0.0.1:1',
        logger: { warn: () => {}, error: () => {} },
        clients: [
          {
            client_id: 'x',
            redirect_uris: ['https://app.example/cb'],
            frontchannel_logout_uri: 'https://other.example/fc',
          },
        ],
      }),
      (err: Error & { code?: string }) =>
        err.code === 'config_invalid' && /frontchannel_logout_uri/.test(err.message),
    )
  })
})

const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (install it with: apt-get install -y chromium)`

describe('front-channel logout in Chromium', { skip }, () => {
  it('signs in through the form, logs out at the OP, loads the RP’s frame and returns to the RP', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    })
    try {
      const page = await browser.newPage()
      const auth = await authorizationUrl(op.issuer, { client_id: 'rp', redirect_uri: `${RP}/cb` })
      await page.goto(auth.url.href)
      await page.fill('#username', 'alice')
      await page.fill('#password', 'wonderland')
      await Promise.all([page.waitForURL(`${RP}/cb?**`), page.click('button[type=submit]')])
      const code = new URL(page.url()).searchParams.get('code') ?? ''
      const { id_token } = await redeemCode(op, code, 'rp', `${RP}/cb`, auth.verifier)
      frontchannelHits.length = 0
      const end = new URL(`${op.issuer}/logout`)
      end.search = new URLSearchParams({
        id_token_hint: id_token,
        post_logout_redirect_uri: `${RP}/out`,
        state: 'chromium',
      }).toString()
      await page.goto(end.href)
      await page.waitForURL(`${RP}/out?state=chromium`, { timeout: 10_000 })
      assert.equal(frontchannelHits.length, 1, 'the browser loaded the RP’s front-channel page')
      assert.equal(frontchannelHits[0]?.searchParams.get('sid'), decodeJwt(id_token).sid)
      assert.equal(frontchannelHits[0]?.searchParams.get('iss'), op.issuer)
      // The OP session is gone in this browser: a new authorization shows the login form again.
      const again = await authorizationUrl(op.issuer, { client_id: 'rp', redirect_uri: `${RP}/cb` })
      await page.goto(again.url.href)
      assert.ok(await page.isVisible('#password'))
    } finally {
      await browser.close()
    }
  })
})
