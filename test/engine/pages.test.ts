// The engine's pages: the sign-in page (a button per provider, returnTo carried only when it is a
// path of this site), the error page of a failed login (what happened, what to do, the code), the
// "Sign out?" page, the "You are signed out" page and afterLogout; themed (app name, logo, colours) or rendered by the app; every value escaped,
// no script allowed; bad theme values refused at start.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createAuthkestra, type PagesOptions } from '../../src/index.ts'
import { github } from '../../src/providers/github.ts'
import { google } from '../../src/providers/google.ts'
import { code } from '../helpers/assert-code.ts'
import { APP, SECRET } from './helpers/setup.ts'

const engine = (pages?: PagesOptions) =>
  createAuthkestra({
    providers: [
      github({ clientId: 'a', clientSecret: 's', redirectUri: `${APP}/auth/callback/github` }),
      google({ clientId: 'b', clientSecret: 's', redirectUri: `${APP}/auth/callback/google` }),
    ],
    secret: SECRET,
    session: {},
    logger: { warn: () => {}, error: () => {} },
    ...(pages ? { pages } : {}),
  })

const get = async (auth: ReturnType<typeof engine>, path: string, accept = 'text/html') => {
  const response = await auth.handler(new Request(`${APP}${path}`, { headers: { accept } }))
  return { response, html: await response.text() }
}

describe('engine pages', () => {
  it('GET /auth/signin: a button per provider, each login coming back to returnTo', async () => {
    const { response, html } = await get(engine(), '/auth/signin?returnTo=%2Forders%3Fp%3D2')
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    const csp = response.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'none'/)
    assert.doesNotMatch(csp, /script-src/)
    assert.ok(html.includes('href="/auth/login/github?returnTo=%2Forders%3Fp%3D2"'))
    assert.ok(html.includes('href="/auth/login/google?returnTo=%2Forders%3Fp%3D2"'))
    assert.ok(html.includes('Continue with GitHub'))
  })

  it('drops a returnTo that leaves the site, and answers 404 to API clients', async () => {
    for (const target of ['https://evil.example', '//evil.example', '/\\evil.example']) {
      const { html } = await get(engine(), `/auth/signin?returnTo=${encodeURIComponent(target)}`)
      assert.ok(html.includes('href="/auth/login/github"'), target)
      assert.ok(!html.includes('evil.example'), 'nothing of the request echoed')
    }
    const api = await get(engine(), '/auth/signin', 'application/json')
    assert.equal(api.response.status, 404)
  })

  it('themes every page: app name, logo and colours', async () => {
    const auth = engine({
      appName: 'Acme <Portal>',
      logoUrl: '/logo.svg',
      colors: { primary: '#ff0066', background: '#000' },
    })
    const signin = await get(auth, '/auth/signin')
    assert.ok(signin.html.includes('<h1>Acme &#60;Portal&#62;</h1>'), 'escaped')
    assert.ok(signin.html.includes('<img src="/logo.svg"'))
    assert.ok(signin.html.includes('background:#ff0066'))
    const failed = await get(auth, '/auth/callback/github?code=x&state=y')
    assert.equal(failed.response.status, 400)
    assert.ok(failed.html.includes('background:#ff0066'), 'the error page is themed too')
    assert.match(failed.html, /Error code: <code>flow_state_[a-z]+<\/code>/)
    assert.ok(!failed.html.includes('code=x'), 'nothing of the request echoed')
    const logout = await get(auth, '/auth/logout')
    assert.ok(logout.html.includes('background:#ff0066'))
  })

  it('lets the app render any page, keeping the status and the cookies the route set', async () => {
    const seen: string[] = []
    const auth = engine({
      render: (page) => {
        seen.push(page.kind)
        if (page.kind === 'error') return `<p>custom ${page.code}: ${page.hint}</p>`
        return undefined
      },
    })
    const failed = await get(auth, '/auth/callback/github?code=x&state=y')
    assert.equal(failed.response.status, 400)
    assert.match(failed.html, /^<p>custom flow_state_[a-z]+: .+<\/p>$/)
    const signin = await get(auth, '/auth/signin')
    assert.ok(signin.html.includes('Continue with GitHub'), 'undefined keeps the built-in page')
    await get(auth, '/auth/logout')
    await get(auth, '/auth/signed-out')
    assert.deepEqual(seen, ['error', 'signin', 'logout', 'signed-out'])
  })

  it('GET /auth/signed-out: the way back in; themed; 404 for API clients', async () => {
    const { response, html } = await get(
      engine({ colors: { primary: '#ff0066' } }),
      '/auth/signed-out?x=<b>',
    )
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.ok(html.includes('<h1>You are signed out</h1>'))
    assert.ok(html.includes('href="/auth/signin"'))
    assert.ok(html.includes('background:#ff0066'))
    assert.ok(!html.includes('<b>'), 'nothing of the request echoed')
    assert.equal((await get(engine(), '/auth/signed-out', 'application/json')).response.status, 404)
    assert.equal(
      (await engine().handler(new Request(`${APP}/auth/signed-out`, { method: 'POST' }))).status,
      404,
    )
  })

  it('afterLogout: where a browser lands after POST /logout (default /); checked at start', async () => {
    const logout = (auth: ReturnType<typeof engine>, accept = 'text/html') =>
      auth.handler(
        new Request(`${APP}/auth/logout`, { method: 'POST', headers: { origin: APP, accept } }),
      )
    const byDefault = await logout(engine())
    assert.equal(byDefault.status, 303)
    assert.equal(byDefault.headers.get('location'), '/')
    const withPage = createAuthkestra({
      providers: [
        github({ clientId: 'a', clientSecret: 's', redirectUri: `${APP}/auth/callback/github` }),
      ],
      secret: SECRET,
      session: {},
      afterLogout: '/auth/signed-out',
    })
    const landed = await logout(withPage as ReturnType<typeof engine>)
    assert.equal(landed.status, 303)
    assert.equal(landed.headers.get('location'), '/auth/signed-out')
    assert.equal(
      (await logout(withPage as ReturnType<typeof engine>, 'application/json')).status,
      204,
    )
    for (const afterLogout of ['https://evil.example/', '//evil.example', 'signed-out', '/\\x']) {
      assert.throws(
        () =>
          createAuthkestra({
            providers: [
              github({
                clientId: 'a',
                clientSecret: 's',
                redirectUri: `${APP}/auth/callback/github`,
              }),
            ],
            secret: SECRET,
            session: {},
            afterLogout,
          }),
        code('config_invalid'),
        afterLogout,
      )
    }
  })

  it('refuses bad theme values at start', () => {
    const bad: PagesOptions[] = [
      { appName: '' },
      { logoUrl: 'javascript:alert(1)' },
      { logoUrl: 'http://plain.example/logo.png' },
      { logoUrl: '//evil.example/logo.png' },
      { colors: { primary: 'red;background:url(x)' } },
      { render: 'html' as never },
    ]
    for (const pages of bad) assert.throws(() => engine(pages), code('config_invalid'))
  })
})
