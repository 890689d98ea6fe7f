/**
 * The Discord provider against a local server that follows Discord's OAuth2 documentation
 * (authorize at `https://discord.com/oauth2/authorize`, token, refresh and revocation at
 * `https://discord.com/api/oauth2/token[/revoke]`, `GET /api/users/@me`): the flow's real HTTP
 * goes over loopback, with `https://discord.com` rewritten to the server.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Pkce } from '../../src/core/pkce.ts'
import { discord } from '../../src/providers/discord.ts'
import { code } from '../helpers/assert-code.ts'
import {
  bearerToken,
  opaqueToken,
  parseBasicAuth,
  type RecordedRequest,
  type Reply,
} from './helpers/local-provider-server.ts'
import {
  assertAuthorizationUrl,
  assertCodeRedemption,
  ProviderSimulator,
  useLocalProvider,
} from './helpers/simulator-harness.ts'

const CLIENT_ID = '1234567890123456789'
// Characters that RFC 6749 §2.3.1 says must be form-encoded before Basic's base64.
const CLIENT_SECRET = 'dc-secret:with%special+chars/0123456789abcdef'
const REDIRECT_URI = 'https://app.example/auth/callback/discord'
const REGISTRATION = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }
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
class DiscordSimulator extends ProviderSimulator {
  grants: Grant[] = []
  user: DiscordUser = NELLY

  override reset(): void {
    super.reset()
    this.grants = []
    this.user = NELLY
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
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256') {
      return this.redirectBack(req, { error: 'invalid_request' })
    }
    return this.approve(req, 'The resource owner or authorization server denied the request', ' ')
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
        const result = await this.redeem(form)
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

const isMe = (r: RecordedRequest) => r.path === '/api/users/@me'

describe('discord() against a local Discord', () => {
  const sim = new DiscordSimulator(REGISTRATION)
  const local = useLocalProvider(sim, {
    origins: ['https://discord.com'],
    config: () => discord(REGISTRATION),
  })

  it('builds the authorization URL with PKCE S256, state and identify+email', async () => {
    const start = await local.flow.initiateLogin()
    await assertAuthorizationUrl(start, {
      endpoint: 'https://discord.com/oauth2/authorize',
      ...REGISTRATION,
      scope: 'identify email',
    })
    assert.equal(local.server.requests.length, 0)
  })

  it('logs in: identity from /users/@me, client authenticated with HTTP Basic', async () => {
    const before = Date.now()
    const login = await local.completeLogin()
    const { identity, tokens } = login

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

    const tokenRequests = local.server.requests.filter(isTokenRequest)
    assert.equal(tokenRequests.length, 1)
    const tokenRequest = tokenRequests[0]!
    assert.deepEqual(parseBasicAuth(tokenRequest.headers.authorization), {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    })
    assert.equal(tokenRequest.form.get('client_secret'), null, 'the secret is not in the body')
    assert.equal(tokenRequest.form.get('grant_type'), 'authorization_code')
    assertCodeRedemption(tokenRequest, login, REDIRECT_URI)

    const me = local.server.requests.filter(isMe)
    assert.equal(me.length, 1)
    assert.equal(me[0]!.headers.authorization, `Bearer ${tokens.accessToken}`)
  })

  it('falls back to username for the name, no picture without an avatar, unverified email', async () => {
    sim.user = { ...NELLY, global_name: null, avatar: null, verified: false }
    const { identity } = await local.completeLogin()
    assert.equal(identity.name, 'nelly')
    assert.equal(identity.picture, null)
    assert.equal(identity.email, 'nelly@discord.com')
    assert.equal(identity.emailVerified, false)
  })

  it('has no email with the identify scope alone', async () => {
    const { identity, tokens } = await local.completeLogin(local.flow, ['identify'])
    assert.deepEqual(tokens.scope, ['identify'])
    assert.equal(identity.subject, NELLY.id)
    assert.equal(identity.email, null)
    assert.equal(identity.emailVerified, false)
  })

  it('refreshes with the refresh_token grant; the old refresh token is then spent', async () => {
    const { tokens } = await local.completeLogin()
    const refreshToken = tokens.refreshToken!
    const renewed = await local.flow.refresh(refreshToken)
    assert.notEqual(renewed.accessToken, tokens.accessToken)
    assert.ok(renewed.refreshToken)
    assert.notEqual(renewed.refreshToken, refreshToken)
    assert.deepEqual(renewed.scope, ['identify', 'email'])
    assert.ok(sim.liveAccessToken(renewed.accessToken))

    const refreshRequest = local.server.requests.filter(isTokenRequest)[1]!
    assert.equal(refreshRequest.form.get('grant_type'), 'refresh_token')
    assert.equal(refreshRequest.form.get('refresh_token'), refreshToken)
    assert.equal(parseBasicAuth(refreshRequest.headers.authorization)?.clientId, CLIENT_ID)

    await assert.rejects(
      local.flow.refresh(refreshToken),
      code('token_error', 'invalid_grant', (err) => assert.equal(err.status, 400)),
    )
  })

  it('revokes a token at /api/oauth2/token/revoke with client auth', async () => {
    const { tokens } = await local.completeLogin()
    await local.flow.revoke(tokens.accessToken, { tokenTypeHint: 'access_token' })

    const revokes = local.server.requests.filter((r) => r.path === REVOKE_PATH)
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
      local.flow.refresh(tokens.refreshToken!),
      code('token_error', 'invalid_grant'),
    )
  })

  it('rejects a wrong PKCE verifier with token_error invalid_grant', async () => {
    const { callback, flowState } = await local.login()
    const other = await Pkce.generate()
    await assert.rejects(
      local.flow.finalizeLogin(callback, { ...flowState, codeVerifier: other.codeVerifier }),
      code('token_error', 'invalid_grant', (err) => assert.equal(err.status, 400)),
    )
    assert.equal(local.server.count(isTokenRequest), 1)
    assert.equal(local.server.count(isMe), 0)
  })

  it('rejects a replayed code with token_error invalid_grant', async () => {
    const login = await local.completeLogin()
    await assert.rejects(login.finalize(), code('token_error', 'invalid_grant'))
  })

  it('rejects a wrong client secret with token_error invalid_client (401)', async () => {
    const wrong = local.flowFor(discord({ ...REGISTRATION, clientSecret: 'wrong-secret' }))
    const login = await local.login(wrong)
    await assert.rejects(
      login.finalize(),
      code('token_error', 'invalid_client', (err) => assert.equal(err.status, 401)),
    )
  })

  it('sends the credentials in the body with clientAuthMethod client_secret_post', async () => {
    const post = local.flowFor(discord({ ...REGISTRATION, clientAuthMethod: 'client_secret_post' }))
    const { identity } = await local.completeLogin(post)
    assert.equal(identity.subject, NELLY.id)
    const tokenRequest = local.server.requests.filter(isTokenRequest)[0]!
    assert.equal(tokenRequest.headers.authorization, undefined)
    assert.equal(tokenRequest.form.get('client_id'), CLIENT_ID)
    assert.equal(tokenRequest.form.get('client_secret'), CLIENT_SECRET)
  })

  it('rejects a callback with another login’s state before any token request', async () => {
    const first = await local.login()
    const second = await local.login()
    await assert.rejects(
      local.flow.finalizeLogin(second.callback, first.flowState),
      code('state_mismatch'),
    )
    const forged = new URL(first.callback)
    forged.searchParams.delete('state')
    await assert.rejects(
      local.flow.finalizeLogin(forged, first.flowState),
      code('callback_invalid'),
    )
    assert.equal(local.server.count(isTokenRequest), 0)
  })

  it('reports a denied authorization as authorization_error, no token request', async () => {
    sim.denyAuthorization = true
    const login = await local.login()
    await assert.rejects(login.finalize(), code('authorization_error', 'access_denied'))
    assert.equal(local.server.count(isTokenRequest), 0)
  })
})
