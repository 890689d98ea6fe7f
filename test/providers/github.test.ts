/**
 * The GitHub provider against a local server that follows GitHub's documented endpoints
 * ("Authorizing OAuth apps", REST `GET /user` and `GET /user/emails`): the flow's real HTTP goes
 * over loopback, with `https://github.com` and `https://api.github.com` rewritten to the server.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { Pkce } from '../../src/core/pkce.ts'
import { github } from '../../src/providers/github.ts'
import { code } from '../helpers/assert-code.ts'
import {
  bearerToken,
  followAuthorization,
  opaqueToken,
  type RecordedRequest,
  type Reply,
} from './helpers/local-provider-server.ts'
import {
  assertAuthorizationUrl,
  assertCodeRedemption,
  ProviderSimulator,
  useLocalProvider,
} from './helpers/simulator-harness.ts'

const CLIENT_ID = 'Iv1.8a61f9b3a7aba766'
const CLIENT_SECRET = 'gh-secret-0123456789abcdef0123456789abcdef'
const REDIRECT_URI = 'https://app.example/auth/callback/github'
const REGISTRATION = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }
const TOKEN_PATH = '/login/oauth/access_token'
const ERROR_URI =
  'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors'

interface GitHubUser {
  id: number
  login: string
  name: string | null
  avatar_url: string
  email: string | null
}

interface GitHubEmail {
  email: string
  primary: boolean
  verified: boolean
  visibility: 'public' | 'private' | null
}

const OCTOCAT: GitHubUser = {
  id: 583231,
  login: 'octocat',
  name: 'The Octocat',
  avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4',
  email: 'octocat-public@example.com',
}

const EMAILS: GitHubEmail[] = [
  { email: 'octocat-old@example.com', primary: false, verified: true, visibility: null },
  { email: 'octocat-new@example.com', primary: false, verified: false, visibility: null },
  { email: 'octocat@github.com', primary: true, verified: true, visibility: 'public' },
]

/**
 * GitHub as documented: authorize redirects back with `code` and `state`; the token endpoint takes
 * client_secret_post credentials and the PKCE verifier and answers errors with HTTP 200; the REST
 * API wants a User-Agent and a token, and `/user/emails` needs the `user:email` scope.
 */
class GitHubSimulator extends ProviderSimulator {
  webHost = 'github.com'
  apiHost = 'api.github.com'
  apiPrefix = ''
  readonly tokens = new Map<string, { scopes: readonly string[] }>()
  user: GitHubUser = OCTOCAT
  emails: GitHubEmail[] = EMAILS
  /** Forces an answer of `/user/emails` (403 for a GitHub App without the email permission). */
  emailsStatus: number | undefined

  override reset(): void {
    super.reset()
    this.tokens.clear()
    this.user = OCTOCAT
    this.emails = EMAILS
    this.emailsStatus = undefined
  }

  readonly handle = async (req: RecordedRequest): Promise<Reply> => {
    if (
      req.host === this.webHost &&
      req.method === 'GET' &&
      req.path === '/login/oauth/authorize'
    ) {
      return this.#authorize(req)
    }
    if (req.host === this.webHost && req.method === 'POST' && req.path === TOKEN_PATH) {
      return this.#token(req)
    }
    if (req.host === this.apiHost && req.path.startsWith(`${this.apiPrefix}/`)) {
      return this.#api(req, req.path.slice(this.apiPrefix.length))
    }
    return { status: 404, json: { message: 'Not Found' } }
  }

  #authorize(req: RecordedRequest): Reply {
    const q = req.query
    if (q.get('client_id') !== CLIENT_ID) return { status: 404, body: 'unknown application' }
    if (q.get('redirect_uri') !== REDIRECT_URI) {
      return this.redirectBack(req, { error: 'redirect_uri_mismatch' })
    }
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
      return this.redirectBack(req, { error: 'invalid_request' })
    }
    return this.approve(req, 'The user has denied your application access.', /[\s,]+/)
  }

  async #token(req: RecordedRequest): Promise<Reply> {
    const form = req.form
    const error = (code: string, description: string): Reply =>
      // GitHub answers token errors with HTTP 200 and an error body.
      ({ status: 200, json: { error: code, error_description: description, error_uri: ERROR_URI } })
    if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) {
      return error(
        'incorrect_client_credentials',
        'The client_id and/or client_secret passed are incorrect.',
      )
    }
    const result = await this.redeem(form)
    if (!result.ok) {
      if (result.reason === 'redirect_uri_mismatch') {
        return error(
          'redirect_uri_mismatch',
          'The redirect_uri MUST match the registered callback URL for this application.',
        )
      }
      return error('bad_verification_code', 'The code passed is incorrect or expired.')
    }
    const accessToken = opaqueToken('gho_')
    this.tokens.set(accessToken, { scopes: result.grant.scopes })
    const body = {
      access_token: accessToken,
      token_type: 'bearer',
      scope: result.grant.scopes.join(','),
    }
    if (!/application\/json/.test(req.headers.accept ?? '')) {
      return {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body).toString(),
      }
    }
    return { json: body }
  }

  #api(req: RecordedRequest, path: string): Reply {
    if (!req.headers['user-agent']) {
      return {
        status: 403,
        body: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.',
      }
    }
    const token = bearerToken(req.headers)
    const grant = token === undefined ? undefined : this.tokens.get(token)
    if (!grant) return { status: 401, json: { message: 'Bad credentials', status: '401' } }
    if (req.method === 'GET' && path === '/user') return { json: this.user }
    if (req.method === 'GET' && path === '/user/emails') {
      if (this.emailsStatus !== undefined) {
        return {
          status: this.emailsStatus,
          json: {
            message: 'Resource not accessible by integration',
            status: String(this.emailsStatus),
          },
        }
      }
      if (!grant.scopes.includes('user:email') && !grant.scopes.includes('user')) {
        return { status: 404, json: { message: 'Not Found', status: '404' } }
      }
      return { json: this.emails }
    }
    return { status: 404, json: { message: 'Not Found', status: '404' } }
  }
}

const isTokenRequest = (r: RecordedRequest) => r.method === 'POST' && r.path === TOKEN_PATH
const isApiCall = (r: RecordedRequest) => r.host === 'api.github.com'

describe('github() against a local GitHub', () => {
  const sim = new GitHubSimulator(REGISTRATION)
  const local = useLocalProvider(sim, {
    origins: ['https://github.com', 'https://api.github.com'],
    config: () => github(REGISTRATION),
  })

  it('builds the authorization URL with PKCE S256, state and the GitHub scopes', async () => {
    const start = await local.flow.initiateLogin()
    await assertAuthorizationUrl(start, {
      endpoint: 'https://github.com/login/oauth/authorize',
      ...REGISTRATION,
      scope: 'read:user user:email',
    })
    const q = start.url.searchParams
    assert.ok((q.get('state') ?? '').length >= 22)
    assert.equal(q.get('nonce'), null, 'GitHub is not OIDC: no nonce')
    assert.equal(q.get('client_secret'), null)
    assert.equal(local.server.requests.length, 0, 'building the URL calls nobody')
  })

  it('logs in: identity from /user, the primary verified email from /user/emails', async () => {
    const login = await local.completeLogin()
    const { identity, tokens } = login

    assert.equal(identity.provider, 'github')
    assert.equal(identity.subject, '583231')
    assert.equal(identity.username, 'octocat')
    assert.equal(identity.name, 'The Octocat')
    assert.equal(identity.picture, 'https://avatars.githubusercontent.com/u/583231?v=4')
    assert.equal(identity.email, 'octocat@github.com')
    assert.equal(identity.emailVerified, true)
    assert.equal(identity.claims.login, 'octocat')

    assert.equal(tokens.tokenType, 'Bearer')
    assert.match(tokens.accessToken, /^gho_/)
    assert.deepEqual(tokens.scope, ['read:user', 'user:email'])
    assert.equal(tokens.refreshToken, undefined)
    assert.equal(tokens.raw.token_type, 'bearer')

    const tokenRequests = local.server.requests.filter(isTokenRequest)
    assert.equal(tokenRequests.length, 1)
    const tokenRequest = tokenRequests[0]!
    assert.equal(tokenRequest.host, 'github.com')
    assert.match(tokenRequest.headers.accept ?? '', /application\/json/)
    assert.equal(tokenRequest.headers.authorization, undefined, 'client_secret_post, not Basic')
    assert.equal(tokenRequest.form.get('client_id'), CLIENT_ID)
    assert.equal(tokenRequest.form.get('client_secret'), CLIENT_SECRET)
    assertCodeRedemption(tokenRequest, login, REDIRECT_URI)

    const apiCalls = local.server.requests.filter(isApiCall)
    assert.deepEqual(
      apiCalls.map((r) => `${r.method} ${r.path}`),
      ['GET /user', 'GET /user/emails'],
    )
    for (const call of apiCalls) {
      assert.equal(call.headers['user-agent'], 'authkestra')
      assert.equal(call.headers.accept, 'application/vnd.github+json')
      assert.equal(call.headers['x-github-api-version'], '2022-11-28')
      assert.equal(call.headers.authorization, `Bearer ${tokens.accessToken}`)
    }
  })

  it('still logs in when /user/emails answers 404 (no user:email scope), email unverified', async () => {
    const { identity, tokens } = await local.completeLogin(local.flow, ['read:user'])
    assert.deepEqual(tokens.scope, ['read:user'])
    assert.equal(identity.subject, '583231')
    assert.equal(identity.email, 'octocat-public@example.com', 'the public /user email is kept')
    assert.equal(identity.emailVerified, false)
    assert.equal(
      local.server.count((r) => r.path === '/user/emails'),
      1,
    )
  })

  it('still logs in when /user/emails answers 403, email unverified', async () => {
    sim.emailsStatus = 403
    const { identity } = await local.completeLogin()
    assert.equal(identity.subject, '583231')
    assert.equal(identity.emailVerified, false)
  })

  it('reports emailVerified false when no primary address is verified', async () => {
    sim.user = { ...OCTOCAT, email: null }
    sim.emails = [
      { email: 'primary-unverified@example.com', primary: true, verified: false, visibility: null },
      { email: 'secondary-verified@example.com', primary: false, verified: true, visibility: null },
    ]
    const { identity } = await local.completeLogin()
    assert.equal(identity.emailVerified, false)
    assert.equal(identity.email, null, 'a non-primary verified address is not taken')
  })

  it('fails the login when /user/emails answers 500', async () => {
    sim.emailsStatus = 500
    const login = await local.login()
    await assert.rejects(
      login.finalize(),
      code('provider_bad_response', undefined, (err) => assert.equal(err.status, 500)),
    )
  })

  it('rejects a wrong PKCE verifier with token_error bad_verification_code (GitHub answers 200)', async () => {
    const { callback, flowState } = await local.login()
    const other = await Pkce.generate()
    await assert.rejects(
      local.flow.finalizeLogin(callback, { ...flowState, codeVerifier: other.codeVerifier }),
      code('token_error', 'bad_verification_code', (err) => {
        assert.equal(err.oauthErrorDescription, 'The code passed is incorrect or expired.')
        assert.equal(err.status, 200)
        assert.doesNotMatch(err.message, new RegExp(other.codeVerifier))
      }),
    )
    assert.equal(local.server.count(isTokenRequest), 1)
    assert.equal(local.server.count(isApiCall), 0)
  })

  it('rejects a replayed code with token_error', async () => {
    const login = await local.completeLogin()
    await assert.rejects(login.finalize(), code('token_error', 'bad_verification_code'))
    assert.equal(local.server.count(isTokenRequest), 2)
  })

  it('rejects a wrong client secret with token_error incorrect_client_credentials', async () => {
    const wrong = local.flowFor(github({ ...REGISTRATION, clientSecret: 'not-the-secret' }))
    const login = await local.login(wrong)
    await assert.rejects(login.finalize(), code('token_error', 'incorrect_client_credentials'))
  })

  it('rejects a callback for another login (state mismatch) before any token request', async () => {
    const first = await local.login()
    const second = await local.login()
    await assert.rejects(
      local.flow.finalizeLogin(second.callback, first.flowState),
      code('state_mismatch'),
    )
    assert.equal(local.server.count(isTokenRequest), 0)
  })

  it('reports a denied authorization as authorization_error, no token request', async () => {
    sim.denyAuthorization = true
    const login = await local.login()
    assert.equal(login.callback.searchParams.get('code'), null)
    await assert.rejects(login.finalize(), code('authorization_error', 'access_denied'))
    assert.equal(local.server.count(isTokenRequest), 0)
  })

  it('rejects a callback without a code (callback_invalid), no token request', async () => {
    const { callback, flowState } = await local.login()
    callback.searchParams.delete('code')
    await assert.rejects(local.flow.finalizeLogin(callback, flowState), code('callback_invalid'))
    const duplicated = new URL(callback)
    duplicated.searchParams.append('code', 'a')
    duplicated.searchParams.append('code', 'b')
    await assert.rejects(local.flow.finalizeLogin(duplicated, flowState), code('callback_invalid'))
    assert.equal(local.server.count(isTokenRequest), 0)
  })

  it('refuses revoke with unsupported_operation: GitHub has no RFC 7009 endpoint', async () => {
    await assert.rejects(local.flow.revoke('gho_anything'), code('unsupported_operation'))
    assert.equal(local.server.requests.length, 0)
  })
})

describe('github({ enterpriseUrl }) — GitHub Enterprise Server', () => {
  it('derives the web and /api/v3 endpoints from the base URL', async () => {
    const config = github({ ...REGISTRATION, enterpriseUrl: 'https://github.example.com/' })
    assert.equal(config.authorizationEndpoint, 'https://github.example.com/login/oauth/authorize')
    assert.equal(config.tokenEndpoint, 'https://github.example.com/login/oauth/access_token')
    assert.equal(config.userinfoEndpoint, 'https://github.example.com/api/v3/user')
    assert.equal(config.revocationEndpoint, undefined)
    const provider = await new OAuth2Flow(config).provider()
    assert.equal(provider.clientAuthMethod, 'client_secret_post')
    assert.equal(provider.userinfoEndpoint?.href, 'https://github.example.com/api/v3/user')
  })

  describe('full login with enterpriseUrl on the loopback server (no fetch rewriting)', () => {
    const sim = new GitHubSimulator(REGISTRATION)
    const local = useLocalProvider(sim, {
      config: (server) => github({ ...REGISTRATION, enterpriseUrl: server.origin }),
      onStart: (server) => {
        const host = new URL(server.origin).host
        sim.webHost = host
        sim.apiHost = host
        sim.apiPrefix = '/api/v3'
      },
    })

    it('logs in through <base>/login/oauth/* and <base>/api/v3/*', async () => {
      const { server, flow } = local
      const { url, flowState } = await flow.initiateLogin()
      assert.equal(url.origin, server.origin)
      assert.equal(url.pathname, '/login/oauth/authorize')
      const callback = await followAuthorization(url, globalThis.fetch)
      const { identity, tokens } = await flow.finalizeLogin(callback, flowState)
      assert.equal(identity.subject, '583231')
      assert.equal(identity.email, 'octocat@github.com')
      assert.equal(identity.emailVerified, true)
      assert.deepEqual(tokens.scope, ['read:user', 'user:email'])
      assert.deepEqual(
        server.requests.map((r) => `${r.method} ${r.path}`),
        [
          'GET /login/oauth/authorize',
          'POST /login/oauth/access_token',
          'GET /api/v3/user',
          'GET /api/v3/user/emails',
        ],
      )
      for (const r of server.requests) assert.equal(r.headers['x-test-intended-host'], undefined)
    })
  })
})
