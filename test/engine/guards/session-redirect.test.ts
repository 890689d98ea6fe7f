// The session guard's `redirectTo`: a signed-out browser navigating to a page is sent to the
// sign-in with the page as `returnTo` (303, never cached, varying with Accept); a script or API
// client keeps the 401 JSON with its challenge; a signed-in user passes; `redirectTo` must be a
// path of this site. Through the raw guard and through the Express adapter over loopback.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import express from 'express'
import { authkestra, requireAuth } from '../../../src/adapters/express.ts'
import { createAuthkestra, createMemorySessionStore, sessionGuard } from '../../../src/index.ts'
import { github } from '../../../src/providers/github.ts'
import { code } from '../../helpers/assert-code.ts'
import { rawHttp } from '../../helpers/net.ts'
import { AppBrowser, sessionEngine, startIdp } from '../helpers/setup.ts'

const APP = 'http://localhost:3000'
const store = createMemorySessionStore()
const auth = createAuthkestra({
  providers: [
    github({ clientId: 'id', clientSecret: 'secret', redirectUri: `${APP}/auth/callback/github` }),
  ],
  secret: 'session-redirect-test-secret-0123456789abcd',
  session: { store },
})
const toSignIn = sessionGuard(auth, { redirectTo: '/auth/login/github' })
const PAGE = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' }

describe('sessionGuard({ redirectTo })', () => {
  it('sends a signed-out page navigation to the sign-in, coming back to the page', async () => {
    const result = await toSignIn(new Request(`${APP}/account/orders?page=2`, { headers: PAGE }))
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.equal(result.response.status, 303)
    assert.equal(
      result.response.headers.get('location'),
      '/auth/login/github?returnTo=%2Faccount%2Forders%3Fpage%3D2',
    )
    assert.equal(result.response.headers.get('cache-control'), 'no-store')
    assert.equal(result.response.headers.get('vary'), 'accept')
  })

  it('keeps the 401 JSON for API calls, scripts and non-GET requests', async () => {
    const requests = [
      new Request(`${APP}/api/me`, { headers: { accept: 'application/json' } }),
      new Request(`${APP}/page`, { headers: { accept: 'text/html', 'sec-fetch-mode': 'cors' } }),
      new Request(`${APP}/page`, { method: 'POST', headers: PAGE }),
    ]
    for (const request of requests) {
      const result = await toSignIn(request)
      assert.equal(result.ok, false)
      if (result.ok) continue
      assert.equal(result.response.status, 401)
      assert.equal(result.response.headers.get('www-authenticate'), 'Session realm="authkestra"')
      assert.equal(result.response.headers.get('vary'), 'accept')
      assert.equal(((await result.response.json()) as { error: string }).error, 'unauthorized')
    }
  })

  it('lets a signed-in user through', async () => {
    const idp = await startIdp()
    try {
      const signedInAuth = sessionEngine(idp.issuer)
      const browser = new AppBrowser(signedInAuth.handler)
      const { callback } = await browser.startLogin()
      assert.equal((await browser.request(callback.href)).status, 302)
      const cookie = `ak_session=${browser.cookies.get('ak_session')?.value ?? ''}`
      const guard = sessionGuard(signedInAuth, { redirectTo: '/auth/login/idp' })
      const result = await guard(new Request(`${APP}/account`, { headers: { ...PAGE, cookie } }))
      assert.equal(result.ok, true)
    } finally {
      await idp.close()
    }
  })

  it('refuses a redirectTo that is not a path of this site', () => {
    for (const redirectTo of [
      'https://evil.example/login',
      '//evil.example',
      '/\\evil.example',
      'login',
    ])
      assert.throws(() => sessionGuard(auth, { redirectTo }), code('config_invalid'))
  })

  it('works through an adapter: Express answers the 303 for a page, 401 for an API call', async () => {
    const app = express()
    app.use(authkestra(auth))
    app.get('/account', requireAuth(toSignIn), (_req, res) => {
      res.send('secret page')
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      // node:http, not fetch: fetch always sends Sec-Fetch-Mode: cors, a browser navigating sends navigate.
      const port = Number(new URL(origin).port)
      const page = await rawHttp(port, {
        path: '/account',
        host: `127.0.0.1:${port}`,
        headers: PAGE,
      })
      assert.equal(page.status, 303)
      assert.equal(page.headers.location, '/auth/login/github?returnTo=%2Faccount')
      const login = await fetch(new URL(String(page.headers.location), origin), {
        redirect: 'manual',
      })
      assert.equal(login.status, 302, 'the login route takes the returnTo')
      const api = await fetch(`${origin}/account`, { headers: { accept: 'application/json' } })
      assert.equal(api.status, 401)
    } finally {
      server.close()
    }
  })
})
