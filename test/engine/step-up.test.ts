// Step-up end to end over real HTTP on loopback: an app (session mode, the Node-native path)
// guards /sensitive with sessionGuard(auth, { acr: 'mfa', maxAge: 300 }); alice signed in with
// her password is sent back through the login asking our OP for acr_values=mfa and max_age; the
// OP steps her session up with a TOTP code; the app's session then records acr/amr/auth_time from
// the validated ID token. API calls get RFC 9470's challenge; an account that cannot reach mfa
// ends on the error page. The bearer guard's stepUp is checked on signed access tokens.
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { serve } from '../../src/dev-idp/serve.ts'
import {
  bearer,
  createAuthkestra,
  createMemorySessionStore,
  type SessionAuthkestra,
  sessionGuard,
} from '../../src/index.ts'
import { createMemoryCredentialStore, createMfa, type Mfa, totpCode } from '../../src/mfa/index.ts'
import { engineRequest, writeMessage } from '../../src/node/web.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import type { OpRequest } from '../../src/op/http/message.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { CookieJar } from '../helpers/cookie-jar.ts'
import { actionOf, csrfOf } from '../op/helpers/browser.ts'

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'

describe('step-up: sessionGuard acr/maxAge against our OP', () => {
  let op: Op
  let mfa: Mfa
  let opServer: Server
  let appServer: Server
  let origin = ''
  let auth: SessionAuthkestra<{ sub: string }>

  before(async () => {
    let ready: (h: { message: (m: OpRequest) => ReturnType<Op['handleMessage']> }) => void =
      () => {}
    opServer = await serve(new Promise((resolve) => (ready = resolve)), {
      host: '127.0.0.1',
      port: 0,
    })
    const issuer = `http://127.0.0.1:${(opServer.address() as AddressInfo).port}`
    const sensitive = () =>
      sessionGuard(auth, { redirectTo: '/auth/login/idp', acr: 'mfa', maxAge: 300 })
    appServer = createServer(async (req, res) => {
      const request = engineRequest('http', req.headers.host, req.url ?? '/', req, {
        web: () => undefined,
      })
      if (!request) return void res.writeHead(400).end()
      if (req.url === '/sensitive' || req.url === '/api/sensitive') {
        const result = await sensitive()(request)
        if (!result.ok) {
          const r = result.response
          res.writeHead(r.status, Object.fromEntries(r.headers))
          return void res.end(await r.text())
        }
        const { acr, amr, authTime } = result.principal.auth
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ acr, amr, authTime }))
      }
      auth.handleMessage(request).then((response) => writeMessage(response, res))
    })
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`
    mfa = createMfa({
      store: createMemoryCredentialStore(),
      secret: 'step-up-test-secret-0123456789abcdef',
      issuer: 'OP',
    })
    op = await createOp({
      issuer,
      mfa,
      logger: { warn: () => {}, error: () => {} },
      clients: [
        {
          client_id: 'app',
          client_secret: 'app-secret-0123456789abcdefghijklmnop',
          redirect_uris: [`${origin}/auth/callback/idp`],
          skip_consent: true,
        },
      ],
      accounts: [
        { username: 'alice', password: 'wonderland', sub: 'alice-sub' },
        { username: 'bob', password: 'builder', sub: 'bob-sub' },
      ],
    })
    ready({ message: (m) => op.handleMessage(m) })
    auth = createAuthkestra({
      providers: [
        oidc({
          id: 'idp',
          issuer,
          clientId: 'app',
          clientSecret: 'app-secret-0123456789abcdefghijklmnop',
          redirectUri: `${origin}/auth/callback/idp`,
          // The test reads acr and max_age in the authorization URL: no PAR.
          par: false,
        }),
      ],
      secret: 'step-up-engine-secret-0123456789abcdef',
      session: { store: createMemorySessionStore() },
      onLogin: (identity) => ({ sub: identity.subject }),
    }) as SessionAuthkestra<{ sub: string }>
  })

  after(() => {
    opServer?.close()
    appServer?.close()
  })

  /**
   * One request over node:http (fetch would overwrite sec-fetch-mode, which tells the guard a
   * page navigation from an API call), as a Web Response with its URL.
   */
  async function go(jar: CookieJar, url: string, init: RequestInit = {}) {
    const target = new URL(url, origin)
    const headers = Object.fromEntries(new Headers(init.headers))
    const cookie = jar.header()
    if (cookie) headers.cookie = cookie
    const body = typeof init.body === 'string' ? init.body : undefined
    const response = await new Promise<Response>((resolve, reject) => {
      const req = httpRequest(target, { method: init.method ?? 'GET', headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const h = new Headers()
          for (const [name, value] of Object.entries(res.headers))
            for (const v of Array.isArray(value) ? value : [value ?? '']) h.append(name, v)
          const status = res.statusCode ?? 500
          const r = new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
            status,
            headers: h,
          })
          Object.defineProperty(r, 'url', { value: target.href })
          resolve(r)
        })
      })
      req.on('error', reject)
      req.end(body)
    })
    jar.store(response)
    return response
  }
  const form = (fields: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  })
  // What a browser's navigation sends (fetch would say sec-fetch-mode: cors).
  const page = { accept: 'text/html', 'sec-fetch-mode': 'navigate' }

  /** Follows redirects until a page (200) or a response that is not a redirect. */
  async function follow(jar: CookieJar, response: Response): Promise<Response> {
    let current = response
    while (current.status === 302 || current.status === 303) {
      const next = new URL(current.headers.get('location') ?? '', current.url || origin)
      await current.body?.cancel()
      current = await go(jar, next.href, { headers: page })
    }
    return current
  }

  async function passwordLogin(
    jar: CookieJar,
    username: string,
    password: string,
    returnTo = '/sensitive',
  ) {
    const login = await follow(
      jar,
      await go(jar, `/auth/login/idp?returnTo=${returnTo}`, { headers: page }),
    )
    const html = await login.text()
    return go(jar, actionOf(html), form({ username, password, csrf: csrfOf(html) }))
  }

  it('sends a password session back through the login with acr_values and max_age; the OP steps it up', async () => {
    const jar = new CookieJar()
    const back = await passwordLogin(jar, 'alice', 'wonderland', '/home')
    assert.equal(back.status, 303)
    const callback = await go(jar, back.headers.get('location') ?? '', { headers: page })
    assert.equal(callback.headers.get('location'), '/home', 'signed in with the password')
    const api = await go(jar, '/api/sensitive', { headers: { accept: 'application/json' } })
    assert.equal(api.status, 401)
    assert.equal(
      api.headers.get('www-authenticate'),
      'Session realm="authkestra", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa", max_age="300"',
    )
    assert.equal(
      ((await api.json()) as { error: string }).error,
      'insufficient_user_authentication',
    )
    const redirect = await go(jar, '/sensitive', { headers: page })
    assert.equal(redirect.status, 303)
    assert.equal(
      redirect.headers.get('location'),
      '/auth/login/idp?returnTo=%2Fsensitive&acr_values=mfa&max_age=300',
    )
    // Alice enrolls an app; the next pass through the login asks the OP for mfa.
    await mfa.importTotp('alice-sub', { secret: SECRET })
    const login = await go(jar, redirect.headers.get('location') ?? '', { headers: page })
    const authorize = new URL(login.headers.get('location') ?? '')
    assert.equal(
      authorize.searchParams.get('acr_values'),
      null,
      'our OP takes the claims parameter',
    )
    assert.equal(authorize.searchParams.get('max_age'), '300')
    assert.deepEqual(JSON.parse(authorize.searchParams.get('claims') ?? ''), {
      id_token: { acr: { essential: true, values: ['mfa'] } },
    })
    const stepUp = await follow(jar, login)
    const html = await stepUp.text()
    assert.match(html, /Confirm it’s you/)
    const done = await go(
      jar,
      actionOf(html),
      form({ csrf: csrfOf(html), code: await totpCode(SECRET, Date.now()) }),
    )
    const final = await follow(jar, done)
    assert.equal(final.status, 200)
    const seen = (await final.json()) as { acr: string; amr: string[]; authTime: number }
    assert.deepEqual([seen.acr, seen.amr], ['mfa', ['pwd', 'otp', 'mfa']])
    assert.ok(Math.abs(seen.authTime - Date.now() / 1000) < 60)
  })

  it('an account that cannot reach mfa ends on the error page, not in a loop', async () => {
    const jar = new CookieJar()
    await follow(jar, await passwordLogin(jar, 'bob', 'builder'))
    const redirect = await go(jar, '/sensitive', { headers: page })
    assert.equal(redirect.status, 303)
    const login = await go(jar, redirect.headers.get('location') ?? '', { headers: page })
    const toOp = await go(jar, login.headers.get('location') ?? '', { headers: page })
    const callback = new URL(toOp.headers.get('location') ?? '')
    assert.equal(callback.searchParams.get('error'), 'unmet_authentication_requirements')
    const landed = await go(jar, callback.href, { headers: page })
    assert.equal(landed.status >= 400, true)
    assert.ok(!(await landed.text()).includes('unmet_authentication_requirements"'))
  })

  it('refuses step-up options that make no sense', () => {
    assert.throws(() => sessionGuard(auth, { acr: [] }), { code: 'config_invalid' })
    assert.throws(() => sessionGuard(auth, { acr: 'has space' }), { code: 'config_invalid' })
    assert.throws(() => sessionGuard(auth, { maxAge: -1 }), { code: 'config_invalid' })
  })
})

describe('step-up: bearer guard (RFC 9470)', () => {
  const key = new TextEncoder().encode('bearer-step-up-secret-0123456789abcdef')
  const guard = bearer({
    issuer: 'https://op.example',
    audience: 'api',
    secret: key,
    stepUp: { acr: ['mfa', 'phr'], maxAge: 600 },
    logger: { warn: () => {} },
  })
  const token = (claims: Record<string, unknown>) =>
    new SignJWT({ scope: 'read', ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer('https://op.example')
      .setAudience('api')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key)
  const call = async (t: string) =>
    guard(new Request('https://api.example/x', { headers: { authorization: `Bearer ${t}` } }))
  const now = () => Math.floor(Date.now() / 1000)

  it('accepts a token whose acr and auth_time meet it', async () => {
    assert.equal((await call(await token({ acr: 'phr', auth_time: now() - 10 }))).ok, true)
  })

  for (const [label, claims, why] of [
    ['no acr', { auth_time: now() }, 'a stronger authentication is required'],
    ['a weaker acr', { acr: 'sfa', auth_time: now() }, 'a stronger authentication is required'],
    [
      'an old auth_time',
      { acr: 'mfa', auth_time: now() - 3600 },
      'a more recent authentication is required',
    ],
    ['no auth_time', { acr: 'mfa' }, 'a more recent authentication is required'],
  ] as const) {
    it(`answers 401 insufficient_user_authentication for ${label}`, async () => {
      const result = await call(await token(claims))
      assert.equal(result.ok, false)
      if (result.ok) return
      assert.equal(result.response.status, 401)
      assert.equal(
        result.response.headers.get('www-authenticate'),
        `Bearer realm="authkestra", error="insufficient_user_authentication", error_description="${why}", acr_values="mfa phr", max_age="600"`,
      )
    })
  }
})
