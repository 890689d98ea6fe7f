// Interop for the Device Authorization Grant (RFC 8628), both ways:
// - openid-client v6 (certified RP library) as a client of our dev IdP: its
//   initiateDeviceAuthorization and pollDeviceAuthorizationGrant, with its own checks of the
//   responses and of the ID token (signature through our JWKS, iss, aud, exp);
// - our DeviceFlow as a client of oidc-provider v9 with its deviceFlow feature on: the person
//   enters the code on oidc-provider's own page and confirms it there;
// - our ClientCredentialsFlow against oidc-provider v9 with clientCredentials on.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as client from 'openid-client'
import { ClientCredentialsFlow } from '../../src/client/client-credentials.ts'
import { DeviceFlow } from '../../src/client/device-flow.ts'
import { isAuthkestraError } from '../../src/core/errors.ts'
import {
  CookieJar,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const TV = { id: 'tv', secret: 'tv-secret-0123456789abcdefghijklmnopq' }

const field = (html: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? ''
const action = (html: string) => /<form[^>]* action="([^"]+)"/.exec(html)?.[1] ?? ''

/** A browser over HTTP with a cookie jar, following nothing by itself. */
function browser() {
  const jar = new CookieJar()
  const send = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    const cookie = jar.header()
    if (cookie) headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    jar.store(response)
    return response
  }
  const post = (url: string, form: Record<string, string>) =>
    send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    })
  return { send, post }
}

/** The person at our dev IdP: code, login, consent. */
async function answerAtOurOp(issuer: string, userCode: string, decision: 'allow' | 'deny') {
  const b = browser()
  const entry = await (await b.send(`${issuer}/device`)).text()
  const entered = await b.post(`${issuer}/device`, {
    csrf: field(entry, 'csrf'),
    user_code: userCode,
  })
  const login = await (
    await b.send(new URL(entered.headers.get('location') ?? '', issuer).href)
  ).text()
  const consent = await (
    await b.post(new URL(action(login), issuer).href, {
      csrf: field(login, 'csrf'),
      username: 'alice',
      password: 'wonderland',
    })
  ).text()
  const done = await b.post(new URL(action(consent), issuer).href, {
    csrf: field(consent, 'csrf'),
    decision,
  })
  assert.equal(done.status, 200)
}

describe('openid-client v6 runs the device flow against our dev IdP', () => {
  let op: InteropIdp
  before(async () => {
    op = await startInteropIdp(
      {
        clients: [
          { client_id: 'cli', redirect_uris: [], grant_types: [GRANT, 'refresh_token'] },
          { client_id: TV.id, client_secret: TV.secret, redirect_uris: [], grant_types: [GRANT] },
        ],
        users: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
      },
      'authkestra-device-interop-',
    )
  })
  after(() => op?.close())

  const configFor = (id: string, secret?: string) =>
    client.discovery(
      op.issuer,
      id,
      secret === undefined ? undefined : { client_secret: secret },
      secret === undefined ? client.None() : client.ClientSecretBasic(secret),
      { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
    )

  it('public client: initiate, the person allows, poll gets tokens with a verified ID token', async () => {
    const config = await configFor('cli')
    assert.equal(
      config.serverMetadata().device_authorization_endpoint,
      `${op.issuer.origin}/device_authorization`,
    )
    const started = await client.initiateDeviceAuthorization(config, {
      scope: 'openid profile offline_access',
    })
    assert.match(started.user_code, /^[A-Z]{4}-[A-Z]{4}$/)
    await answerAtOurOp(op.issuer.origin, started.user_code, 'allow')
    const tokens = await client.pollDeviceAuthorizationGrant(config, started)
    assert.equal(tokens.claims()?.name, 'Alice')
    assert.equal(tokens.claims()?.aud, 'cli')
    assert.equal(typeof tokens.refresh_token, 'string')
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string)
    assert.equal(typeof refreshed.access_token, 'string')
  })

  it('confidential client (client_secret_basic): a denial is access_denied to openid-client', async () => {
    const config = await configFor(TV.id, TV.secret)
    const started = await client.initiateDeviceAuthorization(config, { scope: 'openid' })
    await answerAtOurOp(op.issuer.origin, started.user_code, 'deny')
    await assert.rejects(client.pollDeviceAuthorizationGrant(config, started), (err: unknown) => {
      assert.ok(err instanceof client.ResponseBodyError, String(err))
      assert.equal(err.error, 'access_denied')
      return true
    })
  })
})

describe('our DeviceFlow against oidc-provider v9 (deviceFlow on)', () => {
  let provider: RunningOidcProvider
  before(async () => {
    provider = await startOidcProvider({
      clients: [
        {
          client_id: 'device-app',
          token_endpoint_auth_method: 'none',
          redirect_uris: [],
          grant_types: [GRANT, 'refresh_token'],
          response_types: [],
        },
      ],
      configuration: {
        features: {
          devInteractions: { enabled: false },
          deviceFlow: { enabled: true },
          revocation: { enabled: true },
        },
      },
    })
  })
  after(() => provider?.close())

  /** The person at oidc-provider: its code form, its confirmation, its (automatic) login. */
  async function answerAtOidcProvider(userCode: string, confirm: boolean) {
    const b = browser()
    const base = provider.issuer
    const entry = await (await b.send(`${base}/device`)).text()
    let response = await b.post(new URL(action(entry), base).href, {
      xsrf: field(entry, 'xsrf'),
      user_code: userCode,
    })
    for (let hop = 0; hop < 10 && response.status >= 300 && response.status < 400; hop++)
      response = await b.send(new URL(response.headers.get('location') ?? '', base).href)
    const confirmPage = await response.text()
    assert.match(confirmPage, /xsrf/, confirmPage.slice(0, 300))
    const form: Record<string, string> = { xsrf: field(confirmPage, 'xsrf'), user_code: userCode }
    if (confirm) form.confirm = 'yes'
    else form.abort = 'yes'
    let done = await b.post(new URL(action(confirmPage), base).href, form)
    // Confirmed, oidc-provider signs the person in (the test server's interaction route) and
    // ends on its success page.
    for (let hop = 0; hop < 10 && done.status >= 300 && done.status < 400; hop++)
      done = await b.send(new URL(done.headers.get('location') ?? '', base).href)
    assert.equal(done.status, 200, await done.clone().text())
  }

  it('start, the person confirms at oidc-provider, poll gets tokens and the identity', async () => {
    const device = new DeviceFlow({ id: 'op', issuer: provider.issuer, clientId: 'device-app' })
    const started = await device.start({ scopes: ['openid', 'profile', 'email', 'offline_access'] })
    assert.equal(started.verificationUri, `${provider.issuer}/device`)
    const polling = device.poll(started)
    await answerAtOidcProvider(started.userCode, true)
    const { tokens, identity } = await polling
    assert.equal(identity?.email, 'ada@example.test')
    assert.equal(tokens.idTokenClaims?.aud, 'device-app')
    assert.equal(typeof tokens.refreshToken, 'string')
    assert.deepEqual(provider.serverErrors, [])
  })

  it('the person aborts at oidc-provider: device_access_denied', async () => {
    const device = new DeviceFlow({ id: 'op', issuer: provider.issuer, clientId: 'device-app' })
    const started = await device.start({ scopes: ['openid'] })
    const polling = device.poll(started)
    await answerAtOidcProvider(started.userCode, false)
    await assert.rejects(polling, (err) => isAuthkestraError(err, 'device_access_denied'))
  })
})

describe('our ClientCredentialsFlow against oidc-provider v9 (clientCredentials on)', () => {
  let provider: RunningOidcProvider
  const SECRET = 'svc-secret-0123456789abcdefghijklmnopqrstuv'
  before(async () => {
    provider = await startOidcProvider({
      clients: [
        {
          client_id: 'svc',
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [],
          grant_types: ['client_credentials'],
          response_types: [],
        },
        {
          client_id: 'svc-post',
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [],
          grant_types: ['client_credentials'],
          response_types: [],
        },
      ],
      configuration: {
        features: {
          devInteractions: { enabled: false },
          clientCredentials: { enabled: true },
          revocation: { enabled: true },
        },
      },
    })
  })
  after(() => provider?.close())

  for (const [clientId, method] of [
    ['svc', 'client_secret_basic'],
    ['svc-post', 'client_secret_post'],
  ] as const) {
    it(`${method}: a token, then the same one from the cache`, async () => {
      const flow = new ClientCredentialsFlow({
        id: 'op',
        issuer: provider.issuer,
        clientId,
        clientSecret: SECRET,
        clientAuthMethod: method,
      })
      const first = await flow.token()
      assert.equal(first.tokenType, 'Bearer')
      assert.ok((first.expiresAt ?? 0) > Date.now())
      assert.equal((await flow.token()).accessToken, first.accessToken)
      assert.deepEqual(provider.serverErrors, [])
    })
  }

  it('a wrong secret is token_error invalid_client', async () => {
    const flow = new ClientCredentialsFlow({
      id: 'op',
      issuer: provider.issuer,
      clientId: 'svc',
      clientSecret: 'wrong-0123456789abcdefghijklmnopqrstuvwx',
    })
    await assert.rejects(
      flow.token(),
      (err) => isAuthkestraError(err, 'token_error') && err.oauthError === 'invalid_client',
    )
  })
})
