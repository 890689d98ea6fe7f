/**
 * The GitHub provider against a local server that follows GitHub's documented endpoints
 * ("Authorizing OAuth apps", REST `GET /user` and `GET /user/emails`): the flow's real HTTP goes
 * over loopback, with `https://github.com` and `https://api.github.com` rewritten to the server.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { AuthkestraError } from '../../src/core/errors.ts'
import { Pkce } from '../../src/core/pkce.ts'
import { github } from '../../src/providers/github.ts'
import {
  AuthorizationCodes,
  bearerToken,
  followAuthorization,
  type LocalProviderServer,
  opaqueToken,
  type RecordedRequest,
  type Reply,
  startLocalProviderServer,
} from './helpers/local-provider-server.ts'

const CLIENT_ID = 'Iv1.8a61f9b3a7aba766'
const CLIENT_SECRET = 'gh-secret-0123456789abcdef0123456789abcdef'
const REDIRECT_URI = 'https://app.example/auth/callback/github'
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
class GitHubSimulator {
  webHost = 'github.com'
  apiHost = 'api.github.com'
  apiPrefix = ''
  codes = new AuthorizationCodes()
  readonly tokens = new Map<string, { scopes: readonly string[] }>()
  user: GitHubUser = OCTOCAT
  emails: GitHubEmail[] = EMAILS
  /** Forces an answer of `/user/emails` (403 for a GitHub App without the email permission). */
  emailsStatus: number | undefined
  denyAuthorization = false

  reset(): void {
    this.codes = new AuthorizationCodes()
    this.tokens.clear()
    this.user = OCTOCAT
    this.emails = EMAILS
    this.emailsStatus = undefined
    this.denyAuthorization = false
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
    const back = new URL(REDIRECT_URI)
    const state = q.get('state')
    if (state !== null) back.searchParams.set('state', state)
    if (q.get('redirect_uri') !== REDIRECT_URI) {
      back.searchParams.set('error', 'redirect_uri_mismatch')
    } else if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
      back.searchParams.set('error', 'invalid_request')
    } else if (this.denyAuthorization) {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'The user has denied your application access.')
    } else {
      const code = this.codes.issue({
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        scopes: (q.get('scope') ?? '').split(/[\s,]+/).filter(Boolean),
        codeChallenge: q.get('code_challenge') ?? undefined,
        codeChallengeMethod: q.get('code_challenge_method') ?? undefined,
      })
      back.searchParams.set('code', code)
    }
    return { status: 302, headers: { location: back.href } }
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
    const result = await this.codes.redeem(form.get('code'), {
      clientId: CLIENT_ID,
      redirectUri: form.get('redirect_uri'),
      codeVerifier: form.get('code_verifier'),
    })
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

function rejectsWith(code: string, extra: (err: AuthkestraError) => void = () => {}) {
  return (err: unknown) => {
    assert.ok(err instanceof AuthkestraError, `expected AuthkestraError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    extra(err)
    return true
  }
}

describe('github() against a local GitHub', () => {
  const sim = new GitHubSimulator()
  let server: LocalProviderServer
  let fetchGitHub: typeof fetch
  let flow: OAuth2Flow

  before(async () => {
    server = await startLocalProviderServer(sim.handle)
    fetchGitHub = server.fetch(['https://github.com', 'https://api.github.com'])
    flow = new OAuth2Flow(
      github({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }),
      { fetch: fetchGitHub },
    )
  })
  after(() => server.close())
  beforeEach(() => {
    sim.reset()
    server.requests.length = 0
  })

  async function login(f: OAuth2Flow = flow, scopes?: readonly string[]) {
    const start = await f.initiateLogin(scopes === undefined ? {} : { scopes })
    const callback = await followAuthorization(start.url, fetchGitHub)
    return { ...start, callback }
  }

  it('builds the authorization URL with PKCE S256, state and the GitHub scopes', async () => {
    const { url, flowState } = await flow.initiateLogin()
    assert.equal(`${url.origin}${url.pathname}`, 'https://github.com/login/oauth/authorize')
    const q = url.searchParams
    assert.equal(q.get('client_id'), CLIENT_ID)
    assert.equal(q.get('redirect_uri'), REDIRECT_URI)
    assert.equal(q.get('response_type'), 'code')
    assert.equal(q.get('scope'), 'read:user user:email')
    assert.equal(q.get('state'), flowState.state)
    assert.ok((q.get('state') ?? '').length >= 22)
    assert.equal(q.get('code_challenge_method'), 'S256')
    assert.ok(flowState.codeVerifier)
    assert.equal(q.get('code_challenge'), await Pkce.challenge(flowState.codeVerifier))
    assert.equal(q.get('nonce'), null, 'GitHub is not OIDC: no nonce')
    assert.equal(q.get('client_secret'), null)
    assert.equal(server.requests.length, 0, 'building the URL calls nobody')
  })

  it('logs in: identity from /user, the primary verified email from /user/emails', async () => {
    const { callback, flowState } = await login()
    const { identity, tokens } = await flow.finalizeLogin(callback, flowState)

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

    const tokenRequests = server.requests.filter(isTokenRequest)
    assert.equal(tokenRequests.length, 1)
    const tokenRequest = tokenRequests[0]!
    assert.equal(tokenRequest.host, 'github.com')
    assert.match(tokenRequest.headers.accept ?? '', /application\/json/)
    assert.equal(tokenRequest.headers.authorization, undefined, 'client_secret_post, not Basic')
    assert.equal(tokenRequest.form.get('client_id'), CLIENT_ID)
    assert.equal(tokenRequest.form.get('client_secret'), CLIENT_SECRET)
    assert.equal(tokenRequest.form.get('code'), callback.searchParams.get('code'))
    assert.equal(tokenRequest.form.get('redirect_uri'), REDIRECT_URI)
    assert.equal(tokenRequest.form.get('code_verifier'), flowState.codeVerifier)

    const apiCalls = server.requests.filter((r) => r.host === 'api.github.com')
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
    const { callback, flowState } = await login(flow, ['read:user'])
    const { identity, tokens } = await flow.finalizeLogin(callback, flowState)
    assert.deepEqual(tokens.scope, ['read:user'])
    assert.equal(identity.subject, '583231')
    assert.equal(identity.email, 'octocat-public@example.com', 'the public /user email is kept')
    assert.equal(identity.emailVerified, false)
    assert.equal(
      server.count((r) => r.path === '/user/emails'),
      1,
    )
  })

  it('still logs in when /user/emails answers 403, email unverified', async () => {
    sim.emailsStatus = 403
    const { callback, flowState } = await login()
    const { identity } = await flow.finalizeLogin(callback, flowState)
    assert.equal(identity.subject, '583231')
    assert.equal(identity.emailVerified, false)
  })

  it('reports emailVerified false when no primary address is verified', async () => {
    sim.user = { ...OCTOCAT, email: null }
    sim.emails = [
      { email: 'primary-unverified@example.com', primary: true, verified: false, visibility: null },
      { email: 'secondary-verified@example.com', primary: false, verified: true, visibility: null },
    ]
    const { callback, flowState } = await login()
    const { identity } = await flow.finalizeLogin(callback, flowState)
    assert.equal(identity.emailVerified, false)
    assert.equal(identity.email, null, 'a non-primary verified address is not taken')
  })

  it('fails the login when /user/emails answers 500', async () => {
    sim.emailsStatus = 500
    const { callback, flowState } = await login()
    await assert.rejects(
      flow.finalizeLogin(callback, flowState),
      rejectsWith('provider_bad_response', (err) => assert.equal(err.status, 500)),
    )
  })

  it('rejects a wrong PKCE verifier with token_error bad_verification_code (GitHub answers 200)', async () => {
    const { callback, flowState } = await login()
    const other = await Pkce.generate()
    await assert.rejects(
      flow.finalizeLogin(callback, { ...flowState, codeVerifier: other.codeVerifier }),
      rejectsWith('token_error', (err) => {
        assert.equal(err.oauthError, 'bad_verification_code')
        assert.equal(err.oauthErrorDescription, 'The code passed is incorrect or expired.')
        assert.equal(err.status, 200)
        assert.doesNotMatch(err.message, new RegExp(other.codeVerifier))
      }),
    )
    assert.equal(server.count(isTokenRequest), 1)
    assert.equal(
      server.count((r) => r.host === 'api.github.com'),
      0,
    )
  })

  it('rejects a replayed code with token_error', async () => {
    const { callback, flowState } = await login()
    await flow.finalizeLogin(callback, flowState)
    await assert.rejects(
      flow.finalizeLogin(callback, flowState),
      rejectsWith('token_error', (err) => assert.equal(err.oauthError, 'bad_verification_code')),
    )
    assert.equal(server.count(isTokenRequest), 2)
  })

  it('rejects a wrong client secret with token_error incorrect_client_credentials', async () => {
    const wrong = new OAuth2Flow(
      github({ clientId: CLIENT_ID, clientSecret: 'not-the-secret', redirectUri: REDIRECT_URI }),
      { fetch: fetchGitHub },
    )
    const { callback, flowState } = await login(wrong)
    await assert.rejects(
      wrong.finalizeLogin(callback, flowState),
      rejectsWith('token_error', (err) =>
        assert.equal(err.oauthError, 'incorrect_client_credentials'),
      ),
    )
  })

  it('rejects a callback for another login (state mismatch) before any token request', async () => {
    const first = await login()
    const second = await login()
    await assert.rejects(
      flow.finalizeLogin(second.callback, first.flowState),
      rejectsWith('state_mismatch'),
    )
    assert.equal(server.count(isTokenRequest), 0)
  })

  it('reports a denied authorization as authorization_error, no token request', async () => {
    sim.denyAuthorization = true
    const { callback, flowState } = await login()
    assert.equal(callback.searchParams.get('code'), null)
    await assert.rejects(
      flow.finalizeLogin(callback, flowState),
      rejectsWith('authorization_error', (err) => assert.equal(err.oauthError, 'access_denied')),
    )
    assert.equal(server.count(isTokenRequest), 0)
  })

  it('rejects a callback without a code (callback_invalid), no token request', async () => {
    const { callback, flowState } = await login()
    callback.searchParams.delete('code')
    await assert.rejects(flow.finalizeLogin(callback, flowState), rejectsWith('callback_invalid'))
    const duplicated = new URL(callback)
    duplicated.searchParams.append('code', 'a')
    duplicated.searchParams.append('code', 'b')
    await assert.rejects(flow.finalizeLogin(duplicated, flowState), rejectsWith('callback_invalid'))
    assert.equal(server.count(isTokenRequest), 0)
  })

  it('refuses revoke with unsupported_operation: GitHub has no RFC 7009 endpoint', async () => {
    await assert.rejects(flow.revoke('gho_anything'), rejectsWith('unsupported_operation'))
    assert.equal(server.requests.length, 0)
  })
})

describe('github({ enterpriseUrl }) — GitHub Enterprise Server', () => {
  it('derives the web and /api/v3 endpoints from the base URL', async () => {
    const config = github({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: REDIRECT_URI,
      enterpriseUrl: 'https://github.example.com/',
    })
    assert.equal(config.authorizationEndpoint, 'https://github.example.com/login/oauth/authorize')
    assert.equal(config.tokenEndpoint, 'https://github.example.com/login/oauth/access_token')
    assert.equal(config.userinfoEndpoint, 'https://github.example.com/api/v3/user')
    assert.equal(config.revocationEndpoint, undefined)
    const provider = await new OAuth2Flow(config).provider()
    assert.equal(provider.clientAuthMethod, 'client_secret_post')
    assert.equal(provider.userinfoEndpoint?.href, 'https://github.example.com/api/v3/user')
  })

  describe('full login with enterpriseUrl on the loopback server (no fetch rewriting)', () => {
    const sim = new GitHubSimulator()
    let server: LocalProviderServer

    before(async () => {
      server = await startLocalProviderServer(sim.handle)
      const host = new URL(server.origin).host
      sim.webHost = host
      sim.apiHost = host
      sim.apiPrefix = '/api/v3'
    })
    after(() => server.close())

    it('logs in through <base>/login/oauth/* and <base>/api/v3/*', async () => {
      const flow = new OAuth2Flow(
        github({
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUri: REDIRECT_URI,
          enterpriseUrl: server.origin,
        }),
      )
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
