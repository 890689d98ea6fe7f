/**
 * The Zoom provider against a local server that follows Zoom's OAuth documentation (authorize,
 * token and revoke on `zoom.us`, `GET /v2/users/me` on `api.zoom.us`).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Pkce } from '../../src/core/pkce.ts'
import { zoom } from '../../src/providers/zoom.ts'
import { code } from '../helpers/assert-code.ts'
import { bearerToken, type RecordedRequest, type Reply } from './helpers/local-provider-server.ts'
import {
  assertBasicClientAuth,
  assertCodeRedemption,
  ProviderSimulator,
  useLocalProvider,
} from './helpers/simulator-harness.ts'

const CLIENT_ID = 'zA1bC2dE3fG4hI5jK6lM'
const CLIENT_SECRET = 'zoom-secret/with:special%chars'
const REDIRECT_URI = 'https://app.example/auth/callback/zoom'
const REGISTRATION = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }
/** The scopes configured on the app in the Marketplace, granted when the request names none. */
const APP_SCOPES = ['user:read:user', 'meeting:read:meeting']

const JILL = {
  id: 'KDcuGIm1QgePTO8WbOqwIQ',
  first_name: 'Jill',
  last_name: 'Chill',
  display_name: 'Jill Chill',
  email: 'jchill@example.com',
  type: 1,
  pic_url: 'https://example.zoom.us/p/KDcuGIm1QgePTO8WbOqwIQ/photo.jpg',
  verified: 1,
  account_id: 'q6gBJVO5TzexKYTb_I2rpg',
  status: 'active',
}

/**
 * Zoom as documented: HTTP Basic only at the token and revoke endpoints; errors carry `error`
 * and a `reason` (not `error_description`); the token response adds `api_url`; refresh tokens
 * rotate; the REST API answers `{ code, message }` errors.
 */
class ZoomSimulator extends ProviderSimulator {
  user: Record<string, unknown> = JILL

  override reset(): void {
    super.reset()
    this.user = JILL
  }

  readonly handle = async (req: RecordedRequest): Promise<Reply> => {
    if (req.host === 'zoom.us' && req.path === '/oauth/authorize') {
      if (
        req.query.get('client_id') !== CLIENT_ID ||
        req.query.get('redirect_uri') !== REDIRECT_URI
      ) {
        return { status: 400, body: 'Invalid redirect: 4.700' }
      }
      if (!req.query.has('scope')) {
        req.query.set('scope', APP_SCOPES.join(' '))
      }
      return this.approve(req, 'The user denied the authorization', ' ')
    }
    if (req.host === 'zoom.us' && req.method === 'POST' && req.path === '/oauth/token') {
      return this.#token(req)
    }
    if (req.host === 'zoom.us' && req.method === 'POST' && req.path === '/oauth/revoke') {
      if (!this.basicAuthenticated(req))
        return this.#error(401, 'invalid_client', 'Invalid client_id or client_secret')
      this.issued.revoke(req.form.get('token'))
      return { json: { status: 'success' } }
    }
    if (req.host === 'api.zoom.us' && req.path === '/v2/users/me') {
      if (!this.issued.byAccessToken(bearerToken(req.headers))) {
        return { status: 401, json: { code: 124, message: 'Invalid access token.' } }
      }
      return { json: this.user }
    }
    return { status: 404, json: { code: 404, message: 'Not found' } }
  }

  #error(status: number, error: string, reason: string): Reply {
    return { status, json: { reason, error } }
  }

  #issue(scopes: readonly string[]): Reply {
    const grant = this.issued.issue(scopes, 'eyJ')
    return {
      json: {
        access_token: grant.accessToken,
        token_type: 'bearer',
        refresh_token: grant.refreshToken,
        expires_in: 3599,
        scope: scopes.join(' '),
        api_url: 'https://api.zoom.us',
      },
    }
  }

  async #token(req: RecordedRequest): Promise<Reply> {
    if (!this.basicAuthenticated(req)) {
      return this.#error(401, 'invalid_client', 'Invalid client_id or client_secret')
    }
    const form = req.form
    if (form.get('grant_type') === 'authorization_code') {
      const result = await this.redeem(form)
      if (!result.ok) return this.#error(400, 'invalid_request', 'Invalid authorization code')
      return this.#issue(result.grant.scopes)
    }
    if (form.get('grant_type') === 'refresh_token') {
      const grant = this.issued.byRefreshToken(form.get('refresh_token'))
      if (!grant) return this.#error(400, 'invalid_request', 'Invalid Token!')
      grant.revoked = true // Zoom's refresh tokens are single-use
      return this.#issue(grant.scopes)
    }
    return this.#error(400, 'unsupported_grant_type', 'Unsupported grant type')
  }
}

const isToken = (r: RecordedRequest) => r.method === 'POST' && r.path === '/oauth/token'

describe('zoom() against a local Zoom', () => {
  const sim = new ZoomSimulator(REGISTRATION)
  const local = useLocalProvider(sim, {
    origins: ['https://zoom.us', 'https://api.zoom.us'],
    config: () => zoom(REGISTRATION),
  })

  it('sends no scope by default (the app’s configured scopes apply), PKCE S256', async () => {
    const { url, flowState } = await local.flow.initiateLogin()
    assert.equal(`${url.origin}${url.pathname}`, 'https://zoom.us/oauth/authorize')
    assert.equal(url.searchParams.get('scope'), null)
    assert.equal(url.searchParams.get('redirect_uri'), REDIRECT_URI)
    assert.equal(
      url.searchParams.get('code_challenge'),
      await Pkce.challenge(flowState.codeVerifier!),
    )
  })

  it('logs in with HTTP Basic; verified: 1 makes the email verified', async () => {
    const login = await local.completeLogin()
    const { identity, tokens } = login
    assert.equal(identity.subject, 'KDcuGIm1QgePTO8WbOqwIQ')
    assert.equal(identity.name, 'Jill Chill')
    assert.equal(identity.email, 'jchill@example.com')
    assert.equal(identity.emailVerified, true)
    assert.equal(identity.picture, JILL.pic_url)
    assert.deepEqual(tokens.scope, APP_SCOPES)
    assert.equal(tokens.raw.api_url, 'https://api.zoom.us')
    const tokenRequest = local.server.requests.find(isToken)!
    assertBasicClientAuth(tokenRequest, REGISTRATION)
    assertCodeRedemption(tokenRequest, login, REDIRECT_URI)
    const me = local.server.requests.filter((r) => r.host === 'api.zoom.us')
    assert.deepEqual(
      me.map((r) => r.path),
      ['/v2/users/me'],
    )
    assert.equal(me[0]!.headers.authorization, `Bearer ${tokens.accessToken}`)
  })

  it('reports verified: 0 as unverified, and builds the name from first and last names', async () => {
    sim.user = { ...JILL, verified: 0, display_name: '' }
    const { identity } = await local.completeLogin()
    assert.equal(identity.emailVerified, false)
    assert.equal(identity.name, 'Jill Chill')
  })

  it('refuses body credentials with invalid_client (Basic only)', async () => {
    const post = local.flowFor(zoom({ ...REGISTRATION, clientAuthMethod: 'client_secret_post' }))
    await assert.rejects(
      (await local.login(post)).finalize(),
      code('token_error', 'invalid_client', (err) => assert.equal(err.status, 401)),
    )
  })

  it('surfaces a bad PKCE verifier as token_error invalid_request (Zoom’s error)', async () => {
    const { callback, flowState } = await local.login()
    const other = await Pkce.generate()
    await assert.rejects(
      local.flow.finalizeLogin(callback, { ...flowState, codeVerifier: other.codeVerifier }),
      code('token_error', 'invalid_request', (err) => assert.equal(err.status, 400)),
    )
  })

  it('refreshes with rotation: the old refresh token is then refused', async () => {
    const { tokens } = await local.completeLogin()
    const renewed = await local.flow.refresh(tokens.refreshToken!)
    assert.ok(renewed.refreshToken)
    assert.notEqual(renewed.refreshToken, tokens.refreshToken)
    assertBasicClientAuth(local.server.requests.filter(isToken)[1]!, REGISTRATION)
    await assert.rejects(
      local.flow.refresh(tokens.refreshToken!),
      code('token_error', 'invalid_request'),
    )
  })

  it('revokes at /oauth/revoke with HTTP Basic', async () => {
    const { tokens } = await local.completeLogin()
    await local.flow.revoke(tokens.accessToken)
    const revoke = local.server.requests.find((r) => r.path === '/oauth/revoke')!
    assert.equal(revoke.form.get('token'), tokens.accessToken)
    assertBasicClientAuth(revoke, REGISTRATION)
    assert.equal(sim.issued.byAccessToken(tokens.accessToken), undefined)
  })

  it('fails with provider_bad_response when /v2/users/me refuses the token', async () => {
    sim.issued.revokeOnIssue = true
    await assert.rejects(
      (await local.login()).finalize(),
      code('provider_bad_response', undefined, (err) => assert.equal(err.status, 401)),
    )
  })
})
