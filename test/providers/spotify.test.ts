/**
 * The Spotify provider against a local server that follows Spotify's Web API authorization
 * guides (authorize and token on `accounts.spotify.com`, `GET /v1/me` on `api.spotify.com`).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Pkce } from '../../src/core/pkce.ts'
import { spotify } from '../../src/providers/spotify.ts'
import { code } from '../helpers/assert-code.ts'
import { bearerToken, type RecordedRequest, type Reply } from './helpers/local-provider-server.ts'
import {
  assertAuthorizationUrl,
  assertBasicClientAuth,
  assertCodeRedemption,
  ProviderSimulator,
  useLocalProvider,
} from './helpers/simulator-harness.ts'

const CLIENT_ID = '5fe01282e44241328a84e7c5cc169165'
const CLIENT_SECRET = 'sp-secret:0123456789abcdef'
const REDIRECT_URI = 'https://app.example/auth/callback/spotify'
const REGISTRATION = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }
const TOKEN_PATH = '/api/token'

const WIZZLER = {
  id: 'wizzler',
  display_name: 'Wizzler',
  email: 'wizzler@example.com',
  country: 'SE',
  images: [{ url: 'https://i.scdn.co/image/ab6775700000ee85', height: 300, width: 300 }],
  uri: 'spotify:user:wizzler',
}

/**
 * Spotify as documented: a confidential client authenticates with HTTP Basic, a public client
 * sends only `client_id` with its PKCE verifier; errors are RFC 6749 bodies at the token endpoint
 * and `{ error: { status, message } }` at the Web API; a refresh may come without a new refresh
 * token; the email needs `user-read-email`.
 */
class SpotifySimulator extends ProviderSimulator {
  user: Record<string, unknown> = WIZZLER

  override reset(): void {
    super.reset()
    this.user = WIZZLER
  }

  readonly handle = async (req: RecordedRequest): Promise<Reply> => {
    if (req.host === 'accounts.spotify.com' && req.path === '/authorize') {
      if (req.query.get('client_id') !== CLIENT_ID) {
        return { status: 400, body: 'INVALID_CLIENT: Invalid client' }
      }
      if (req.query.get('redirect_uri') !== REDIRECT_URI) {
        return { status: 400, body: 'INVALID_CLIENT: Invalid redirect URI' }
      }
      return this.approve(req, 'access_denied', ' ')
    }
    if (req.host === 'accounts.spotify.com' && req.method === 'POST' && req.path === TOKEN_PATH) {
      return this.#token(req)
    }
    if (req.host === 'api.spotify.com' && req.path === '/v1/me') {
      const grant = this.issued.byAccessToken(bearerToken(req.headers))
      if (!grant)
        return { status: 401, json: { error: { status: 401, message: 'Invalid access token' } } }
      const { email, ...rest } = this.user
      return { json: grant.scopes.includes('user-read-email') ? this.user : rest }
    }
    return { status: 404, json: { error: { status: 404, message: 'Service not found' } } }
  }

  async #token(req: RecordedRequest): Promise<Reply> {
    const form = req.form
    const publicClient = req.headers.authorization === undefined && !form.has('client_secret')
    const authenticated = publicClient
      ? form.get('client_id') === CLIENT_ID && form.has('code_verifier')
      : this.basicAuthenticated(req)
    if (!authenticated) {
      return {
        status: 400,
        json: { error: 'invalid_client', error_description: 'Invalid client secret' },
      }
    }
    const issue = (scopes: readonly string[], withRefresh: boolean): Reply => {
      const grant = this.issued.issue(scopes, 'BQ')
      return {
        json: {
          access_token: grant.accessToken,
          token_type: 'Bearer',
          scope: scopes.join(' '),
          expires_in: 3600,
          ...(withRefresh ? { refresh_token: grant.refreshToken } : {}),
        },
      }
    }
    if (form.get('grant_type') === 'authorization_code') {
      const result = await this.redeem(form)
      if (!result.ok) {
        return {
          status: 400,
          json: { error: 'invalid_grant', error_description: 'Invalid authorization code' },
        }
      }
      return issue(result.grant.scopes, true)
    }
    if (form.get('grant_type') === 'refresh_token') {
      const grant = this.issued.byRefreshToken(form.get('refresh_token'))
      if (!grant) {
        return {
          status: 400,
          json: { error: 'invalid_grant', error_description: 'Invalid refresh token' },
        }
      }
      // Spotify keeps the refresh token: the answer carries only a new access token.
      const renewed = this.issued.issue(grant.scopes, 'BQ')
      Object.assign(renewed, { refreshToken: grant.refreshToken })
      return {
        json: {
          access_token: renewed.accessToken,
          token_type: 'Bearer',
          scope: grant.scopes.join(' '),
          expires_in: 3600,
        },
      }
    }
    return { status: 400, json: { error: 'unsupported_grant_type' } }
  }
}

const isToken = (r: RecordedRequest) => r.method === 'POST' && r.path === TOKEN_PATH
const isMe = (r: RecordedRequest) => r.path === '/v1/me'

describe('spotify() against a local Spotify', () => {
  const sim = new SpotifySimulator(REGISTRATION)
  const local = useLocalProvider(sim, {
    origins: ['https://accounts.spotify.com', 'https://api.spotify.com'],
    config: () => spotify(REGISTRATION),
  })

  it('builds the authorization URL with PKCE S256 and user-read-email', async () => {
    await assertAuthorizationUrl(await local.flow.initiateLogin(), {
      endpoint: 'https://accounts.spotify.com/authorize',
      ...REGISTRATION,
      scope: 'user-read-email',
    })
  })

  it('logs in with HTTP Basic; the email is reported unverified, as Spotify documents', async () => {
    const login = await local.completeLogin()
    const { identity, tokens } = login
    assert.equal(identity.provider, 'spotify')
    assert.equal(identity.subject, 'wizzler')
    assert.equal(identity.name, 'Wizzler')
    assert.equal(identity.username, null)
    assert.equal(identity.picture, 'https://i.scdn.co/image/ab6775700000ee85')
    assert.equal(identity.email, 'wizzler@example.com')
    assert.equal(identity.emailVerified, false)
    assert.equal(identity.claims.country, 'SE')
    assert.deepEqual(tokens.scope, ['user-read-email'])
    assert.ok(tokens.refreshToken)

    const tokenRequest = local.server.requests.find(isToken)!
    assertBasicClientAuth(tokenRequest, REGISTRATION)
    assertCodeRedemption(tokenRequest, login, REDIRECT_URI)
    const me = local.server.requests.filter(isMe)
    assert.equal(me.length, 1)
    assert.equal(me[0]!.headers.authorization, `Bearer ${tokens.accessToken}`)
  })

  it('has no email without user-read-email, and no picture without images', async () => {
    sim.user = { ...WIZZLER, images: [] }
    const { identity } = await local.completeLogin(local.flow, ['user-read-private'])
    assert.equal(identity.email, null)
    assert.equal(identity.emailVerified, false)
    assert.equal(identity.picture, null)
  })

  it('logs in as a public client: client_id and the PKCE verifier, no secret', async () => {
    const pub = local.flowFor(spotify({ clientId: CLIENT_ID, redirectUri: REDIRECT_URI }))
    const login = await local.completeLogin(pub)
    assert.equal(login.identity.subject, 'wizzler')
    const tokenRequest = local.server.requests.find(isToken)!
    assert.equal(tokenRequest.headers.authorization, undefined)
    assert.equal(tokenRequest.form.get('client_id'), CLIENT_ID)
    assert.equal(tokenRequest.form.get('client_secret'), null)
    assertCodeRedemption(tokenRequest, login, REDIRECT_URI)
  })

  it('refreshes; Spotify may answer without a new refresh token', async () => {
    const { tokens } = await local.completeLogin()
    const renewed = await local.flow.refresh(tokens.refreshToken!)
    assert.notEqual(renewed.accessToken, tokens.accessToken)
    assert.equal(renewed.refreshToken, undefined)
    const refresh = local.server.requests.filter(isToken)[1]!
    assert.equal(refresh.form.get('grant_type'), 'refresh_token')
    assert.equal(refresh.form.get('refresh_token'), tokens.refreshToken)
    assertBasicClientAuth(refresh, REGISTRATION)
    await assert.rejects(
      local.flow.refresh('not-a-refresh-token'),
      code('token_error', 'invalid_grant'),
    )
  })

  it('surfaces a bad code, a wrong verifier and a wrong secret as token_error', async () => {
    const login = await local.login()
    const other = await Pkce.generate()
    await assert.rejects(
      local.flow.finalizeLogin(login.callback, {
        ...login.flowState,
        codeVerifier: other.codeVerifier,
      }),
      code('token_error', 'invalid_grant', (err) => {
        assert.equal(err.status, 400)
        assert.equal(err.oauthErrorDescription, 'Invalid authorization code')
      }),
    )
    const wrong = local.flowFor(spotify({ ...REGISTRATION, clientSecret: 'nope' }))
    await assert.rejects(
      (await local.login(wrong)).finalize(),
      code('token_error', 'invalid_client'),
    )
    assert.equal(local.server.count(isMe), 0)
  })

  it('fails with provider_bad_response when the Web API refuses the token', async () => {
    sim.issued.revokeOnIssue = true
    const login = await local.login()
    await assert.rejects(
      login.finalize(),
      code('provider_bad_response', undefined, (err) => assert.equal(err.status, 401)),
    )
    assert.equal(local.server.count(isMe), 1)
  })

  it('refuses revoke: Spotify has no revocation endpoint', async () => {
    await assert.rejects(local.flow.revoke('BQanything'), code('unsupported_operation'))
  })
})
