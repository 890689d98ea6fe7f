/**
 * The Discord provider against a local server that follows Discord's OAuth2 documentation
 * (authorize at `https://discord.com/oauth2/authorize`, token, refresh and revocation at
 * `https://discord.com/api/oauth2/token[/revoke]`, `GET /api/users/@me`): the flow's real HTTP
 * goes over loopback, with `https://discord.com` rewritten to the server.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { AuthkestraError } from '../../src/core/errors.ts'
import { Pkce } from '../../src/core/pkce.ts'
import { discord } from '../../src/providers/discord.ts'
import {
  AuthorizationCodes,
  bearerToken,
  followAuthorization,
  type LocalProviderServer,
  opaqueToken,
  parseBasicAuth,
  type RecordedRequest,
  type Reply,
  startLocalProviderServer,
} from './helpers/local-provider-server.ts'

const CLIENT_ID = '1234567890123456789'
// Characters that RFC 6749 §2.3.1 says must be form-encoded before Basic's base64.
const CLIENT_SECRET = 'dc-secret:with%special+chars/0123456789abcdef'
const REDIRECT_URI = 'https://app.example/auth/callback/discord'
const TOKEN_PATH = '/api/oauth2/token'
const REVOKE_PATH = '/api/oauth2/token/revoke'
const EXPIRES_IN = 604_800

interface DiscordUser {
  id: string
  username: string
  discriminator: string
  global_name: string | null
  avatar: string | null
  email?: string | null
  verified?: boolean
}

const NELLY: DiscordUser = {
  id: '80351110224678912',
  username: 'nelly',
  discriminator: '0',
  global_name: 'Nelly',
  avatar: '8342729096ea3675442027381ff50dfe',
  email: 'nelly@discord.com',
  verified: true,
}

interface Grant {
  accessToken: string
  refreshToken: string
  scopes: readonly string[]
  revoked: boolean
}

/**
 * Discord as documented: client authentication by HTTP Basic (or body), PKCE-bound single-use
 * codes, rotating refresh tokens, RFC 7009 revocation that ends the whole grant, and errors as
 * HTTP 400/401 with an OAuth `error` body.
 */
class DiscordSimulator {
  codes = new AuthorizationCodes()
  grants: Grant[] = []
  user: DiscordUser = NELLY
  denyAuthorization = false

  reset(): void {
    this.codes = new AuthorizationCodes()
    this.grants = []
    this.user = NELLY
    this.denyAuthorization = false
  }

  /** The live grant holding this access token, if any. */
  liveAccessToken(token: string): Grant | undefined {
    return this.grants.find((g) => g.accessToken === token && !g.revoked)
  }

  readonly handle = async (req: RecordedRequest): Promise<Reply> => {
    if (req.host !== 'discord.com') return { status: 404, json: { message: '404: Not Found' } }
    if (req.method === 'GET' && req.path === '/oauth2/authorize') return this.#authorize(req)
    if (req.method === 'POST' && req.path === TOKEN_PATH) return this.#token(req)
    if (req.method === 'POST' && req.path === REVOKE_PATH) return this.#revoke(req)
    if (req.method === 'GET' && req.path === '/api/users/@me') return this.#me(req)
    return { status: 404, json: { message: '404: Not Found', code: 0 } }
  }

  #authorize(req: RecordedRequest): Reply {
    const q = req.query
    if (q.get('client_id') !== CLIENT_ID || q.get('redirect_uri') !== REDIRECT_URI) {
      return { status: 400, json: { message: 'Invalid OAuth2 redirect_uri' } }
    }
    const back = new URL(REDIRECT_URI)
    const state = q.get('state')
    if (state !== null) back.searchParams.set('state', state)
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256') {
      back.searchParams.set('error', 'invalid_request')
    } else if (this.denyAuthorization) {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set(
        'error_description',
        'The resource owner or authorization server denied the request',
      )
    } else {
      const code = this.codes.issue({
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        scopes: (q.get('scope') ?? '').split(' ').filter(Boolean),
        codeChallenge: q.get('code_challenge') ?? undefined,
        codeChallengeMethod: 'S256',
      })
      back.searchParams.set('code', code)
    }
    return { status: 302, headers: { location: back.href } }
  }

  /** Basic (the default) or client_id/client_secret in the body, as Discord accepts both. */
  #authenticated(req: RecordedRequest): boolean {
    const basic = parseBasicAuth(req.headers.authorization)
    const clientId = basic?.clientId ?? req.form.get('client_id')
    const clientSecret = basic?.clientSecret ?? req.form.get('client_secret')
    return clientId === CLIENT_ID && clientSecret === CLIENT_SECRET
  }

  #issue(scopes: readonly string[]): Reply {
    const grant: Grant = {
      accessToken: opaqueToken(),
      refreshToken: opaqueToken(),
      scopes,
      revoked: false,
    }
    this.grants.push(grant)
    return {
      json: {
        token_type: 'Bearer',
        access_token: grant.accessToken,
        expires_in: EXPIRES_IN,
        refresh_token: grant.refreshToken,
        scope: scopes.join(' '),
      },
    }
  }

  async #token(req: RecordedRequest): Promise<Reply> {
    if (!this.#authenticated(req)) return { status: 401, json: { error: 'invalid_client' } }
    const form = req.form
    const invalidGrant = (what: string): Reply => ({
      status: 400,
      json: { error: 'invalid_grant', error_description: `Invalid "${what}" in request.` },
    })
    switch (form.get('grant_type')) {
      case 'authorization_code': {
        const result = await this.codes.redeem(form.get('code'), {
          clientId: CLIENT_ID,
          redirectUri: form.get('redirect_uri'),
          codeVerifier: form.get('code_verifier'),
        })
        if (!result.ok)
          return invalidGrant(result.reason === 'pkce_failed' ? 'code_verifier' : 'code')
        return this.#issue(result.grant.scopes)
      }
      case 'refresh_token': {
        const grant = this.grants.find(
          (g) => g.refreshToken === form.get('refresh_token') && !g.revoked,
        )
        if (!grant) return invalidGrant('refresh_token')
        grant.revoked = true // refresh tokens rotate: the old pair ends
        return this.#issue(grant.scopes)
      }
      default:
        return { status: 400, json: { error: 'unsupported_grant_type' } }
    }
  }

  #revoke(req: RecordedRequest): Reply {
    if (!this.#authenticated(req)) return { status: 401, json: { error: 'invalid_client' } }
    const token = req.form.get('token')
    if (!token) return { status: 400, json: { error: 'invalid_request' } }
    for (const g of this.grants) {
      if (g.accessToken === token || g.refreshToken === token) g.revoked = true
    }
    return { json: {} }
  }

  #me(req: RecordedRequest): Reply {
    const token = bearerToken(req.headers)
    const grant = token === undefined ? undefined : this.liveAccessToken(token)
    if (!grant) return { status: 401, json: { message: '401: Unauthorized', code: 0 } }
    if (!grant.scopes.includes('identify')) {
      return { status: 401, json: { message: '401: Unauthorized', code: 0 } }
    }
    const { email, verified, ...rest } = this.user
    return { json: grant.scopes.includes('email') ? { ...rest, email, verified } : rest }
  }
}

const isTokenRequest = (r: RecordedRequest) => r.method === 'POST' && r.path === TOKEN_PATH

function rejectsWith(code: string, extra: (err: AuthkestraError) => void = () => {}) {
  return (err: unknown) => {
    assert.ok(err instanceof AuthkestraError, `expected AuthkestraError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    extra(err)
    return true
  }
}

describe('discord() against a local Discord', () => {
  const sim = new DiscordSimulator()
  let server: LocalProviderServer
  let fetchDiscord: typeof fetch
  let flow: OAuth2Flow

  before(async () => {
    server = await startLocalProviderServer(sim.handle)
    fetchDiscord = server.fetch(['https://discord.com'])
    flow = new OAuth2Flow(
      discord({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }),
      { fetch: fetchDiscord },
    )
  })
  after(() => server.close())
  beforeEach(() => {
    sim.reset()
    server.requests.length = 0
  })

  async function login(f: OAuth2Flow = flow, scopes?: readonly string[]) {
    const start = await f.initiateLogin(scopes === undefined ? {} : { scopes })
    const callback = await followAuthorization(start.url, fetchDiscord)
    return { ...start, callback }
  }

  it('builds the authorization URL with PKCE S256, state and identify+email', async () => {
    const { url, flowState } = await flow.initiateLogin()
    assert.equal(`${url.origin}${url.pathname}`, 'https://discord.com/oauth2/authorize')
    const q = url.searchParams
    assert.equal(q.get('client_id'), CLIENT_ID)
    assert.equal(q.get('redirect_uri'), REDIRECT_URI)
    assert.equal(q.get('response_type'), 'code')
    assert.equal(q.get('scope'), 'identify email')
    assert.equal(q.get('state'), flowState.state)
    assert.equal(q.get('code_challenge_method'), 'S256')
    assert.ok(flowState.codeVerifier)
    assert.equal(q.get('code_challenge'), await Pkce.challenge(flowState.codeVerifier))
    assert.equal(server.requests.length, 0)
  })

  it('logs in: identity from /users/@me, client authenticated with HTTP Basic', async () => {
    const before = Date.now()
    const { callback, flowState } = await login()
    const { identity, tokens } = await flow.finalizeLogin(callback, flowState)

    assert.equal(identity.provider, 'discord')
    assert.equal(identity.subject, '80351110224678912')
    assert.equal(identity.username, 'nelly')
    assert.equal(identity.name, 'Nelly')
    assert.equal(
      identity.picture,
      'https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png',
    )
    assert.equal(identity.email, 'nelly@discord.com')
    assert.equal(identity.emailVerified, true)

    assert.equal(tokens.tokenType, 'Bearer')
    assert.ok(tokens.refreshToken)
    assert.deepEqual(tokens.scope, ['identify', 'email'])
    assert.ok(tokens.expiresAt !== undefined)
    assert.ok(tokens.expiresAt >= before + EXPIRES_IN * 1000)
    assert.ok(tokens.expiresAt <= Date.now() + EXPIRES_IN * 1000)

    const tokenRequests = server.requests.filter(isTokenRequest)
    assert.equal(tokenRequests.length, 1)
    const tokenRequest = tokenRequests[0]!
    assert.deepEqual(parseBasicAuth(tokenRequest.headers.authorization), {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    })
    assert.equal(tokenRequest.form.get('client_secret'), null, 'the secret is not in the body')
    assert.equal(tokenRequest.form.get('grant_type'), 'authorization_code')
    assert.equal(tokenRequest.form.get('code'), callback.searchParams.get('code'))
    assert.equal(tokenRequest.form.get('redirect_uri'), REDIRECT_URI)
    assert.equal(tokenRequest.form.get('code_verifier'), flowState.codeVerifier)

    const me = server.requests.filter((r) => r.path === '/api/users/@me')
    assert.equal(me.length, 1)
    assert.equal(me[0]!.headers.authorization, `Bearer ${tokens.accessToken}`)
  })

  it('falls back to username for the name, no picture without an avatar, unverified email', async () => {
    sim.user = { ...NELLY, global_name: null, avatar: null, verified: false }
    const { callback, flowState } = await login()
    const { identity } = await flow.finalizeLogin(callback, flowState)
    assert.equal(identity.name, 'nelly')
    assert.equal(identity.picture, null)
    assert.equal(identity.email, 'nelly@discord.com')
    assert.equal(identity.emailVerified, false)
  })

  it('has no email with the identify scope alone', async () => {
    const { callback, flowState } = await login(flow, ['identify'])
    const { identity, tokens } = await flow.finalizeLogin(callback, flowState)
    assert.deepEqual(tokens.scope, ['identify'])
    assert.equal(identity.subject, NELLY.id)
    assert.equal(identity.email, null)
    assert.equal(identity.emailVerified, false)
  })

  it('refreshes with the refresh_token grant; the old refresh token is then spent', async () => {
    const { callback, flowState } = await login()
    const { tokens } = await flow.finalizeLogin(callback, flowState)
    const refreshToken = tokens.refreshToken!
    const renewed = await flow.refresh(refreshToken)
    assert.notEqual(renewed.accessToken, tokens.accessToken)
    assert.ok(renewed.refreshToken)
    assert.notEqual(renewed.refreshToken, refreshToken)
    assert.deepEqual(renewed.scope, ['identify', 'email'])
    assert.ok(sim.liveAccessToken(renewed.accessToken))

    const refreshRequest = server.requests.filter(isTokenRequest)[1]!
    assert.equal(refreshRequest.form.get('grant_type'), 'refresh_token')
    assert.equal(refreshRequest.form.get('refresh_token'), refreshToken)
    assert.equal(parseBasicAuth(refreshRequest.headers.authorization)?.clientId, CLIENT_ID)

    await assert.rejects(
      flow.refresh(refreshToken),
      rejectsWith('token_error', (err) => {
        assert.equal(err.oauthError, 'invalid_grant')
        assert.equal(err.status, 400)
      }),
    )
  })

  it('revokes a token at /api/oauth2/token/revoke with client auth', async () => {
    const { callback, flowState } = await login()
    const { tokens } = await flow.finalizeLogin(callback, flowState)
    await flow.revoke(tokens.accessToken, { tokenTypeHint: 'access_token' })

    const revokes = server.requests.filter((r) => r.path === REVOKE_PATH)
    assert.equal(revokes.length, 1)
    const revoke = revokes[0]!
    assert.equal(revoke.method, 'POST')
    assert.equal(revoke.host, 'discord.com')
    assert.equal(revoke.form.get('token'), tokens.accessToken)
    assert.equal(revoke.form.get('token_type_hint'), 'access_token')
    assert.deepEqual(parseBasicAuth(revoke.headers.authorization), {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    })
    assert.equal(sim.liveAccessToken(tokens.accessToken), undefined, 'the server revoked it')
    await assert.rejects(
      flow.refresh(tokens.refreshToken!),
      rejectsWith('token_error', (err) => assert.equal(err.oauthError, 'invalid_grant')),
    )
  })

  it('rejects a wrong PKCE verifier with token_error invalid_grant', async () => {
    const { callback, flowState } = await login()
    const other = await Pkce.generate()
    await assert.rejects(
      flow.finalizeLogin(callback, { ...flowState, codeVerifier: other.codeVerifier }),
      rejectsWith('token_error', (err) => {
        assert.equal(err.oauthError, 'invalid_grant')
        assert.equal(err.status, 400)
      }),
    )
    assert.equal(server.count(isTokenRequest), 1)
    assert.equal(
      server.count((r) => r.path === '/api/users/@me'),
      0,
    )
  })

  it('rejects a replayed code with token_error invalid_grant', async () => {
    const { callback, flowState } = await login()
    await flow.finalizeLogin(callback, flowState)
    await assert.rejects(
      flow.finalizeLogin(callback, flowState),
      rejectsWith('token_error', (err) => assert.equal(err.oauthError, 'invalid_grant')),
    )
  })

  it('rejects a wrong client secret with token_error invalid_client (401)', async () => {
    const wrong = new OAuth2Flow(
      discord({ clientId: CLIENT_ID, clientSecret: 'wrong-secret', redirectUri: REDIRECT_URI }),
      { fetch: fetchDiscord },
    )
    const { callback, flowState } = await login(wrong)
    await assert.rejects(
      wrong.finalizeLogin(callback, flowState),
      rejectsWith('token_error', (err) => {
        assert.equal(err.oauthError, 'invalid_client')
        assert.equal(err.status, 401)
      }),
    )
  })

  it('sends the credentials in the body with clientAuthMethod client_secret_post', async () => {
    const post = new OAuth2Flow(
      discord({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: REDIRECT_URI,
        clientAuthMethod: 'client_secret_post',
      }),
      { fetch: fetchDiscord },
    )
    const { callback, flowState } = await login(post)
    const { identity } = await post.finalizeLogin(callback, flowState)
    assert.equal(identity.subject, NELLY.id)
    const tokenRequest = server.requests.filter(isTokenRequest)[0]!
    assert.equal(tokenRequest.headers.authorization, undefined)
    assert.equal(tokenRequest.form.get('client_id'), CLIENT_ID)
    assert.equal(tokenRequest.form.get('client_secret'), CLIENT_SECRET)
  })

  it('rejects a callback with another login’s state before any token request', async () => {
    const first = await login()
    const second = await login()
    await assert.rejects(
      flow.finalizeLogin(second.callback, first.flowState),
      rejectsWith('state_mismatch'),
    )
    const forged = new URL(first.callback)
    forged.searchParams.delete('state')
    await assert.rejects(
      flow.finalizeLogin(forged, first.flowState),
      rejectsWith('callback_invalid'),
    )
    assert.equal(server.count(isTokenRequest), 0)
  })

  it('reports a denied authorization as authorization_error, no token request', async () => {
    sim.denyAuthorization = true
    const { callback, flowState } = await login()
    await assert.rejects(
      flow.finalizeLogin(callback, flowState),
      rejectsWith('authorization_error', (err) => assert.equal(err.oauthError, 'access_denied')),
    )
    assert.equal(server.count(isTokenRequest), 0)
  })
})
