// Interop: the certified relying-party library `openid-client` v6 (panva) as a real client of our
// dev IdP, started in-process on loopback and driven over HTTP through its login and consent
// forms (no auto-login). openid-client does every check of its own: discovery and issuer match,
// `state`, `iss` (RFC 9207), PKCE, the ID token (signature through our JWKS, `iss`, `aud`, `exp`,
// `nonce`, `azp`), the userinfo subject, and the token endpoint's error bodies.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import * as client from 'openid-client'
import { serve } from '../../src/dev-idp/serve.ts'
import { createOp } from '../../src/op/create-op.ts'
import { CookieJar } from '../helpers/cookie-jar.ts'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const SIGNED_OUT = 'https://rp.example/signed-out'
const SCOPE = 'openid profile email offline_access'
const ALICE = {
  username: 'alice',
  password: 'wonderland',
  claims: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: true },
}

const CONFIDENTIAL = { id: 'rp-basic', secret: 'rp-basic-secret-0123456789abcdefghijkl' }
const POST_CLIENT = { id: 'rp-post', secret: 'rp-post-secret-0123456789abcdefghijklm' }
const PUBLIC_CLIENT = { id: 'rp-public' }
const SERVICE = { id: 'svc', secret: 'svc-secret-0123456789abcdefghijklmnopq' }

const DEV_IDP_FILE = {
  clients: [
    {
      client_id: CONFIDENTIAL.id,
      client_secret: CONFIDENTIAL.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [REDIRECT_URI],
      post_logout_redirect_uris: [SIGNED_OUT],
      client_name: 'Basic RP',
    },
    {
      client_id: POST_CLIENT.id,
      client_secret: POST_CLIENT.secret,
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [REDIRECT_URI],
      skip_consent: true,
    },
    {
      client_id: PUBLIC_CLIENT.id,
      token_endpoint_auth_method: 'none',
      redirect_uris: [REDIRECT_URI],
    },
    {
      client_id: SERVICE.id,
      client_secret: SERVICE.secret,
      redirect_uris: [],
      grant_types: ['client_credentials'],
    },
  ],
  users: [ALICE, { username: 'bob', password: 'builder' }],
}

/** An openid-client check failed (its code), saying why (the cause's message). */
const isClientError =
  (code: string, why: RegExp) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof client.ClientError, `expected a ClientError, got ${err}`)
    assert.equal(err.code, code)
    assert.match(String((err.cause as Error | undefined)?.message), why)
    return true
  }

/**
 * openid-client may talk plain http to the loopback issuer. Non-repudiation checks make it verify
 * every ID token's signature with a key from our `jwks_uri` (by default it skips the signature of
 * an ID token received straight from the token endpoint, as OIDC Core §3.1.3.7 allows).
 */
const insecure = {
  execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
}

/** Every URL openid-client requested, in order (for the JWKS assertion). */
const requested: string[] = []
const recordingFetch: client.CustomFetch = (url, options) => {
  requested.push(url)
  return fetch(url, options as RequestInit)
}

const isOAuthError =
  (error: string) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof client.ResponseBodyError, `expected a ResponseBodyError, got ${err}`)
    assert.equal(err.error, error)
    assert.equal(err.status, 400)
    return true
  }

let running: InteropIdp
let issuer: URL

before(async () => {
  running = await startInteropIdp(DEV_IDP_FILE, 'authkestra-interop-')
  issuer = running.issuer
})

after(async () => {
  await running?.close()
})

const discover = (
  clientId: string,
  auth: client.ClientAuth,
  customFetch: client.CustomFetch = recordingFetch,
) =>
  client.discovery(issuer, clientId, {}, auth, { ...insecure, [client.customFetch]: customFetch })

const confidential = () => discover(CONFIDENTIAL.id, client.ClientSecretBasic(CONFIDENTIAL.secret))

/** One authorization request with PKCE S256, state and nonce, through the login form. */
async function authorize(
  config: client.Configuration,
  options: {
    consent?: 'allow' | 'deny'
    username?: string
    password?: string
    extra?: Record<string, string>
  } = {},
) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...options.extra,
  })
  const { callback, consentShown } = await loginThroughForm(url, {
    username: options.username ?? ALICE.username,
    password: options.password ?? ALICE.password,
    consent: options.consent ?? 'allow',
  })
  const checks = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }
  return { callback, consentShown, checks, state, nonce }
}

/**
 * The whole happy path for one client: login form, code exchange with every check
 * openid-client makes, ID token claims, userinfo, and one refresh with rotation.
 */
async function happyPath(config: client.Configuration, clientId: string, skipConsent = false) {
  const startedAt = Math.floor(Date.now() / 1000)
  const { callback, consentShown, checks, state } = await authorize(config)
  if (skipConsent) assert.equal(consentShown, false, 'a skip_consent client gets no consent page')
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI)
  assert.equal(callback.searchParams.get('state'), state)
  assert.equal(callback.searchParams.get('iss'), issuer.origin)
  assert.ok(callback.searchParams.get('code'))

  const before = requested.length
  const tokens = await client.authorizationCodeGrant(config, callback, checks)
  assert.ok(
    requested.slice(before).includes(`${issuer.origin}/jwks`),
    'openid-client fetched our JWKS to verify the ID token signature',
  )
  assert.equal(tokens.token_type.toLowerCase(), 'bearer')
  assert.ok(tokens.access_token)
  assert.ok(tokens.id_token)
  assert.ok(tokens.refresh_token)
  assert.deepEqual(tokens.scope?.split(' ').sort(), SCOPE.split(' ').sort())
  const expiresIn = tokens.expiresIn()
  assert.ok(expiresIn !== undefined && expiresIn > 0 && expiresIn <= 600)

  const claims = tokens.claims()
  assert.ok(claims)
  assert.equal(claims.iss, issuer.origin)
  assert.equal(claims.aud, clientId)
  assert.equal(claims.azp, clientId)
  assert.equal(claims.nonce, checks.expectedNonce)
  assert.equal(typeof claims.sub, 'string')
  assert.ok(claims.sub.length > 0)
  assert.equal(typeof claims.auth_time, 'number')
  const authTime = claims.auth_time as number
  assert.ok(authTime >= startedAt - 1 && authTime <= Math.floor(Date.now() / 1000) + 1)
  assert.equal(claims.email, ALICE.claims.email)
  assert.equal(claims.name, ALICE.claims.name)

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  assert.equal(userinfo.sub, claims.sub)
  assert.equal(userinfo.name, ALICE.claims.name)
  assert.equal(userinfo.email, ALICE.claims.email)
  assert.equal(userinfo.email_verified, true)
  await assert.rejects(
    client.fetchUserInfo(config, tokens.access_token, 'someone-else'),
    isClientError('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', /"sub"/),
    'openid-client checks the userinfo subject',
  )

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  assert.ok(refreshed.access_token)
  assert.notEqual(refreshed.access_token, tokens.access_token)
  assert.ok(refreshed.refresh_token)
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token)
  const refreshedClaims = refreshed.claims()
  assert.ok(refreshedClaims, 'the refresh response carries an ID token (openid scope)')
  assert.equal(refreshedClaims.sub, claims.sub)
  assert.equal(refreshedClaims.auth_time, claims.auth_time)
  assert.equal(refreshedClaims.nonce, undefined)
  return { tokens, refreshed, sub: claims.sub }
}

describe('openid-client v6 against the dev IdP (login form)', () => {
  it('discovers the OP metadata', async () => {
    const config = await confidential()
    const metadata = config.serverMetadata()
    assert.equal(metadata.issuer, issuer.origin)
    assert.equal(metadata.authorization_endpoint, `${issuer.origin}/authorize`)
    assert.equal(metadata.token_endpoint, `${issuer.origin}/token`)
    assert.equal(metadata.jwks_uri, `${issuer.origin}/jwks`)
    assert.equal(metadata.userinfo_endpoint, `${issuer.origin}/userinfo`)
    assert.equal(metadata.revocation_endpoint, `${issuer.origin}/revoke`)
    assert.equal(metadata.introspection_endpoint, `${issuer.origin}/introspect`)
    assert.ok(metadata.supportsPKCE('S256'))
    assert.equal(metadata.supportsPKCE('plain'), false)
    assert.equal(metadata.authorization_response_iss_parameter_supported, true)
    assert.equal(config.clientMetadata().client_id, CONFIDENTIAL.id)
  })

  it('client_secret_basic: code + PKCE S256 + state + nonce, ID token, userinfo, refresh', async () => {
    const config = await confidential()
    await happyPath(config, CONFIDENTIAL.id)
  })

  it('client_secret_post (skip_consent): the same happy path', async () => {
    const config = await discover(POST_CLIENT.id, client.ClientSecretPost(POST_CLIENT.secret))
    await happyPath(config, POST_CLIENT.id, true)
  })

  it('public client (none): the same happy path, and it revokes its own refresh token', async () => {
    const config = await discover(PUBLIC_CLIENT.id, client.None())
    const { refreshed } = await happyPath(config, PUBLIC_CLIENT.id)
    const rt = refreshed.refresh_token
    assert.ok(rt)
    await client.tokenRevocation(config, rt, { token_type_hint: 'refresh_token' })
    await assert.rejects(client.refreshTokenGrant(config, rt), isOAuthError('invalid_grant'))
    // A resource server (a confidential client) sees the grant's access token die with it.
    const rs = await confidential()
    assert.equal((await client.tokenIntrospection(rs, refreshed.access_token)).active, false)
  })

  it('refresh rotation: reusing a rotated token fails and revokes the whole family', async () => {
    const config = await confidential()
    const { tokens, refreshed } = await happyPath(config, CONFIDENTIAL.id)
    const oldRt = tokens.refresh_token
    const newRt = refreshed.refresh_token
    assert.ok(oldRt && newRt)
    assert.equal((await client.tokenIntrospection(config, newRt)).active, true)
    assert.equal((await client.tokenIntrospection(config, oldRt)).active, false, 'rotated')

    await assert.rejects(client.refreshTokenGrant(config, oldRt), isOAuthError('invalid_grant'))
    await assert.rejects(
      client.refreshTokenGrant(config, newRt),
      isOAuthError('invalid_grant'),
      'the reuse revoked the successor too',
    )
    assert.equal((await client.tokenIntrospection(config, newRt)).active, false)
    assert.equal(
      (await client.tokenIntrospection(config, refreshed.access_token)).active,
      false,
      "the family's access tokens are revoked too",
    )
  })

  it('introspection and revocation: active, then inactive once revoked', async () => {
    const config = await confidential()
    const { tokens, refreshed, sub } = await happyPath(config, CONFIDENTIAL.id)

    const at = await client.tokenIntrospection(config, refreshed.access_token)
    assert.equal(at.active, true)
    assert.equal(at.sub, sub)
    assert.equal(at.client_id, CONFIDENTIAL.id)
    assert.equal(at.iss, issuer.origin)
    assert.equal(at.token_type, 'Bearer')
    assert.deepEqual(at.scope?.split(' ').sort(), SCOPE.split(' ').sort())
    assert.ok(typeof at.exp === 'number' && at.exp > Date.now() / 1000)
    const rt = refreshed.refresh_token
    assert.ok(rt)
    const rtInfo = await client.tokenIntrospection(config, rt, { token_type_hint: 'refresh_token' })
    assert.equal(rtInfo.active, true)
    assert.equal(rtInfo.sub, sub)
    assert.equal(rtInfo.client_id, CONFIDENTIAL.id)

    // An access token is revoked alone.
    await client.tokenRevocation(config, refreshed.access_token, {
      token_type_hint: 'access_token',
    })
    assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false)
    await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, sub))
    assert.equal((await client.tokenIntrospection(config, rt)).active, true)

    // A refresh token takes its whole grant with it.
    await client.tokenRevocation(config, rt)
    assert.equal((await client.tokenIntrospection(config, rt)).active, false)
    await assert.rejects(client.refreshTokenGrant(config, rt), isOAuthError('invalid_grant'))
    assert.equal(
      (await client.tokenIntrospection(config, tokens.access_token)).active,
      false,
      'the first access token of the grant is revoked with it',
    )
    // Revoking again, or a token the OP never issued, is still a 200 (RFC 7009 §2.2).
    await client.tokenRevocation(config, rt)
    await client.tokenRevocation(config, 'not-a-token')
    assert.equal((await client.tokenIntrospection(config, 'not-a-token')).active, false)
  })

  it('openid-client rejects an ID token whose signature does not verify with our JWKS', async () => {
    // A network attacker's edit of the token response: one byte of the signature changed.
    const tampering: client.CustomFetch = async (url, options) => {
      const response = await fetch(url, options as RequestInit)
      if (url !== `${issuer.origin}/token`) return response
      const body = (await response.json()) as Record<string, unknown>
      const [header, payload, signature = ''] = String(body.id_token).split('.')
      const flipped = signature.startsWith('A')
        ? `B${signature.slice(1)}`
        : `A${signature.slice(1)}`
      body.id_token = `${header}.${payload}.${flipped}`
      return new Response(JSON.stringify(body), {
        status: response.status,
        headers: response.headers,
      })
    }
    const config = await discover(
      CONFIDENTIAL.id,
      client.ClientSecretBasic(CONFIDENTIAL.secret),
      tampering,
    )
    const { callback, checks } = await authorize(config)
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, checks),
      isClientError('OAUTH_INVALID_RESPONSE', /^JWT signature verification failed$/),
    )
  })

  it('a wrong PKCE verifier is invalid_grant', async () => {
    const config = await confidential()
    const { callback, checks } = await authorize(config)
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, {
        ...checks,
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
      }),
      isOAuthError('invalid_grant'),
    )
    // A failed proof spends nothing (someone holding a stolen code cannot burn it): the client
    // with the right verifier still gets its tokens, once.
    const tokens = await client.authorizationCodeGrant(config, callback, checks)
    assert.ok(tokens.access_token)
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, checks),
      isOAuthError('invalid_grant'),
    )
  })

  it('a replayed code is invalid_grant and revokes what its first exchange issued', async () => {
    const config = await confidential()
    const { callback, checks } = await authorize(config)
    const tokens = await client.authorizationCodeGrant(config, callback, checks)
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true)
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, checks),
      isOAuthError('invalid_grant'),
    )
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false)
    const rt = tokens.refresh_token
    assert.ok(rt)
    await assert.rejects(client.refreshTokenGrant(config, rt), isOAuthError('invalid_grant'))
  })

  it('openid-client refuses a callback whose state or nonce does not match', async () => {
    const config = await confidential()
    const first = await authorize(config)
    await assert.rejects(
      client.authorizationCodeGrant(config, first.callback, {
        ...first.checks,
        expectedState: client.randomState(),
      }),
      isClientError('OAUTH_INVALID_RESPONSE', /"state"/),
    )
    const second = await authorize(config)
    await assert.rejects(
      client.authorizationCodeGrant(config, second.callback, {
        ...second.checks,
        expectedNonce: client.randomNonce(),
      }),
      isClientError('OAUTH_JWT_CLAIM_COMPARISON_FAILED', /"nonce"/),
    )
  })

  it('consent is asked once per user and client; a denied consent is access_denied', async () => {
    const config = await confidential()
    const bob = { username: 'bob', password: 'builder' }
    const first = await authorize(config, bob)
    assert.equal(first.consentShown, true, 'first authorization of bob for this client')
    assert.ok(await client.authorizationCodeGrant(config, first.callback, first.checks))
    const second = await authorize(config, bob)
    assert.equal(second.consentShown, false, 'the consent is remembered')
    assert.ok(await client.authorizationCodeGrant(config, second.callback, second.checks))

    const { callback, checks, consentShown, state } = await authorize(config, {
      ...bob,
      consent: 'deny',
      extra: { prompt: 'consent' },
    })
    assert.equal(consentShown, true, 'prompt=consent asks again')
    assert.equal(callback.searchParams.get('error'), 'access_denied')
    assert.equal(callback.searchParams.get('state'), state)
    assert.equal(callback.searchParams.get('iss'), issuer.origin)
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, checks),
      (err: unknown) => {
        assert.ok(err instanceof client.AuthorizationResponseError)
        assert.equal(err.error, 'access_denied')
        return true
      },
    )
  })

  it('client_credentials (no scope): an access token for the client itself', async () => {
    const config = await discover(SERVICE.id, client.ClientSecretBasic(SERVICE.secret))
    const tokens = await client.clientCredentialsGrant(config)
    assert.ok(tokens.access_token)
    assert.equal(tokens.refresh_token, undefined)
    assert.equal(tokens.id_token, undefined)
    const info = await client.tokenIntrospection(config, tokens.access_token)
    assert.equal(info.active, true)
    assert.equal(info.sub, SERVICE.id)
    assert.equal(info.client_id, SERVICE.id)
    await client.tokenRevocation(config, tokens.access_token)
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false)
    // A user scope is refused: no user is involved.
    await assert.rejects(
      client.clientCredentialsGrant(config, { scope: 'openid' }),
      isOAuthError('invalid_scope'),
    )
  })

  it('a wrong client secret is invalid_client', async () => {
    const config = await discover(CONFIDENTIAL.id, client.ClientSecretBasic('wrong-secret'))
    // RFC 6749 §5.2: a 401 with a Basic challenge, which openid-client surfaces as such.
    await assert.rejects(client.refreshTokenGrant(config, 'whatever'), (err: unknown) => {
      assert.ok(err instanceof client.WWWAuthenticateChallengeError)
      assert.equal(err.status, 401)
      assert.equal(err.cause[0]?.scheme, 'basic')
      return true
    })
  })
})

describe('openid-client v6: client_credentials with API scopes (createOp served over node:http)', () => {
  let server: Server
  let apiIssuer: URL
  const opErrors: string[] = []

  before(async () => {
    let handler: (request: Request) => Promise<Response> = async () =>
      new Response(null, { status: 503 })
    server = await serve((request) => handler(request), { host: '127.0.0.1', port: 0 })
    const { port } = server.address() as AddressInfo
    apiIssuer = new URL(`http://127.0.0.1:${port}`)
    const op = await createOp({
      issuer: apiIssuer.origin,
      scopes: ['api:read', 'api:write'],
      clients: [
        {
          client_id: SERVICE.id,
          client_secret: SERVICE.secret,
          redirect_uris: [],
          grant_types: ['client_credentials'],
          scope: 'api:read api:write',
        },
        {
          client_id: 'svc-post',
          client_secret: POST_CLIENT.secret,
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [],
          grant_types: ['client_credentials'],
          scope: 'api:read',
        },
      ],
      logger: { warn: () => {}, error: (m) => opErrors.push(m) },
    })
    handler = op.handler
  })

  after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    assert.deepEqual(opErrors, [])
  })

  it('issues, introspects and revokes scoped client_credentials tokens', async () => {
    const config = await client.discovery(
      apiIssuer,
      SERVICE.id,
      {},
      client.ClientSecretBasic(SERVICE.secret),
      insecure,
    )
    assert.deepEqual(config.serverMetadata().scopes_supported?.slice(-2), ['api:read', 'api:write'])
    const all = await client.clientCredentialsGrant(config)
    assert.deepEqual(all.scope?.split(' ').sort(), ['api:read', 'api:write'])
    const narrow = await client.clientCredentialsGrant(config, { scope: 'api:read' })
    assert.equal(narrow.scope, 'api:read')
    assert.equal(narrow.token_type.toLowerCase(), 'bearer')
    assert.ok((narrow.expiresIn() ?? 0) > 0)

    const info = await client.tokenIntrospection(config, narrow.access_token)
    assert.equal(info.active, true)
    assert.equal(info.scope, 'api:read')
    assert.equal(info.sub, SERVICE.id)
    assert.equal(info.client_id, SERVICE.id)
    assert.equal(info.iss, apiIssuer.origin)

    await client.tokenRevocation(config, narrow.access_token, { token_type_hint: 'access_token' })
    assert.equal((await client.tokenIntrospection(config, narrow.access_token)).active, false)
    assert.equal((await client.tokenIntrospection(config, all.access_token)).active, true)

    await assert.rejects(
      client.clientCredentialsGrant(config, { scope: 'api:admin' }),
      isOAuthError('invalid_scope'),
    )
  })

  it('works with client_secret_post too, limited to its registered scope', async () => {
    const config = await client.discovery(
      apiIssuer,
      'svc-post',
      {},
      client.ClientSecretPost(POST_CLIENT.secret),
      insecure,
    )
    const tokens = await client.clientCredentialsGrant(config, { scope: 'api:read' })
    assert.equal(tokens.scope, 'api:read')
    await assert.rejects(
      client.clientCredentialsGrant(config, { scope: 'api:write' }),
      isOAuthError('invalid_scope'),
    )
  })
})

describe('openid-client: RP-initiated logout (RP-Initiated Logout 1.0)', () => {
  it('builds the end-session URL from our discovery; the logout ends the OP session and returns with state', async () => {
    const config = await confidential()
    assert.equal(config.serverMetadata().end_session_endpoint, `${issuer.origin}/logout`)
    const jar = new CookieJar()
    const signIn = async (prompt?: string) => {
      const verifier = client.randomPKCECodeVerifier()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ...(prompt ? { prompt } : {}),
      })
      return { url, verifier }
    }
    const first = await signIn()
    const { callback } = await loginThroughForm(first.url, { ...ALICE, jar })
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: first.verifier,
    })
    const sid = tokens.claims()?.sid
    assert.equal(typeof sid, 'string', 'the ID token carries the OP session id')

    const silentIn = async () => {
      const silent = await signIn('none')
      const answer = await fetch(silent.url, {
        headers: { cookie: jar.header() ?? '' },
        redirect: 'manual',
      })
      return new URL(answer.headers.get('location') ?? '').searchParams
    }
    assert.ok((await silentIn()).has('code'), 'signed in at the OP before the logout')

    const state = client.randomState()
    const end = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: SIGNED_OUT,
      state,
    })
    const headers = new Headers({ cookie: jar.header() ?? '' })
    const response = await fetch(end, { headers, redirect: 'manual' })
    jar.store(response)
    assert.equal(response.status, 303)
    const back = new URL(response.headers.get('location') ?? '')
    assert.equal(`${back.origin}${back.pathname}`, SIGNED_OUT)
    assert.equal(back.searchParams.get('state'), state)

    // The OP session is gone: a silent authorization in the same browser needs a login.
    assert.equal((await silentIn()).get('error'), 'login_required')
  })
})
