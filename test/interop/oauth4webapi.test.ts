// Interop: `oauth4webapi` v3 (panva's low-level OAuth 2 / OIDC client) as a real client of our dev
// IdP, started in-process on loopback and driven over HTTP through its login and consent forms
// (no auto-login). oauth4webapi makes its own checks: discovery (issuer match), the authorization
// response (`state`, `iss` per RFC 9207), the token responses (the ID token's `iss`, `aud`, `exp`,
// `iat`, `nonce`, `azp`), the userinfo subject, and the OAuth error bodies. The ID token's
// signature is checked with its `validateApplicationLevelSignature` through our `jwks_uri`.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as oauth from 'oauth4webapi'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const SCOPE = 'openid profile email offline_access'
const ALICE = {
  username: 'alice',
  password: 'wonderland',
  claims: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: true },
}

const CONFIDENTIAL = { id: 'o4w-basic', secret: 'o4w-basic-secret-0123456789abcdefghijk' }
const PUBLIC_CLIENT = { id: 'o4w-public' }
const SERVICE = { id: 'o4w-svc', secret: 'o4w-svc-secret-0123456789abcdefghijklmn' }
const API = { id: 'o4w-api', secret: 'o4w-api-secret-0123456789abcdefghijklmn' }

const DEV_IDP_FILE = {
  clients: [
    {
      client_id: CONFIDENTIAL.id,
      client_secret: CONFIDENTIAL.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [REDIRECT_URI],
    },
    {
      client_id: PUBLIC_CLIENT.id,
      token_endpoint_auth_method: 'none',
      redirect_uris: [REDIRECT_URI],
      skip_consent: true,
    },
    {
      client_id: SERVICE.id,
      client_secret: SERVICE.secret,
      redirect_uris: [],
      grant_types: ['client_credentials'],
    },
    {
      // An API: may introspect access tokens issued to other clients.
      client_id: API.id,
      client_secret: API.secret,
      redirect_uris: [],
      grant_types: ['client_credentials'],
      resource_server: true,
    },
  ],
  users: [ALICE],
}

/** The issuer is plain http on loopback. */
const insecure = { [oauth.allowInsecureRequests]: true } as const

let running: InteropIdp
let issuer: URL
let as: oauth.AuthorizationServer

before(async () => {
  running = await startInteropIdp(DEV_IDP_FILE, 'authkestra-o4w-')
  issuer = running.issuer
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }),
  )
})

after(async () => {
  await running?.close()
})

interface Rp {
  readonly client: oauth.Client
  readonly auth: oauth.ClientAuth
}

const confidential: Rp = {
  client: { client_id: CONFIDENTIAL.id },
  auth: oauth.ClientSecretBasic(CONFIDENTIAL.secret),
}
const publicRp: Rp = { client: { client_id: PUBLIC_CLIENT.id }, auth: oauth.None() }
const service: Rp = {
  client: { client_id: SERVICE.id },
  auth: oauth.ClientSecretBasic(SERVICE.secret),
}
const api: Rp = { client: { client_id: API.id }, auth: oauth.ClientSecretBasic(API.secret) }

/** An OAuth error body from the OP, as oauth4webapi surfaces it. */
const isOAuthError =
  (error: string, status = 400) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof oauth.ResponseBodyError, `expected a ResponseBodyError, got ${err}`)
    assert.equal(err.error, error)
    assert.equal(err.status, status)
    return true
  }

/** One authorization request (PKCE S256, state, nonce) through the login form. */
async function authorize(rp: Rp) {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  assert.ok(as.authorization_endpoint)
  const url = new URL(as.authorization_endpoint)
  url.search = new URLSearchParams({
    client_id: rp.client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: SCOPE,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString()
  const { callback } = await loginThroughForm(url, {
    username: ALICE.username,
    password: ALICE.password,
  })
  // oauth4webapi checks `state`, and `iss` against the discovered issuer (RFC 9207).
  const params = oauth.validateAuthResponse(as, rp.client, callback, state)
  return { params, verifier, nonce }
}

async function exchange(rp: Rp, params: URLSearchParams, verifier: string, nonce: string) {
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    rp.client,
    rp.auth,
    params,
    REDIRECT_URI,
    verifier,
    insecure,
  )
  return oauth.processAuthorizationCodeResponse(as, rp.client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  })
}

async function introspect(rp: Rp, token: string, hint?: string) {
  const response = await oauth.introspectionRequest(as, rp.client, rp.auth, token, {
    ...insecure,
    ...(hint === undefined ? {} : { additionalParameters: { token_type_hint: hint } }),
  })
  return oauth.processIntrospectionResponse(as, rp.client, response)
}

async function revoke(rp: Rp, token: string) {
  const response = await oauth.revocationRequest(as, rp.client, rp.auth, token, insecure)
  await oauth.processRevocationResponse(response)
}

async function refresh(rp: Rp, refreshToken: string) {
  const response = await oauth.refreshTokenGrantRequest(
    as,
    rp.client,
    rp.auth,
    refreshToken,
    insecure,
  )
  return oauth.processRefreshTokenResponse(as, rp.client, response)
}

/** Code + PKCE, the ID token (claims and signature), userinfo and one refresh with rotation. */
async function happyPath(rp: Rp) {
  const startedAt = Math.floor(Date.now() / 1000)
  const { params, verifier, nonce } = await authorize(rp)
  assert.ok(params.get('code'))

  const response = await oauth.authorizationCodeGrantRequest(
    as,
    rp.client,
    rp.auth,
    params,
    REDIRECT_URI,
    verifier,
    insecure,
  )
  const tokens = await oauth.processAuthorizationCodeResponse(as, rp.client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  })
  // The ID token's signature, with a key of our jwks_uri.
  await oauth.validateApplicationLevelSignature(as, response, insecure)

  assert.equal(tokens.token_type, 'bearer')
  assert.ok(tokens.access_token)
  assert.ok(tokens.refresh_token)
  assert.deepEqual(tokens.scope?.split(' ').sort(), SCOPE.split(' ').sort())
  assert.ok(typeof tokens.expires_in === 'number' && tokens.expires_in > 0)
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  assert.ok(claims)
  assert.equal(claims.iss, issuer.origin)
  assert.equal(claims.aud, rp.client.client_id)
  assert.equal(claims.azp, rp.client.client_id)
  assert.equal(claims.nonce, nonce)
  assert.ok(claims.sub.length > 0)
  assert.equal(typeof claims.auth_time, 'number')
  assert.ok((claims.auth_time as number) >= startedAt - 1)
  assert.equal(claims.email, ALICE.claims.email)

  const userinfo = await oauth.processUserInfoResponse(
    as,
    rp.client,
    claims.sub,
    await oauth.userInfoRequest(as, rp.client, tokens.access_token, insecure),
  )
  assert.equal(userinfo.sub, claims.sub)
  assert.equal(userinfo.name, ALICE.claims.name)
  assert.equal(userinfo.email, ALICE.claims.email)
  assert.equal(userinfo.email_verified, true)
  await assert.rejects(
    oauth.processUserInfoResponse(
      as,
      rp.client,
      'someone-else',
      await oauth.userInfoRequest(as, rp.client, tokens.access_token, insecure),
    ),
    (err: unknown) => {
      assert.ok(err instanceof oauth.OperationProcessingError)
      assert.equal(err.code, oauth.JSON_ATTRIBUTE_COMPARISON)
      return true
    },
    'oauth4webapi checks the userinfo subject',
  )

  const refreshed = await refresh(rp, tokens.refresh_token)
  assert.ok(refreshed.access_token)
  assert.notEqual(refreshed.access_token, tokens.access_token)
  assert.ok(refreshed.refresh_token)
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated')
  const refreshedClaims = oauth.getValidatedIdTokenClaims(refreshed)
  assert.ok(refreshedClaims, 'the refresh response carries an ID token (openid scope)')
  assert.equal(refreshedClaims.sub, claims.sub)
  return { tokens, refreshed, sub: claims.sub }
}

describe('oauth4webapi v3 against the dev IdP (login form)', () => {
  it('discovers the OP metadata (issuer checked by processDiscoveryResponse)', () => {
    assert.equal(as.issuer, issuer.origin)
    assert.equal(as.authorization_endpoint, `${issuer.origin}/authorize`)
    assert.equal(as.token_endpoint, `${issuer.origin}/token`)
    assert.equal(as.jwks_uri, `${issuer.origin}/jwks`)
    assert.equal(as.userinfo_endpoint, `${issuer.origin}/userinfo`)
    assert.equal(as.revocation_endpoint, `${issuer.origin}/revoke`)
    assert.equal(as.introspection_endpoint, `${issuer.origin}/introspect`)
    assert.deepEqual(as.code_challenge_methods_supported, ['S256'])
    assert.equal(as.authorization_response_iss_parameter_supported, true)
  })

  it('client_secret_basic: code + PKCE, signed ID token, userinfo, refresh with rotation', async () => {
    const { tokens, refreshed } = await happyPath(confidential)
    // The rotated refresh token is dead; reusing it is invalid_grant and kills the family.
    const oldRt = tokens.refresh_token
    const newRt = refreshed.refresh_token
    assert.ok(oldRt && newRt)
    assert.equal((await introspect(confidential, oldRt)).active, false, 'rotated')
    assert.equal((await introspect(confidential, newRt)).active, true)
    await assert.rejects(refresh(confidential, oldRt), isOAuthError('invalid_grant'))
    await assert.rejects(refresh(confidential, newRt), isOAuthError('invalid_grant'))
    assert.equal((await introspect(confidential, refreshed.access_token)).active, false)
  })

  it('public client (none): the same happy path', async () => {
    await happyPath(publicRp)
  })

  it('a tampered ID token signature fails validateApplicationLevelSignature', async () => {
    const { params, verifier, nonce } = await authorize(confidential)
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      confidential.client,
      confidential.auth,
      params,
      REDIRECT_URI,
      verifier,
      insecure,
    )
    const body = (await response.json()) as Record<string, unknown>
    const [header, payload, signature = ''] = String(body.id_token).split('.')
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
    body.id_token = `${header}.${payload}.${flipped}`
    const forged = new Response(JSON.stringify(body), {
      status: response.status,
      headers: response.headers,
    })
    // The claims still pass (the payload is intact), so only the signature check catches it.
    await oauth.processAuthorizationCodeResponse(as, confidential.client, forged, {
      expectedNonce: nonce,
      requireIdToken: true,
    })
    await assert.rejects(
      oauth.validateApplicationLevelSignature(as, forged, insecure),
      (err: unknown) => {
        assert.ok(err instanceof oauth.OperationProcessingError)
        assert.equal(err.code, oauth.INVALID_RESPONSE)
        assert.match(err.message, /signature/i)
        return true
      },
    )
  })

  it('client_credentials: an access token for the client, introspected and revoked', async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      service.client,
      service.auth,
      {},
      insecure,
    )
    const tokens = await oauth.processClientCredentialsResponse(as, service.client, response)
    assert.ok(tokens.access_token)
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.refresh_token, undefined)
    assert.equal(tokens.id_token, undefined)
    const info = await introspect(service, tokens.access_token)
    assert.equal(info.active, true)
    assert.equal(info.sub, SERVICE.id)
    assert.equal(info.client_id, SERVICE.id)
    await revoke(service, tokens.access_token)
    assert.equal((await introspect(service, tokens.access_token)).active, false)
    await assert.rejects(
      oauth.processClientCredentialsResponse(
        as,
        service.client,
        await oauth.clientCredentialsGrantRequest(
          as,
          service.client,
          service.auth,
          { scope: 'openid' },
          insecure,
        ),
      ),
      isOAuthError('invalid_scope'),
    )
  })

  it('introspection: own tokens, a resource server sees others’ access tokens, no one else does', async () => {
    const { refreshed, sub } = await happyPath(confidential)
    const at = refreshed.access_token
    const rt = refreshed.refresh_token
    assert.ok(rt)

    const own = await introspect(confidential, at, 'access_token')
    assert.equal(own.active, true)
    assert.equal(own.sub, sub)
    assert.equal(own.client_id, CONFIDENTIAL.id)
    assert.equal(own.iss, issuer.origin)
    assert.equal(own.token_type, 'Bearer')
    assert.deepEqual(own.scope?.split(' ').sort(), SCOPE.split(' ').sort())
    assert.ok(typeof own.exp === 'number' && own.exp > Date.now() / 1000)
    const ownRt = await introspect(confidential, rt, 'refresh_token')
    assert.equal(ownRt.active, true)
    assert.equal(ownRt.client_id, CONFIDENTIAL.id)

    const byApi = await introspect(api, at)
    assert.equal(byApi.active, true, 'a resource_server client may introspect any access token')
    assert.equal(byApi.sub, sub)
    assert.equal(byApi.client_id, CONFIDENTIAL.id)
    assert.equal((await introspect(api, rt)).active, false, 'but not a refresh token')
    assert.equal(
      (await introspect(service, at)).active,
      false,
      'an ordinary client learns nothing about another client’s token',
    )
    assert.equal((await introspect(confidential, 'not-a-token')).active, false)
  })

  it('revocation: an access token alone, then a refresh token with its grant', async () => {
    const { tokens, refreshed, sub } = await happyPath(confidential)
    const rt = refreshed.refresh_token
    assert.ok(rt)

    await revoke(confidential, refreshed.access_token)
    assert.equal((await introspect(confidential, refreshed.access_token)).active, false)
    await assert.rejects(
      oauth.processUserInfoResponse(
        as,
        confidential.client,
        sub,
        await oauth.userInfoRequest(as, confidential.client, refreshed.access_token, insecure),
      ),
      (err: unknown) => {
        assert.ok(err instanceof oauth.WWWAuthenticateChallengeError)
        assert.equal(err.status, 401)
        return true
      },
    )
    assert.equal((await introspect(confidential, rt)).active, true)

    await revoke(confidential, rt)
    assert.equal((await introspect(confidential, rt)).active, false)
    await assert.rejects(refresh(confidential, rt), isOAuthError('invalid_grant'))
    assert.equal((await introspect(confidential, tokens.access_token)).active, false)
    // Revoking again, or a token the OP never issued, is still a 200 (RFC 7009 §2.2).
    await revoke(confidential, rt)
    await revoke(confidential, 'not-a-token')
  })

  it('a wrong PKCE verifier is invalid_grant and spends nothing; the right one then works once', async () => {
    const { params, verifier, nonce } = await authorize(confidential)
    await assert.rejects(
      exchange(confidential, params, oauth.generateRandomCodeVerifier(), nonce),
      isOAuthError('invalid_grant'),
    )
    const tokens = await exchange(confidential, params, verifier, nonce)
    assert.ok(tokens.access_token)
    await assert.rejects(
      exchange(confidential, params, verifier, nonce),
      isOAuthError('invalid_grant'),
    )
  })

  it('a replayed code is invalid_grant and revokes what its first exchange issued', async () => {
    const { params, verifier, nonce } = await authorize(confidential)
    const tokens = await exchange(confidential, params, verifier, nonce)
    assert.equal((await introspect(confidential, tokens.access_token)).active, true)
    await assert.rejects(
      exchange(confidential, params, verifier, nonce),
      isOAuthError('invalid_grant'),
    )
    assert.equal((await introspect(confidential, tokens.access_token)).active, false)
    const rt = tokens.refresh_token
    assert.ok(rt)
    await assert.rejects(refresh(confidential, rt), isOAuthError('invalid_grant'))
  })

  it('oauth4webapi refuses a callback with a wrong state or a foreign iss', async () => {
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    assert.ok(as.authorization_endpoint)
    const url = new URL(as.authorization_endpoint)
    url.search = new URLSearchParams({
      client_id: CONFIDENTIAL.id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }).toString()
    const { callback } = await loginThroughForm(url, {
      username: ALICE.username,
      password: ALICE.password,
    })
    assert.throws(
      () => oauth.validateAuthResponse(as, confidential.client, callback, 'another-state'),
      (err: unknown) =>
        err instanceof oauth.OperationProcessingError && /"state"/.test(err.message),
    )
    const foreign = new URL(callback)
    foreign.searchParams.set('iss', 'https://attacker.example')
    assert.throws(
      () => oauth.validateAuthResponse(as, confidential.client, foreign, state),
      (err: unknown) => err instanceof oauth.OperationProcessingError && /"iss"/.test(err.message),
    )
  })

  it('a wrong client secret is a 401 invalid_client with a Basic challenge', async () => {
    const wrong: Rp = {
      client: confidential.client,
      auth: oauth.ClientSecretBasic('wrong-secret'),
    }
    await assert.rejects(refresh(wrong, 'whatever'), (err: unknown) => {
      assert.ok(err instanceof oauth.WWWAuthenticateChallengeError)
      assert.equal(err.status, 401)
      assert.equal(err.cause[0]?.scheme, 'basic')
      return true
    })
  })
})
