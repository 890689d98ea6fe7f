// DeviceFlow (RFC 8628, client side) against our OP over real HTTP on loopback, the person
// answering on the OP's own pages: tokens and a verified identity once they allow; slow_down
// making every later wait 5 s longer; device_access_denied, device_code_expired (from the OP and
// from the client's own clock); an AbortSignal stopping it at once; no endpoint
// (unsupported_operation); and hostile device authorization responses.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type DeviceAuthorization, DeviceFlow } from '../../../src/client/device-flow.ts'
import { isAuthkestraError } from '../../../src/core/errors.ts'
import { serve } from '../../../src/dev-idp/serve.ts'
import { createOp, type Op } from '../../../src/op/create-op.ts'
import { Browser } from '../../op/helpers/browser.ts'

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

let server: Server
let op: Op
let issuer = ''
// The OP's clock runs with real time, `skew` ahead: the expiry test moves it past the device
// code's life instead of waiting it out, so no other test races a short lifetime.
let skew = 0
const DEVICE_CODE_TTL = 60

before(async () => {
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  op = await createOp({
    issuer,
    logger: { warn: () => {}, error: () => {} },
    clients: [
      { client_id: 'cli', redirect_uris: [], grant_types: [GRANT, 'refresh_token'] },
      { client_id: 'short', redirect_uris: [], grant_types: [GRANT] },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
    deviceFlow: { interval: 1 },
    ttl: { deviceCode: DEVICE_CODE_TTL },
    clock: { now: () => Date.now() + skew },
  })
  handler = op.handler
})
after(() => {
  server.closeAllConnections()
  server.close()
})

const device = (clientId = 'cli') => new DeviceFlow({ id: 'idp', issuer, clientId })

/** The person: enters the code on the OP's page, signs in, answers. */
async function answer(userCode: string, decision: 'allow' | 'deny'): Promise<void> {
  const browser = new Browser(op.handler)
  const field = (html: string, name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? ''
  const formAction = (html: string) => /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? ''
  const entry = await (await browser.get(`${issuer}/device`)).text()
  const entered = await browser.post(`${issuer}/device`, {
    csrf: field(entry, 'csrf'),
    user_code: userCode,
  })
  const login = await (await browser.get(entered.headers.get('location') ?? '')).text()
  const consent = await (
    await browser.post(formAction(login), {
      csrf: field(login, 'csrf'),
      username: 'alice',
      password: 'wonderland',
    })
  ).text()
  const done = await browser.post(formAction(consent), { csrf: field(consent, 'csrf'), decision })
  assert.equal(done.status, 200)
}

const code = (name: string) => (err: unknown) => isAuthkestraError(err) && err.code === name

describe('DeviceFlow against our OP', () => {
  it('start, the person allows, poll gets the tokens and the identity (ID token verified)', async () => {
    const flow = device()
    const started = await flow.start({ scopes: ['openid', 'profile', 'offline_access'] })
    assert.match(started.userCode, /^[A-Z]{4}-[A-Z]{4}$/)
    assert.equal(started.verificationUri, `${issuer}/device`)
    assert.equal(started.verificationUriComplete, `${issuer}/device?user_code=${started.userCode}`)
    assert.equal(started.interval, 1)
    const waits: string[] = []
    const polling = flow.poll(
      { ...started, expiresAt: Date.now() + 30_000 },
      {
        onWait: (w) => waits.push(`${w.reason}:${w.interval}`),
      },
    )
    await answer(started.userCode, 'allow')
    const { tokens, identity } = await polling
    assert.equal(identity?.username, 'alice')
    assert.equal(identity?.name, 'Alice')
    assert.equal(tokens.idTokenClaims?.aud, 'cli')
    assert.equal(typeof tokens.refreshToken, 'string')
    assert.equal(waits[0], 'interval:1')
    // The refresh token works through the same flow.
    const refreshed = await flow.flow.refresh(tokens)
    assert.equal(typeof refreshed.accessToken, 'string')
  })

  it('slow_down makes every later wait 5 s longer', async () => {
    const flow = device()
    const started = await flow.start({ scopes: ['openid'] })
    // Another poll just before the client's first one: the OP then answers it slow_down.
    const sneak = setTimeout(() => {
      void fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: GRANT,
          device_code: started.deviceCode,
          client_id: 'cli',
        }),
      })
    }, 700)
    const waits: string[] = []
    const controller = new AbortController()
    const polling = flow.poll(
      { ...started, expiresAt: Date.now() + 30_000 },
      {
        signal: controller.signal,
        onWait: (w) => {
          waits.push(`${w.reason}:${w.interval}`)
          if (w.reason === 'slow_down') controller.abort(new Error('seen'))
        },
      },
    )
    await assert.rejects(polling, /seen/)
    clearTimeout(sneak)
    assert.deepEqual(waits, ['interval:1', 'slow_down:6'])
  })

  it('the person denies: device_access_denied', async () => {
    const flow = device()
    const started = await flow.start({ scopes: ['openid'] })
    const polling = flow.poll({ ...started, expiresAt: Date.now() + 30_000 })
    await answer(started.userCode, 'deny')
    await assert.rejects(
      polling,
      (err) =>
        code('device_access_denied')(err) &&
        (err as { oauthError?: string }).oauthError === 'access_denied',
    )
  })

  it('the OP says expired_token: device_code_expired', async () => {
    const flow = device('short')
    const started = await flow.start({ scopes: ['openid'] })
    // The client believes it has longer than the OP gives: the OP's answer decides.
    skew = (DEVICE_CODE_TTL + 1) * 1000
    try {
      await assert.rejects(
        flow.poll({ ...started, expiresAt: Date.now() + 600_000 }),
        (err) =>
          code('device_code_expired')(err) &&
          (err as { oauthError?: string }).oauthError === 'expired_token',
      )
    } finally {
      skew = 0
    }
  })

  it('its own clock: no poll once the next would come after expires_in', async () => {
    const flow = device()
    const started: DeviceAuthorization = { ...(await flow.start()), expiresAt: Date.now() + 500 }
    const began = Date.now()
    await assert.rejects(flow.poll(started), code('device_code_expired'))
    assert.ok(Date.now() - began < 400, 'answered without waiting')
  })

  it('an AbortSignal stops the wait at once, with its reason', async () => {
    const flow = device()
    const started = await flow.start()
    const controller = new AbortController()
    const polling = flow.poll(
      { ...started, interval: 30, expiresAt: Date.now() + 60_000 },
      {
        signal: controller.signal,
      },
    )
    const began = Date.now()
    setTimeout(() => controller.abort(new Error('cancelled by the user')), 50)
    await assert.rejects(polling, /cancelled by the user/)
    assert.ok(Date.now() - began < 1000)
  })

  it('refuses a client the OP did not register for the grant, and a provider without the endpoint', async () => {
    await assert.rejects(
      new DeviceFlow({ id: 'idp', issuer, clientId: 'nobody' }).start(),
      (err) =>
        code('token_error')(err) &&
        (err as { oauthError?: string }).oauthError === 'invalid_client',
    )
    const noEndpoint = new DeviceFlow({
      id: 'plain',
      clientId: 'x',
      authorizationEndpoint: 'https://as.example/authorize',
      tokenEndpoint: 'https://as.example/token',
    })
    await assert.rejects(noEndpoint.start(), code('unsupported_operation'))
  })
})

describe('DeviceFlow: hostile device authorization responses', () => {
  let hostile: Server
  let body: { status: number; json: unknown } = { status: 200, json: {} }
  let base = ''
  before(async () => {
    hostile = createServer((_req, res) => {
      res.writeHead(body.status, { 'content-type': 'application/json' })
      res.end(typeof body.json === 'string' ? body.json : JSON.stringify(body.json))
    })
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`
  })
  after(() => hostile.close())

  const good = {
    device_code: 'd'.repeat(43),
    user_code: 'BCDF-GHJK',
    verification_uri: 'https://as.example/device',
    expires_in: 600,
  }
  const rows: {
    name: string
    status?: number
    json: unknown
    code: string
    oauthError?: string
  }[] = [
    { name: 'not JSON', json: '<html>oops', code: 'provider_bad_response' },
    {
      name: 'no device_code',
      json: { ...good, device_code: undefined },
      code: 'provider_bad_response',
    },
    {
      name: 'a control character in user_code',
      json: { ...good, user_code: 'AB\nCD' },
      code: 'provider_bad_response',
    },
    {
      name: 'a javascript: verification_uri',
      json: { ...good, verification_uri: 'javascript:alert(1)' },
      code: 'provider_bad_response',
    },
    { name: 'expires_in 0', json: { ...good, expires_in: 0 }, code: 'provider_bad_response' },
    { name: 'a string interval', json: { ...good, interval: '5' }, code: 'provider_bad_response' },
    {
      name: 'an OAuth error',
      status: 400,
      json: { error: 'invalid_scope' },
      code: 'token_error',
      oauthError: 'invalid_scope',
    },
    { name: 'a 500 without a body', status: 500, json: '', code: 'provider_bad_response' },
  ]
  for (const row of rows) {
    it(`${row.name} → ${row.code}`, async () => {
      body = { status: row.status ?? 200, json: row.json }
      const flow = new DeviceFlow({
        id: 'hostile',
        clientId: 'x',
        authorizationEndpoint: `${base}/authorize`,
        tokenEndpoint: `${base}/token`,
        deviceAuthorizationEndpoint: `${base}/device`,
      })
      await assert.rejects(flow.start({ scopes: ['x'] }), (err) => {
        assert.ok(code(row.code)(err), String(err))
        if (row.oauthError)
          assert.equal((err as { oauthError?: string }).oauthError, row.oauthError)
        assert.ok(!String((err as Error).message).includes('alert'), 'nothing echoed')
        return true
      })
    })
  }
  it('takes interval 5 when absent, and Google’s verification_url', async () => {
    body = {
      status: 200,
      json: { ...good, verification_uri: undefined, verification_url: 'https://as.example/d' },
    }
    const flow = new DeviceFlow({
      id: 'hostile',
      clientId: 'x',
      authorizationEndpoint: `${base}/authorize`,
      tokenEndpoint: `${base}/token`,
      deviceAuthorizationEndpoint: `${base}/device`,
    })
    const started = await flow.start({ scopes: ['x'] })
    assert.equal(started.interval, 5)
    assert.equal(started.verificationUri, 'https://as.example/d')
  })
})
