// Interop: openid-client v6 (panva) pushing its authorization requests (RFC 9126) to our OP with
// `buildAuthorizationUrlWithPAR`, then logging in through the OP's forms over real HTTP.
// openid-client authenticates at /par as at the token endpoint (client_secret_basic), checks the
// 201 answer, and verifies the ID token through our JWKS. A client registered with
// require_pushed_authorization_requests gets its plain request refused (invalid_request at the
// redirect URI, which openid-client reports). With DPoP() the proof goes to /par too (RFC 9449
// §10.1, nonces required, so openid-client retries on use_dpop_nonce there): the code is bound to
// the key, the token exchange with that key gets tokens bound to it, and with another key the
// code is refused. Last, the same against the dev IdP started from a config file.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose'
import * as client from 'openid-client'
import { serve } from '../../src/dev-idp/serve.ts'
import { createOp } from '../../src/op/create-op.ts'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const ALICE = { username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } }
const BASIC = { id: 'rp-basic', secret: 'rp-basic-secret-0123456789abcdefghijkl' }
const STRICT = { id: 'rp-strict', secret: 'rp-strict-secret-0123456789abcdefghij' }
const NONCE_SECRET = 'nonce-secret-0123456789abcdefghijkl'

const CLIENTS = [
  {
    client_id: BASIC.id,
    client_secret: BASIC.secret,
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: [REDIRECT_URI],
    skip_consent: true,
  },
  {
    client_id: STRICT.id,
    client_secret: STRICT.secret,
    redirect_uris: [REDIRECT_URI],
    skip_consent: true,
    require_pushed_authorization_requests: true,
  },
  {
    client_id: 'spa',
    token_endpoint_auth_method: 'none',
    redirect_uris: [REDIRECT_URI],
    skip_consent: true,
  },
] as const

/** openid-client may use http on loopback and verifies every ID token's signature. */
const insecure = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] }

/** The requests openid-client made, as `METHOD path` (to see the push and its DPoP header). */
const seen: { line: string; dpop: boolean }[] = []
const recordingFetch: client.CustomFetch = (url, options) => {
  seen.push({
    line: `${options.method} ${new URL(url).pathname}`,
    dpop: new Headers(options.headers as HeadersInit).has('dpop'),
  })
  return fetch(url, options as RequestInit)
}

interface Checks {
  pkceCodeVerifier: string
  expectedState: string
  expectedNonce: string
}

/** A fresh PKCE pair, state and nonce, and the parameters carrying them. */
async function request(scope = 'openid email') {
  const checks: Checks = {
    pkceCodeVerifier: client.randomPKCECodeVerifier(),
    expectedState: client.randomState(),
    expectedNonce: client.randomNonce(),
  }
  const params = {
    redirect_uri: REDIRECT_URI,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: checks.expectedState,
    nonce: checks.expectedNonce,
  }
  return { checks, params }
}

/** The URL openid-client sends the browser to carries only client_id and request_uri. */
function assertPushedUrl(url: URL, issuer: URL, clientId: string) {
  assert.equal(url.origin + url.pathname, `${issuer.origin}/authorize`)
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
  assert.equal(url.searchParams.get('client_id'), clientId)
  assert.match(url.searchParams.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/)
}

describe('openid-client v6 buildAuthorizationUrlWithPAR against createOp over node:http', () => {
  let server: Server
  let issuer: URL
  const opErrors: string[] = []

  before(async () => {
    let handler: (request: Request) => Promise<Response> = async () =>
      new Response(null, { status: 503 })
    server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
    issuer = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    const op = await createOp({
      issuer: issuer.origin,
      clients: CLIENTS,
      accounts: [ALICE],
      dpop: { nonce: 'required', nonceSecret: NONCE_SECRET },
      logger: { warn: () => {}, error: (m) => opErrors.push(m) },
    })
    handler = op.handler
  })

  after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    assert.deepEqual(opErrors, [])
  })

  const discover = (id: string, auth: client.ClientAuth) =>
    client.discovery(issuer, id, {}, auth, { ...insecure, [client.customFetch]: recordingFetch })

  it('(a) client_secret_basic: push, log in, ID token verified by openid-client', async () => {
    const config = await discover(BASIC.id, client.ClientSecretBasic(BASIC.secret))
    assert.equal(
      config.serverMetadata().pushed_authorization_request_endpoint,
      `${issuer.origin}/par`,
    )
    const { checks, params } = await request()
    seen.length = 0
    const url = await client.buildAuthorizationUrlWithPAR(config, params)
    assert.deepEqual(
      seen.map((s) => s.line),
      ['POST /par'],
    )
    assertPushedUrl(url, issuer, BASIC.id)
    const { callback } = await loginThroughForm(url, ALICE)
    const tokens = await client.authorizationCodeGrant(config, callback, checks)
    assert.equal(tokens.token_type.toLowerCase(), 'bearer')
    assert.equal(tokens.claims()?.email, ALICE.claims.email)
    assert.equal(tokens.claims()?.nonce, checks.expectedNonce)
    assert.ok(
      seen.some((s) => s.line === 'GET /jwks'),
      'the ID token was checked with our JWKS',
    )

    // The request_uri is good for one load of the authorization page.
    const again = await fetch(url, { redirect: 'manual' })
    assert.equal(again.status, 400)
    await again.body?.cancel()

    // A wrong secret is refused at the push, before any browser is involved.
    const wrong = await discover(BASIC.id, client.ClientSecretBasic(`${BASIC.secret}x`))
    await assert.rejects(
      client.buildAuthorizationUrlWithPAR(wrong, (await request()).params),
      (err: unknown) => {
        // A 401 with a Basic challenge, as at the token endpoint (RFC 6749 §5.2).
        assert.ok(err instanceof client.WWWAuthenticateChallengeError, String(err))
        assert.equal(err.status, 401)
        assert.equal(err.cause[0]?.scheme, 'basic')
        return true
      },
    )
    // The same push by hand, to read the body openid-client leaves unread with the challenge.
    const form = new URLSearchParams({ client_id: BASIC.id, ...(await request()).params })
    const answer = await fetch(`${issuer.origin}/par`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa(`${BASIC.id}:${BASIC.secret}x`)}` },
      body: form,
    })
    assert.equal(answer.status, 401)
    assert.equal(((await answer.json()) as { error?: string }).error, 'invalid_client')
  })

  it('(b) require_pushed_authorization_requests: a plain request is refused, a pushed one works', async () => {
    const config = await discover(STRICT.id, client.ClientSecretBasic(STRICT.secret))
    const plain = await request()
    const start = await fetch(client.buildAuthorizationUrl(config, plain.params), {
      redirect: 'manual',
    })
    assert.equal(start.status, 303)
    await start.body?.cancel()
    const refused = new URL(start.headers.get('location') ?? '')
    assert.equal(refused.origin + refused.pathname, REDIRECT_URI)
    await assert.rejects(
      client.authorizationCodeGrant(config, refused, plain.checks),
      (err: unknown) => {
        assert.ok(err instanceof client.AuthorizationResponseError, String(err))
        assert.equal(err.error, 'invalid_request')
        return true
      },
    )

    const pushed = await request()
    const url = await client.buildAuthorizationUrlWithPAR(config, pushed.params)
    assertPushedUrl(url, issuer, STRICT.id)
    const { callback } = await loginThroughForm(url, ALICE)
    const tokens = await client.authorizationCodeGrant(config, callback, pushed.checks)
    assert.equal(tokens.claims()?.email, ALICE.claims.email)
  })

  it('(c) DPoP() at the PAR endpoint binds the code to the key (RFC 9449 §10.1)', async () => {
    const config = await discover('spa', client.None())
    const keyPair = await client.randomDPoPKeyPair('ES256')
    const DPoP = client.getDPoPHandle(config, keyPair)
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey))

    const { checks, params } = await request()
    seen.length = 0
    const url = await client.buildAuthorizationUrlWithPAR(config, params, { DPoP })
    // Nonces are required: the first proof is answered use_dpop_nonce, the second carries it.
    assert.deepEqual(seen, [
      { line: 'POST /par', dpop: true },
      { line: 'POST /par', dpop: true },
    ])
    assertPushedUrl(url, issuer, 'spa')
    const { callback } = await loginThroughForm(url, ALICE)
    const tokens = await client.authorizationCodeGrant(config, callback, checks, undefined, {
      DPoP,
    })
    assert.equal(tokens.token_type.toLowerCase(), 'dpop')
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt })

    // A code pushed with one key cannot be redeemed with another.
    const second = await request()
    const bound = await client.buildAuthorizationUrlWithPAR(config, second.params, { DPoP })
    const login = await loginThroughForm(bound, ALICE)
    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
    await assert.rejects(
      client.authorizationCodeGrant(config, login.callback, second.checks, undefined, {
        DPoP: thief,
      }),
      (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err))
        assert.equal(err.error, 'invalid_grant')
        return true
      },
    )
  })
})

describe('openid-client v6 PAR against the dev IdP (config file)', () => {
  let running: InteropIdp
  before(async () => {
    running = await startInteropIdp(
      {
        clients: CLIENTS,
        users: [ALICE],
        dpop: { nonce: 'required', nonceSecret: NONCE_SECRET },
      },
      'authkestra-interop-par-',
    )
  })
  after(() => running?.close())

  it('(d) a must-push client: plain request refused; pushed with DPoP, bound tokens', async () => {
    const config = await client.discovery(
      running.issuer,
      STRICT.id,
      {},
      client.ClientSecretBasic(STRICT.secret),
      insecure,
    )
    const plain = await request()
    const start = await fetch(client.buildAuthorizationUrl(config, plain.params), {
      redirect: 'manual',
    })
    await start.body?.cancel()
    const refused = new URL(start.headers.get('location') ?? '')
    assert.equal(refused.searchParams.get('error'), 'invalid_request')
    assert.equal(refused.searchParams.get('state'), plain.checks.expectedState)

    const keyPair = await client.randomDPoPKeyPair('ES256')
    const DPoP = client.getDPoPHandle(config, keyPair)
    const { checks, params } = await request()
    const url = await client.buildAuthorizationUrlWithPAR(config, params, { DPoP })
    assertPushedUrl(url, running.issuer, STRICT.id)
    const { callback } = await loginThroughForm(url, ALICE)
    const tokens = await client.authorizationCodeGrant(config, callback, checks, undefined, {
      DPoP,
    })
    assert.equal(tokens.token_type.toLowerCase(), 'dpop')
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, {
      jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)),
    })
    assert.equal(tokens.claims()?.email, ALICE.claims.email)
  })
})
