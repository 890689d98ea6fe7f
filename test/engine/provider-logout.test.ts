// Both sides of RP-initiated logout together: the engine signs alice in at our own OP (the dev
// IdP, started from a config file with post_logout_redirect_uris, over HTTP on loopback, through
// its login form), and its POST /auth/logout ends the local session, the OP session (the ID token
// hint names it, so the OP asks nothing) and comes back through /auth/logout-callback with the
// state checked.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createAuthkestra, type SessionAuthkestra } from '../../src/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { CookieJar } from '../helpers/cookie-jar.ts'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from '../interop/helpers/dev-idp.ts'
import { APP, AppBrowser, SECRET } from './helpers/setup.ts'

const CLIENT = {
  clientId: 'app',
  clientSecret: 'app-secret-0123456789abcdefghijklmnopqrstu',
  redirectUri: `${APP}/auth/callback/idp`,
  postLogoutRedirectUri: `${APP}/auth/logout-callback/idp`,
}

describe('engine + our OP: logout that reaches the OP and comes back', () => {
  let running: InteropIdp
  let auth: SessionAuthkestra<unknown>

  before(async () => {
    running = await startInteropIdp(
      {
        clients: [
          {
            client_id: CLIENT.clientId,
            client_secret: CLIENT.clientSecret,
            redirect_uris: [CLIENT.redirectUri],
            post_logout_redirect_uris: [CLIENT.postLogoutRedirectUri],
            skip_consent: true,
          },
        ],
        users: [{ username: 'alice', password: 'wonderland' }],
      },
      'authkestra-provider-logout-',
    )
    auth = createAuthkestra<unknown>({
      // par: false: atOp() sets prompt=none in the authorization URL itself.
      providers: [oidc({ id: 'idp', issuer: running.issuer.origin, ...CLIENT, par: false })],
      secret: SECRET,
      session: {},
    })
  })

  after(async () => {
    await running?.close()
  })

  /** Whether the browser (cookies `jar` at the OP) still has an OP session. */
  async function atOp(jar: CookieJar): Promise<URLSearchParams> {
    const login = await new AppBrowser(auth.handler).request('/auth/login/idp')
    const url = new URL(login.headers.get('location') ?? '')
    url.searchParams.set('prompt', 'none')
    const answer = await fetch(url, { headers: { cookie: jar.header() ?? '' }, redirect: 'manual' })
    return new URL(answer.headers.get('location') ?? '').searchParams
  }

  /** A browser signed in to the app through the OP's login form (OP cookies in `jar`). */
  async function signedIn(): Promise<{ browser: AppBrowser; jar: CookieJar }> {
    const browser = new AppBrowser(auth.handler)
    const jar = new CookieJar()
    const login = await browser.request('/auth/login/idp')
    const { callback } = await loginThroughForm(new URL(login.headers.get('location') ?? ''), {
      username: 'alice',
      password: 'wonderland',
      jar,
    })
    assert.equal((await browser.request(callback.href)).status, 302)
    return { browser, jar }
  }

  it('ends both sessions with no question asked, and returns home with the state checked', async () => {
    const { browser, jar } = await signedIn()
    assert.ok((await atOp(jar)).has('code'), 'signed in at the OP')

    const logout = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: APP },
    })
    assert.equal(logout.status, 303)
    const endSession = new URL(logout.headers.get('location') ?? '')
    assert.equal(endSession.href.split('?')[0], `${running.issuer.origin}/logout`)
    assert.ok(endSession.searchParams.get('id_token_hint'))

    const atTheOp = await fetch(endSession, {
      headers: { cookie: jar.header() ?? '' },
      redirect: 'manual',
    })
    jar.store(atTheOp)
    assert.equal(atTheOp.status, 303, 'the hint names this session: no confirmation page')
    const back = new URL(atTheOp.headers.get('location') ?? '')
    assert.equal(back.searchParams.get('state'), endSession.searchParams.get('state'))
    const home = await browser.request(back.href)
    assert.equal(home.status, 303)
    assert.equal(home.headers.get('location'), '/')
    assert.equal((await browser.request('/auth/session')).status, 401)
    assert.equal((await atOp(jar)).get('error'), 'login_required', 'the OP session ended too')
  })

  it('with ?local=true signs out of the app only: no redirect to the OP, its session kept', async () => {
    const { browser, jar } = await signedIn()
    const logout = await browser.request('/auth/logout?local=true', {
      method: 'POST',
      headers: { origin: APP },
    })
    assert.equal(logout.status, 303)
    assert.equal(logout.headers.get('location'), '/')
    assert.ok(!logout.headers.getSetCookie().some((c) => c.startsWith('ak_logout=')))
    assert.equal((await browser.request('/auth/session')).status, 401)
    assert.ok((await atOp(jar)).has('code'), 'still signed in at the OP')
  })
})

describe('engine: logout at a provider that cannot be reached', () => {
  it('still signs out here and goes home (303 /), the session gone', async () => {
    const { createHash, randomBytes } = await import('node:crypto')
    const { createMemorySessionStore } = await import('../../src/index.ts')
    const store = createMemorySessionStore()
    const down = createAuthkestra<unknown>({
      providers: [
        oidc({
          id: 'idp',
          issuer: 'http://127.0.0.1:1',
          clientId: 'app',
          redirectUri: `${APP}/auth/callback/idp`,
          postLogoutRedirectUri: `${APP}/auth/logout-callback/idp`,
        }),
      ],
      secret: SECRET,
      session: { store },
    })
    const cookie = randomBytes(32).toString('base64url')
    const now = Date.now()
    const storageId = createHash('sha256').update(cookie).digest('base64url')
    await store.set(
      storageId,
      {
        user: {},
        provider: 'idp',
        subject: 'alice',
        createdAt: now,
        expiresAt: now + 60_000,
        lastSeenAt: now,
        userKey: createHash('sha256').update('idp:alice').digest('base64url'),
        idToken: 'h.p.s',
      },
      60,
    )
    const response = await down.handler(
      new Request(`${APP}/auth/logout`, {
        method: 'POST',
        headers: { origin: APP, cookie: `ak_session=${cookie}` },
      }),
    )
    assert.equal(response.status, 303)
    assert.equal(response.headers.get('location'), '/')
    assert.equal(await store.get(storageId), undefined)
    store.close()
  })
})
