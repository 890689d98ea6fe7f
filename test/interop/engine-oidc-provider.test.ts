// Interop: our engine (`createAuthkestra`, session mode) signs a user in against a real,
// independent OpenID Provider — `oidc-provider` v9 on loopback, which requires PKCE for every
// client. The engine's Web handler is driven directly with Request objects (GET
// /auth/login/:provider, GET /auth/callback/:provider); oidc-provider is driven over HTTP, its
// login and consent finished by the test server's automatic interaction route. Negative checks:
// a callback whose `iss` is not the provider's issuer, and tampered `state` / flow cookie, are
// refused with a 400 and create no session.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { LoginContext } from '../../src/engine/config.ts'
import { createAuthkestra, type SessionAuthkestra } from '../../src/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  DEFAULT_ACCOUNT,
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'
import { APP, AppBrowser, SECRET } from '../engine/helpers/setup.ts'

const PROVIDER_ID = 'op'
const CLIENT = {
  clientId: 'engine-app',
  clientSecret: 'engine-app-secret-0123456789abcdefghijklmnop',
  redirectUri: `${APP}/auth/callback/${PROVIDER_ID}`,
} as const

interface Login {
  readonly subject: string
  readonly issuer: string | null
  readonly tokens: LoginContext['tokens']
}

describe('interop: our engine (session mode) against oidc-provider v9', () => {
  let op: RunningOidcProvider
  let auth: SessionAuthkestra<unknown>
  const logins: Login[] = []

  before(async () => {
    op = await startOidcProvider({
      clients: [
        {
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [CLIENT.redirectUri],
        },
      ],
    })
    auth = createAuthkestra<unknown>({
      providers: [
        oidc({
          id: PROVIDER_ID,
          issuer: op.issuer,
          clientId: CLIENT.clientId,
          clientSecret: CLIENT.clientSecret,
          redirectUri: CLIENT.redirectUri,
        }),
      ],
      secret: SECRET,
      session: {},
      onLogin: (identity, context) => {
        logins.push({ subject: identity.subject, issuer: identity.issuer, tokens: context.tokens })
        return identity
      },
    })
  })

  /** A second engine whose token responses get one byte of the ID token signature changed. */
  function tamperingEngine(): SessionAuthkestra<unknown> {
    const tampering: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const url = input instanceof Request ? input.url : String(input)
      if (new URL(url).pathname !== '/token') return response
      const body = (await response.json()) as Record<string, unknown>
      const [header, payload, signature = ''] = String(body.id_token).split('.')
      const flipped = signature.startsWith('A')
        ? `B${signature.slice(1)}`
        : `A${signature.slice(1)}`
      body.id_token = `${header}.${payload}.${flipped}`
      return new Response(JSON.stringify(body), {
        status: response.status,
        headers: { 'content-type': 'application/json' },
      })
    }
    return createAuthkestra<unknown>({
      providers: [
        oidc({
          id: PROVIDER_ID,
          issuer: op.issuer,
          clientId: CLIENT.clientId,
          clientSecret: CLIENT.clientSecret,
          redirectUri: CLIENT.redirectUri,
        }),
      ],
      secret: SECRET,
      session: {},
      flowOptions: { fetch: tampering },
      onLogin: (identity, context) => {
        logins.push({ subject: identity.subject, issuer: identity.issuer, tokens: context.tokens })
        return identity
      },
    })
  }

  after(async () => {
    await op?.close()
    assert.deepEqual(op?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
  })

  /** GET /auth/login/op on the engine, then oidc-provider over HTTP until the callback. */
  async function startLogin(browser: AppBrowser, query = '') {
    const login = await browser.request(`/auth/login/${PROVIDER_ID}${query}`)
    assert.equal(login.status, 302)
    const authorizationUrl = new URL(login.headers.get('location') ?? '')
    assert.equal(authorizationUrl.origin, op.issuer)
    const callback = await followToCallback(authorizationUrl, CLIENT.redirectUri)
    return { authorizationUrl, callback }
  }

  /** The engine's session for the browser's cookies, read with getSession. */
  async function sessionOf(browser: AppBrowser) {
    const cookie = [...browser.cookies].map(([name, c]) => `${name}=${c.value}`).join('; ')
    return auth.getSession(new Request(`${APP}/`, { headers: cookie ? { cookie } : {} }))
  }

  it('logs in through /auth/login and /auth/callback, ending with a session', async () => {
    const browser = new AppBrowser(auth.handler)
    const { authorizationUrl, callback } = await startLogin(browser, '?returnTo=/dashboard')
    // oidc-provider offers PAR: the parameters (PKCE, state, nonce) were pushed by the engine,
    // and the URL names only the client and the pushed request.
    const params = authorizationUrl.searchParams
    assert.deepEqual([...params.keys()].sort(), ['client_id', 'request_uri'])
    assert.equal(params.get('client_id'), CLIENT.clientId)
    assert.match(params.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/)
    // oidc-provider answers with a code, RFC 9207's iss and the pushed state.
    assert.ok(callback.searchParams.get('code'))
    assert.equal(callback.searchParams.get('iss'), op.issuer)
    assert.match(callback.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/)

    const done = await browser.request(callback.href)
    assert.equal(done.status, 302)
    assert.equal(done.headers.get('location'), '/dashboard')
    assert.ok(browser.cookies.has('ak_session'), 'a session cookie was set')

    const login = logins.at(-1)
    assert.ok(login)
    assert.equal(login.subject, DEFAULT_ACCOUNT.sub)
    assert.equal(login.issuer, op.issuer)
    assert.ok(login.tokens.accessToken)
    // The ID token the engine verified (signature via the provider's JWKS, iss, aud, nonce).
    assert.ok(login.tokens.idToken)
    assert.equal(login.tokens.idTokenClaims?.iss, op.issuer)
    assert.equal(login.tokens.idTokenClaims?.aud, CLIENT.clientId)
    assert.match(
      String(login.tokens.idTokenClaims?.nonce),
      /^[A-Za-z0-9_-]{43}$/,
      'the pushed nonce',
    )
    assert.equal(login.tokens.idTokenClaims?.sub, DEFAULT_ACCOUNT.sub)

    const session = await sessionOf(browser)
    assert.ok(session, 'getSession returns the session')
    assert.equal(session.provider, PROVIDER_ID)
    assert.equal(session.subject, DEFAULT_ACCOUNT.sub)
    const user = session.user as { subject: string; email: string; emailVerified: boolean }
    assert.equal(user.subject, DEFAULT_ACCOUNT.sub)
    assert.equal(user.email, DEFAULT_ACCOUNT.email)
    assert.equal(user.emailVerified, true)

    const json = await browser.request('/auth/session')
    assert.equal(json.status, 200)
  })

  it('refuses a callback whose iss is not the provider (400 issuer_mismatch), no session', async () => {
    const browser = new AppBrowser(auth.handler)
    const { callback } = await startLogin(browser)
    const mixedUp = new URL(callback)
    mixedUp.searchParams.set('iss', 'https://attacker.example')
    const before = logins.length
    const response = await browser.request(mixedUp.href, {
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 400)
    assert.equal(((await response.json()) as { error: string }).error, 'issuer_mismatch')
    assert.equal(browser.cookies.has('ak_session'), false)
    assert.equal(await sessionOf(browser), null)
    assert.equal(logins.length, before, 'onLogin was not called')
  })

  it('refuses a tampered state (400), no session', async () => {
    const browser = new AppBrowser(auth.handler)
    const { callback } = await startLogin(browser)
    const tampered = new URL(callback)
    const state = callback.searchParams.get('state') ?? ''
    tampered.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`)
    const before = logins.length
    const response = await browser.request(tampered.href, {
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 400)
    // The flow cookie is named after the state: a changed state finds no flow state at all.
    assert.equal(((await response.json()) as { error: string }).error, 'flow_state_malformed')
    assert.equal(browser.cookies.has('ak_session'), false)
    assert.equal(await sessionOf(browser), null)
    assert.equal(logins.length, before)
  })

  it('refuses a tampered flow cookie (400 flow_state_tampered), no session', async () => {
    const browser = new AppBrowser(auth.handler)
    const { callback } = await startLogin(browser)
    const flow = [...browser.cookies].find(([name]) => name.startsWith('ak_flow_'))
    assert.ok(flow, 'the login set a flow cookie')
    const [name, cookie] = flow
    const value = cookie.value
    const mid = Math.floor(value.length / 2)
    const flipped = `${value.slice(0, mid)}${value[mid] === 'A' ? 'B' : 'A'}${value.slice(mid + 1)}`
    browser.cookies.set(name, { ...cookie, value: flipped })
    const before = logins.length
    const response = await browser.request(callback.href, {
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 400)
    assert.equal(((await response.json()) as { error: string }).error, 'flow_state_tampered')
    assert.equal(browser.cookies.has('ak_session'), false)
    assert.equal(await sessionOf(browser), null)
    assert.equal(logins.length, before)
  })

  it('refuses an ID token whose signature does not verify (no session)', async () => {
    const tampered = tamperingEngine()
    const browser = new AppBrowser(tampered.handler)
    const login = await browser.request(`/auth/login/${PROVIDER_ID}`)
    assert.equal(login.status, 302)
    const callback = await followToCallback(
      new URL(login.headers.get('location') ?? ''),
      CLIENT.redirectUri,
    )
    const before = logins.length
    const response = await browser.request(callback.href, {
      headers: { accept: 'application/json' },
    })
    const { error } = (await response.json()) as { error: string }
    assert.equal(response.status, 400, error)
    assert.equal(error, 'id_token_signature_invalid')
    assert.equal(browser.cookies.has('ak_session'), false)
    assert.equal(logins.length, before, 'onLogin was not called')
  })
})
