// Interop: our engine's step-up against oidc-provider v9 (acrValues configured, the claims
// parameter on; oidc-provider lets acr_values replace an essential claims request, so the engine
// sends only the claims parameter to a provider that advertises it). A session from a single-factor login is sent back through the login by
// sessionGuard({ acr: 'mfa' }); the engine asks for acr_values=mfa and an essential acr; oidc-
// provider, seeing its session's acr does not meet the essential one, prompts a login again; the
// new login reports acr mfa, and the engine's session records acr and auth_time from
// oidc-provider's ID token.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createAuthkestra, type SessionAuthkestra, sessionGuard } from '../../src/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  CookieJar,
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'
import { APP, AppBrowser, SECRET } from '../engine/helpers/setup.ts'

const CLIENT = {
  clientId: 'step-up-app',
  clientSecret: 'step-up-app-secret-0123456789abcdefghijklm',
  redirectUri: `${APP}/auth/callback/op`,
} as const

describe('interop: engine step-up against oidc-provider v9', () => {
  let op: RunningOidcProvider
  let auth: SessionAuthkestra<unknown>

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
      configuration: {
        acrValues: ['sfa', 'mfa'],
        // oidc-provider emits acr, amr and auth_time only when they are claims it knows.
        claims: {
          acr: null,
          amr: null,
          auth_time: null,
          openid: ['sub'],
          profile: ['name', 'preferred_username'],
        },
        features: {
          devInteractions: { enabled: false },
          claimsParameter: { enabled: true },
        },
      },
    })
    auth = createAuthkestra<unknown>({
      providers: [
        oidc({
          id: 'op',
          issuer: op.issuer,
          clientId: CLIENT.clientId,
          clientSecret: CLIENT.clientSecret,
          redirectUri: CLIENT.redirectUri,
          // The test reads the claims request in the authorization URL: no PAR.
          par: false,
        }),
      ],
      secret: SECRET,
      session: {},
      onLogin: (identity) => identity,
    })
  })

  after(async () => {
    await op?.close()
    assert.deepEqual(op?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
  })

  const cookieOf = (browser: AppBrowser) =>
    [...browser.cookies].map(([name, c]) => `${name}=${c.value}`).join('; ')

  it('steps a single-factor session up to mfa through oidc-provider', async () => {
    const browser = new AppBrowser(auth.handler)
    const jar = new CookieJar()
    op.interactions.acr = 'sfa'
    op.interactions.amr = ['pwd']
    const first = await browser.request('/auth/login/op')
    const callback = await followToCallback(
      new URL(first.headers.get('location') ?? ''),
      CLIENT.redirectUri,
      { jar },
    )
    assert.equal((await browser.request(callback.pathname + callback.search)).status, 302)

    const guard = sessionGuard(auth, { redirectTo: '/auth/login/op', acr: 'mfa', maxAge: 600 })
    const pageRequest = () =>
      new Request(`${APP}/sensitive`, {
        headers: { cookie: cookieOf(browser), accept: 'text/html', 'sec-fetch-mode': 'navigate' },
      })
    const refused = await guard(pageRequest())
    assert.equal(refused.ok, false)
    const location = refused.ok ? '' : (refused.response.headers.get('location') ?? '')
    assert.equal(location, '/auth/login/op?returnTo=%2Fsensitive&acr_values=mfa&max_age=600')

    // The second factor happens at oidc-provider: its login now reports mfa.
    op.interactions.acr = 'mfa'
    op.interactions.amr = ['pwd', 'otp']
    const again = await browser.request(location)
    const authorize = new URL(again.headers.get('location') ?? '')
    // oidc-provider advertises the claims parameter: the acr is asked for as essential.
    assert.equal(authorize.searchParams.get('acr_values'), null)
    assert.deepEqual(JSON.parse(authorize.searchParams.get('claims') ?? ''), {
      id_token: { acr: { essential: true, values: ['mfa'] } },
    })
    const stepped = await followToCallback(authorize, CLIENT.redirectUri, { jar })
    const landed = await browser.request(stepped.pathname + stepped.search)
    assert.equal(landed.status, 302)
    assert.equal(landed.headers.get('location'), '/sensitive')
    const allowed = await guard(pageRequest())
    assert.equal(allowed.ok, true)
    if (!allowed.ok) return
    assert.equal(allowed.principal.auth.acr, 'mfa')
    // oidc-provider puts amr in an ID token only when the claims request names it.
    assert.equal(allowed.principal.auth.amr, undefined)
    assert.ok(Math.abs((allowed.principal.auth.authTime ?? 0) - Date.now() / 1000) < 60)
  })
})
