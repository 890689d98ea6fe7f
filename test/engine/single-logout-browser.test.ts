// Single logout in Chromium, as a person does it: two apps (two engines on loopback, each its own
// client of our OP) are signed in to by one browser through the OP's login form; the person then
// signs out at the OP and clicks "Sign out" on its confirmation page. App A hears it through the
// front channel (the OP's page frames A's /auth/frontchannel-logout/idp with iss and sid), app B
// through the back channel (a logout token POSTed to /auth/backchannel-logout/idp). Afterwards
// neither app knows the browser. Skipped, with the reason, when /usr/bin/chromium is missing.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { serve } from '../../src/dev-idp/serve.ts'
import { createAuthkestra, type SessionAuthkestra } from '../../src/index.ts'
import { engineRequest, writeMessage } from '../../src/node/web.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import type { OpRequest } from '../../src/op/http/message.ts'
import { oidc } from '../../src/providers/oidc.ts'

const CHROMIUM = '/usr/bin/chromium'
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (install it with: apt-get install -y chromium)`

interface App {
  server: Server
  origin: string
  auth?: SessionAuthkestra<unknown>
}

async function startApp(): Promise<App> {
  const app = { origin: '' } as App
  app.server = createServer((req, res) => {
    if (req.url === '/')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>home</p>')
    const request = engineRequest('http', req.headers.host, req.url ?? '/', req, {
      web: () => undefined,
    })
    if (!request || !app.auth) return void res.writeHead(400).end()
    app.auth.handleMessage(request).then((response) => writeMessage(response, res))
  })
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve))
  app.origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return app
}

describe('single logout in Chromium: front channel to one app, back channel to the other', {
  skip,
}, () => {
  let op: Op
  let opServer: Server
  let browser: Browser
  let front: App
  let back: App

  before(async () => {
    front = await startApp()
    back = await startApp()
    let ready: (h: { message: (m: OpRequest) => ReturnType<Op['handleMessage']> }) => void =
      () => {}
    opServer = await serve(new Promise((resolve) => (ready = resolve)), {
      host: 'localhost',
      port: 0,
    })
    // The OP on "localhost", the apps on 127.0.0.1: two sites, as in real life.
    const issuer = `http://localhost:${(opServer.address() as AddressInfo).port}`
    const secret = (name: string) => `${name}-secret-0123456789abcdefghijklmnopq`
    op = await createOp({
      issuer,
      logger: { warn: () => {}, error: () => {} },
      clients: [
        {
          client_id: 'front',
          client_secret: secret('front'),
          redirect_uris: [`${front.origin}/auth/callback/idp`],
          frontchannel_logout_uri: `${front.origin}/auth/frontchannel-logout/idp`,
          frontchannel_logout_session_required: true,
          skip_consent: true,
        },
        {
          client_id: 'back',
          client_secret: secret('back'),
          redirect_uris: [`${back.origin}/auth/callback/idp`],
          backchannel_logout_uri: `${back.origin}/auth/backchannel-logout/idp`,
          skip_consent: true,
        },
      ],
      accounts: [{ username: 'alice', password: 'wonderland' }],
    })
    ready({ message: (m) => op.handleMessage(m) })
    for (const [app, id, channel] of [
      [front, 'front', { frontchannelLogout: true }],
      [back, 'back', { backchannelLogout: true }],
    ] as const) {
      app.auth = createAuthkestra<unknown>({
        providers: [
          oidc({
            id: 'idp',
            issuer,
            clientId: id,
            clientSecret: secret(id),
            redirectUri: `${app.origin}/auth/callback/idp`,
            ...channel,
          }),
        ],
        secret: `single-logout-browser-${id}-0123456789abcdef`,
        // Both apps are on 127.0.0.1, and cookies do not tell ports apart: one name each.
        session: { cookieName: `${id}_session` },
      })
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    })
  })

  after(async () => {
    await browser?.close()
    for (const server of [opServer, front?.server, back?.server]) {
      server?.closeAllConnections()
      server?.close()
    }
  })

  it('signs in to both apps, signs out at the OP once, and both apps forget the browser', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    // App A: the OP's login form, typed into like a person does.
    await page.goto(`${front.origin}/auth/login/idp`)
    await page.fill('#username', 'alice')
    await page.fill('#password', 'wonderland')
    await Promise.all([page.waitForURL(`${front.origin}/`), page.click('button[type=submit]')])
    // App B: already signed in at the OP, so straight back.
    await page.goto(`${back.origin}/auth/login/idp`)
    await page.waitForURL(`${back.origin}/`)
    const status = async (app: App) =>
      page.evaluate(
        async (url) => (await fetch(url, { credentials: 'include' })).status,
        `${app.origin}/auth/session`,
      )
    await page.goto(`${front.origin}/`)
    assert.equal(await status(front), 200)
    await page.goto(`${back.origin}/`)
    assert.equal(await status(back), 200)

    // Sign out at the OP: its confirmation page, the button.
    await page.goto(`${op.issuer}/logout`)
    await page.click('button[value=logout]')
    await page.waitForSelector('text=You are signed out')
    // The OP's page framed app A's front-channel URL; wait until that frame has loaded.
    await page.waitForFunction(
      () => [...document.querySelectorAll('iframe')].length === 1,
      undefined,
      { timeout: 5000 },
    )
    const frame = page.frames().find((f) => f.url().includes('/auth/frontchannel-logout/idp'))
    assert.ok(frame, 'the OP framed app A’s front-channel logout URL')
    await frame.waitForLoadState('load')
    await op.logoutDeliveriesSettled()

    await page.goto(`${front.origin}/`)
    assert.equal(await status(front), 401, 'app A ended its session (front channel)')
    await page.goto(`${back.origin}/`)
    assert.equal(await status(back), 401, 'app B ended its session (back channel)')
    await context.close()
  })
})
