// Interop: our engine's logout reaches a real, independent OpenID Provider — `oidc-provider` v9
// with its RP-Initiated Logout feature (on by default). The engine's POST /auth/logout ends the
// local session and sends the browser to the provider's end_session_endpoint with the session's
// ID token as id_token_hint, client_id, post_logout_redirect_uri and a fresh state; the browser
// confirms at oidc-provider (its own logout form, xsrf token and all); oidc-provider comes back
// to /auth/logout-callback/op with the state, which the engine checks. Afterwards oidc-provider
// has no session either (prompt=none answers login_required).
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createAuthkestra, type SessionAuthkestra } from '../../src/index.ts'
import { engineRequest, writeMessage } from '../../src/node/web.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  CookieJar,
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'
import { APP, AppBrowser, SECRET } from '../engine/helpers/setup.ts'

const PROVIDER_ID = 'op'
const CLIENT = {
  clientId: 'engine-logout-app',
  clientSecret: 'engine-logout-secret-0123456789abcdefghijklmno',
  redirectUri: `${APP}/auth/callback/${PROVIDER_ID}`,
  postLogoutRedirectUri: `${APP}/auth/logout-callback/${PROVIDER_ID}`,
} as const

describe('interop: the engine’s RP-initiated logout against oidc-provider v9', () => {
  let op: RunningOidcProvider
  let auth: SessionAuthkestra<unknown>
  const idTokens: string[] = []
  // The engine on loopback for oidc-provider's back-channel POSTs (the browser side stays
  // in-process at APP; both share the engine and its session store).
  let backchannel: Server

  before(async () => {
    backchannel = createServer((req, res) => {
      const request = engineRequest('http', req.headers.host, req.url ?? '/', req, {
        web: () => undefined,
      })
      if (!request) return void res.writeHead(400).end()
      auth.handleMessage(request).then((response) => writeMessage(response, res))
    })
    await new Promise<void>((resolve) => backchannel.listen(0, '127.0.0.1', resolve))
    const receiver = `http://127.0.0.1:${(backchannel.address() as AddressInfo).port}`
    op = await startOidcProvider({
      clients: [
        {
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [CLIENT.redirectUri],
          post_logout_redirect_uris: [CLIENT.postLogoutRedirectUri],
          backchannel_logout_uri: `${receiver}/auth/backchannel-logout/${PROVIDER_ID}`,
          backchannel_logout_session_required: true,
        },
      ],
      configuration: {
        // oidc-provider refuses to call special-use addresses (its SSRF guard, a dispatcher it
        // puts in the options); the receiver here is on loopback, so this test lets it through.
        fetch: (url: string, options: RequestInit & { dispatcher?: unknown }) => {
          const { dispatcher: _guard, ...rest } = options
          return fetch(url, rest)
        },
        features: {
          devInteractions: { enabled: false },
          revocation: { enabled: true },
          backchannelLogout: { enabled: true },
        },
      },
    })
    auth = createAuthkestra<unknown>({
      providers: [oidc({ id: PROVIDER_ID, issuer: op.issuer, ...CLIENT, backchannelLogout: true })],
      secret: SECRET,
      session: {},
      onLogin: (identity, { tokens }) => {
        if (tokens.idToken) idTokens.push(tokens.idToken)
        return identity
      },
    })
  })

  after(async () => {
    backchannel?.closeAllConnections()
    backchannel?.close()
    await op?.close()
    assert.deepEqual(op?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
  })

  /** Signs in through the engine; `jar` is the browser's cookies at oidc-provider. */
  async function signIn(browser: AppBrowser, jar: CookieJar): Promise<void> {
    const login = await browser.request(`/auth/login/${PROVIDER_ID}`)
    const callback = await followToCallback(
      new URL(login.headers.get('location') ?? ''),
      CLIENT.redirectUri,
      { jar },
    )
    assert.equal((await browser.request(callback.href)).status, 302)
  }

  /** Whether the browser still has a session at oidc-provider (prompt=none gets a code). */
  async function signedInAtOp(jar: CookieJar): Promise<boolean> {
    const url = new URL(`${op.issuer}/auth`)
    url.search = new URLSearchParams({
      client_id: CLIENT.clientId,
      redirect_uri: CLIENT.redirectUri,
      response_type: 'code',
      scope: 'openid',
      prompt: 'none',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString()
    const back = await followToCallback(url, CLIENT.redirectUri, { jar })
    return back.searchParams.has('code')
  }

  /** Plays the browser at oidc-provider's logout page: the form, confirmed. Returns its redirect. */
  async function confirmAtOp(endSession: URL, jar: CookieJar): Promise<URL> {
    const page = await fetch(endSession, { headers: { cookie: jar.header() ?? '' } })
    jar.store(page)
    assert.equal(page.status, 200)
    const html = await page.text()
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1]
    assert.ok(action && xsrf, 'oidc-provider showed its logout confirmation form')
    const confirmed = await fetch(new URL(action, op.issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: jar.header() ?? '',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    })
    jar.store(confirmed)
    assert.equal(confirmed.status, 303)
    return new URL(confirmed.headers.get('location') ?? '')
  }

  it('ends the session here and at the provider, and comes back with a checked state', async () => {
    const browser = new AppBrowser(auth.handler)
    const jar = new CookieJar()
    await signIn(browser, jar)
    assert.equal(await signedInAtOp(jar), true)

    const logout = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: APP },
    })
    assert.equal(logout.status, 303)
    assert.equal(browser.cookies.has('ak_session'), false, 'the local session cookie is gone')
    assert.equal((await browser.request('/auth/session')).status, 401, 'and the session with it')
    const endSession = new URL(logout.headers.get('location') ?? '')
    assert.equal(`${endSession.origin}${endSession.pathname}`, `${op.issuer}/session/end`)
    assert.equal(endSession.searchParams.get('id_token_hint'), idTokens.at(-1))
    assert.equal(endSession.searchParams.get('client_id'), CLIENT.clientId)
    assert.equal(
      endSession.searchParams.get('post_logout_redirect_uri'),
      CLIENT.postLogoutRedirectUri,
    )
    const state = endSession.searchParams.get('state') ?? ''
    assert.match(state, /^[A-Za-z0-9_-]{43}$/)

    const back = await confirmAtOp(endSession, jar)
    assert.equal(`${back.origin}${back.pathname}`, CLIENT.postLogoutRedirectUri)
    assert.equal(back.searchParams.get('state'), state)
    const home = await browser.request(back.href)
    assert.equal(home.status, 303)
    assert.equal(home.headers.get('location'), '/')
    assert.equal(browser.cookies.has('ak_logout'), false, 'the state cookie is spent')
    assert.equal(await signedInAtOp(jar), false, 'oidc-provider’s session ended too')
  })

  it('ends our session when oidc-provider’s session ends there (its back-channel logout token)', async () => {
    const browser = new AppBrowser(auth.handler)
    const jar = new CookieJar()
    await signIn(browser, jar)
    assert.equal((await browser.request('/auth/session')).status, 200)
    // The user signs out at oidc-provider itself, not through the app.
    const back = await confirmAtOp(new URL(`${op.issuer}/session/end`), jar)
    assert.equal(back.pathname, '/session/end/success')
    assert.equal(
      (await browser.request('/auth/session')).status,
      401,
      'oidc-provider POSTed a logout token naming our session’s sid, and the engine ended it',
    )
  })

  it('answers an API client 200 { redirect } instead of the 303', async () => {
    const browser = new AppBrowser(auth.handler)
    await signIn(browser, new CookieJar())
    const logout = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: APP, accept: 'application/json' },
    })
    assert.equal(logout.status, 200)
    const { redirect } = (await logout.json()) as { redirect: string }
    assert.equal(new URL(redirect).pathname, '/session/end')
  })

  it('refuses a return whose state does not match, or without the state cookie (400 state_mismatch)', async () => {
    const browser = new AppBrowser(auth.handler)
    await signIn(browser, new CookieJar())
    const logout = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: APP },
    })
    const state = new URL(logout.headers.get('location') ?? '').searchParams.get('state') ?? ''
    // The state with its first character changed (always a different state).
    const forged = `${CLIENT.postLogoutRedirectUri}?state=${state.startsWith('A') ? 'B' : 'A'}${state.slice(1)}`
    const json = { headers: { accept: 'application/json' } }
    const wrong = await browser.request(forged, json)
    assert.equal(wrong.status, 400)
    assert.equal(((await wrong.json()) as { error: string }).error, 'state_mismatch')
    const stranger = await new AppBrowser(auth.handler).request(
      `${CLIENT.postLogoutRedirectUri}?state=${state}`,
      json,
    )
    assert.equal(stranger.status, 400)
    const twice = await browser.request(
      `${CLIENT.postLogoutRedirectUri}?state=${state}&state=${state}`,
      json,
    )
    assert.equal(
      twice.status,
      400,
      'the first refusal spent the cookie; a repeated state is refused too',
    )
  })
})

describe('engine config: postLogoutRedirectUri', () => {
  it('must point at the engine’s own logout-callback route for that provider', () => {
    assert.throws(
      () =>
        createAuthkestra({
          providers: [
            oidc({
              id: 'op',
              issuer: 'https://id.example',
              clientId: 'x',
              redirectUri: `${APP}/auth/callback/op`,
              postLogoutRedirectUri: `${APP}/signed-out`,
            }),
          ],
          secret: SECRET,
          session: {},
        }),
      (err: Error & { code?: string }) =>
        err.code === 'config_invalid' && /\/auth\/logout-callback\/op/.test(err.message),
    )
  })
})
