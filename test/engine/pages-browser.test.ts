// The engine's own pages in Chromium, as a person meets them: the sign-in page (a button per
// provider), the dev IdP's login form, "Sign out?" and its button, the "You are signed out" page
// (afterLogout) and its way back in, and the error page of a login the IdP refused (the dev IdP
// runs --scenario access-denied for the second provider). Screenshots go to test-artifacts/.
// Skipped, with the reason, when /usr/bin/chromium is missing.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Browser, chromium, type Page } from 'playwright-core'
import { type RunningDevIdp, startDevIdp } from '../../src/dev-idp/cli.ts'
import { createAuthkestra, type SessionAuthkestra } from '../../src/index.ts'
import { engineRequest, writeMessage } from '../../src/node/web.ts'
import { oidc } from '../../src/providers/oidc.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (install it with: apt-get install -y chromium)`

describe('engine pages in Chromium', { skip }, () => {
  let server: Server
  let origin = ''
  let auth: SessionAuthkestra<unknown> | undefined
  const idps: RunningDevIdp[] = []
  let browser: Browser
  let page: Page

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    server = createServer((req, res) => {
      if (req.url === '/')
        return void res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><title>Home</title><p>Home</p>')
      const request = engineRequest('http', req.headers.host, req.url ?? '/', req, {
        web: () => undefined,
      })
      if (!request || !auth) return void res.writeHead(400).end()
      auth.handleMessage(request).then((response) => writeMessage(response, res))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const dir = mkdtempSync(join(tmpdir(), 'authkestra-pages-'))
    const config = (id: string) => {
      const path = join(dir, `${id}.json`)
      writeFileSync(
        path,
        JSON.stringify({
          clients: [
            {
              client_id: 'app',
              redirect_uris: [`${origin}/auth/callback/${id}`],
              token_endpoint_auth_method: 'none',
              skip_consent: true,
            },
          ],
          users: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
        }),
      )
      return path
    }
    const io = { out: () => {}, err: () => {} }
    const good = await startDevIdp(
      ['--port', '0', '--host', 'localhost', '--config', config('idp')],
      io,
    )
    const broken = await startDevIdp(
      [
        '--port',
        '0',
        '--host',
        'localhost',
        '--config',
        config('broken'),
        '--scenario',
        'access-denied',
      ],
      io,
    )
    assert.ok(good && broken)
    idps.push(good, broken)
    auth = createAuthkestra({
      providers: [
        oidc({
          id: 'idp',
          name: 'Authkestra ID',
          issuer: good.issuer,
          clientId: 'app',
          redirectUri: `${origin}/auth/callback/idp`,
        }),
        oidc({
          id: 'broken',
          name: 'Broken ID',
          issuer: broken.issuer,
          clientId: 'app',
          redirectUri: `${origin}/auth/callback/broken`,
        }),
      ],
      secret: 'pages-browser-secret-that-is-long-enough-0123',
      session: {},
      afterLogout: '/auth/signed-out',
      pages: { appName: 'Acme', colors: { primary: '#0a7d4f' } },
      logger: { warn: () => {}, error: () => {} },
    })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    })
    page = await browser.newPage({ viewport: { width: 900, height: 700 } })
  })

  after(async () => {
    await browser?.close()
    for (const idp of idps) await idp.close()
    server?.closeAllConnections()
    server?.close()
  })

  // Through the browser context's cookies (the pages' CSP allows no script to fetch).
  const sessionStatus = async () =>
    (
      await page.request.get(`${origin}/auth/session`, { headers: { accept: 'application/json' } })
    ).status()

  it('signs in from the sign-in page through the IdP form, back to returnTo', async () => {
    await page.goto(`${origin}/auth/signin?returnTo=%2F`)
    assert.equal(await page.title(), 'Acme')
    await page.screenshot({ path: `${ARTIFACTS}engine-signin.png`, fullPage: true })
    await page.getByRole('link', { name: 'Continue with Authkestra ID' }).click()
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('wonderland')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${origin}/`)
    assert.equal(await sessionStatus(), 200)
  })

  it('"Sign out?" then its button: lands on "You are signed out", the session gone', async () => {
    await page.goto(`${origin}/auth/logout`)
    await page.screenshot({ path: `${ARTIFACTS}engine-logout.png`, fullPage: true })
    assert.equal(await sessionStatus(), 200, 'a GET ends nothing')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(`${origin}/auth/signed-out`)
    assert.equal(await page.getByRole('heading').textContent(), 'You are signed out')
    await page.screenshot({ path: `${ARTIFACTS}engine-signed-out.png`, fullPage: true })
    assert.equal(await sessionStatus(), 401)
  })

  it('a login the IdP refuses ends on the error page with what to do and the code', async () => {
    await page.getByRole('link', { name: 'Sign in again' }).click()
    await page.waitForURL(`${origin}/auth/signin`)
    await page.getByRole('link', { name: 'Continue with Broken ID' }).click()
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('wonderland')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(/\/auth\/callback\/broken\?/)
    const text = (await page.locator('main').textContent()) ?? ''
    assert.match(text, /The sign-in was cancelled or refused at the provider\./)
    assert.match(text, /allow the app when the provider asks/)
    assert.match(text, /Error code: authorization_error/)
    await page.screenshot({ path: `${ARTIFACTS}engine-error.png`, fullPage: true })
    assert.equal(await sessionStatus(), 401)
  })
})
