/**
 * The Atlassian provider against a local server that follows Atlassian's OAuth 2.0 (3LO)
 * documentation (authorize and token on `auth.atlassian.com`, `GET /me` on `api.atlassian.com`).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { atlassian } from '../../src/providers/atlassian.ts'
import { code } from '../helpers/assert-code.ts'
import { bearerToken, type RecordedRequest, type Reply } from './helpers/local-provider-server.ts'
import {
  assertAuthorizationUrl,
  assertCodeRedemption,
  assertPostClientAuth,
  ProviderSimulator,
  useLocalProvider,
} from './helpers/simulator-harness.ts'

const CLIENT_ID = 'Xb9Lq2Wc7Tz4Mn8Pk1Rs5Vd3'
const CLIENT_SECRET = 'ATOA-secret+0123456789/abcdef='
const REDIRECT_URI = 'https://app.example/auth/callback/atlassian'
const REGISTRATION = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }
const TOKEN_PATH = '/oauth/token'

const MIA = {
  account_type: 'atlassian',
  account_id: '112233aa-bb11-cc22-33dd-444444abcabc',
  email: 'mia@example.com',
  name: 'Mia Krystof',
  picture: 'https://avatar-management.example/112233aa/128',
  account_status: 'active',
  nickname: 'mkrystof',
  zoneinfo: 'Australia/Sydney',
  locale: 'en-US',
  extended_profile: { job_title: 'Designer', department: 'Design team' },
}

/**
 * Atlassian as documented: the authorize step requires `audience=api.atlassian.com` and
 * `prompt=consent`; the token endpoint takes the credentials in the body, answers a bad code with
 * 403 `invalid_grant` and bad credentials with 401 `access_denied`; refresh tokens (with
 * `offline_access`) rotate; `/me` needs `read:me`.
 */
class AtlassianSimulator extends ProviderSimulator {
  user: Record<string, unknown> = MIA

  override reset(): void {
    super.reset()
    this.user = MIA
  }

  readonly handle = async (req: RecordedRequest): Promise<Reply> => {
    if (req.host === 'auth.atlassian.com' && req.path === '/authorize') {
      const q = req.query
      if (q.get('client_id') !== CLIENT_ID || q.get('redirect_uri') !== REDIRECT_URI) {
        return { status: 400, body: 'Oops! Something went wrong: invalid redirect_uri' }
      }
      if (q.get('audience') !== 'api.atlassian.com' || q.get('prompt') !== 'consent') {
        return this.redirectBack(req, {
          error: 'invalid_request',
          error_description: 'audience is required',
        })
      }
      return this.approve(req, 'User did not authorize the request', ' ')
    }
    if (req.host === 'auth.atlassian.com' && req.method === 'POST' && req.path === TOKEN_PATH) {
      return this.#token(req)
    }
    if (req.host === 'api.atlassian.com' && req.path === '/me') {
      const grant = this.issued.byAccessToken(bearerToken(req.headers))
      if (!grant?.scopes.includes('read:me'))
        return { status: 401, json: { code: 401, message: 'Unauthorized' } }
      return { json: this.user }
    }
    return { status: 404, json: { code: 404, message: 'Not Found' } }
  }

  async #token(req: RecordedRequest): Promise<Reply> {
    if (!this.postAuthenticated(req)) {
      return { status: 401, json: { error: 'access_denied', error_description: 'Unauthorized' } }
    }
    const form = req.form
    const invalid = (description: string): Reply => ({
      status: 403,
      json: { error: 'invalid_grant', error_description: description },
    })
    let scopes: readonly string[]
    if (form.get('grant_type') === 'authorization_code') {
      const result = await this.redeem(form)
      if (!result.ok) return invalid('Invalid authorization code')
      scopes = result.grant.scopes
    } else if (form.get('grant_type') === 'refresh_token') {
      const old = this.issued.byRefreshToken(form.get('refresh_token'))
      if (!old) return invalid('Unknown or invalid refresh token.')
      old.revoked = true // rotating refresh tokens
      scopes = old.scopes
    } else {
      return { status: 403, json: { error: 'unsupported_grant_type' } }
    }
    const grant = this.issued.issue(scopes)
    return {
      json: {
        access_token: grant.accessToken,
        expires_in: 3600,
        token_type: 'Bearer',
        scope: scopes.join(' '),
        ...(scopes.includes('offline_access') ? { refresh_token: grant.refreshToken } : {}),
      },
    }
  }
}

const isToken = (r: RecordedRequest) => r.method === 'POST' && r.path === TOKEN_PATH

describe('atlassian() against a local Atlassian', () => {
  const sim = new AtlassianSimulator(REGISTRATION)
  const local = useLocalProvider(sim, {
    origins: ['https://auth.atlassian.com', 'https://api.atlassian.com'],
    config: () => atlassian(REGISTRATION),
  })

  it('builds the 3LO authorization URL: audience, prompt=consent, read:me, PKCE', async () => {
    const start = await local.flow.initiateLogin()
    await assertAuthorizationUrl(start, {
      endpoint: 'https://auth.atlassian.com/authorize',
      ...REGISTRATION,
      scope: 'read:me',
    })
    assert.equal(start.url.searchParams.get('audience'), 'api.atlassian.com')
    assert.equal(start.url.searchParams.get('prompt'), 'consent')
  })

  it('logs in with the credentials in the body; an email without a flag is unverified', async () => {
    const login = await local.completeLogin()
    const { identity, tokens } = login
    assert.equal(identity.subject, MIA.account_id)
    assert.equal(identity.name, 'Mia Krystof')
    assert.equal(identity.username, 'mkrystof')
    assert.equal(identity.picture, MIA.picture)
    assert.equal(identity.email, 'mia@example.com')
    assert.equal(identity.emailVerified, false)
    assert.equal(tokens.refreshToken, undefined, 'no offline_access, no refresh token')
    const tokenRequest = local.server.requests.find(isToken)!
    assertPostClientAuth(tokenRequest, REGISTRATION)
    assertCodeRedemption(tokenRequest, login, REDIRECT_URI)
    const me = local.server.requests.find((r) => r.host === 'api.atlassian.com')!
    assert.equal(me.headers.authorization, `Bearer ${tokens.accessToken}`)
  })

  it('reports the email verified only when /me says email_verified: true', async () => {
    sim.user = { ...MIA, email_verified: true }
    assert.equal((await local.completeLogin()).identity.emailVerified, true)
    sim.user = { ...MIA, email_verified: 'true' }
    assert.equal((await local.completeLogin()).identity.emailVerified, false)
  })

  it('refreshes with offline_access; the refresh token rotates', async () => {
    const { tokens } = await local.completeLogin(local.flow, ['read:me', 'offline_access'])
    const renewed = await local.flow.refresh(tokens.refreshToken!)
    assert.ok(renewed.refreshToken)
    assert.notEqual(renewed.refreshToken, tokens.refreshToken)
    assertPostClientAuth(local.server.requests.filter(isToken)[1]!, REGISTRATION)
    await assert.rejects(
      local.flow.refresh(tokens.refreshToken!),
      code('token_error', 'invalid_grant', (err) => assert.equal(err.status, 403)),
    )
  })

  it('surfaces a replayed code (403 invalid_grant) and a wrong secret (401 access_denied)', async () => {
    const login = await local.completeLogin()
    await assert.rejects(
      login.finalize(),
      code('token_error', 'invalid_grant', (err) => assert.equal(err.status, 403)),
    )
    const wrong = local.flowFor(atlassian({ ...REGISTRATION, clientSecret: 'wrong' }))
    await assert.rejects(
      (await local.login(wrong)).finalize(),
      code('token_error', 'access_denied', (err) => assert.equal(err.status, 401)),
    )
    const basic = local.flowFor(
      atlassian({ ...REGISTRATION, clientAuthMethod: 'client_secret_basic' }),
    )
    await assert.rejects(
      (await local.login(basic)).finalize(),
      code('token_error', 'access_denied'),
    )
  })

  it('fails with provider_bad_response when /me refuses the token (no read:me)', async () => {
    await assert.rejects(
      (await local.login(local.flow, ['read:jira-user'])).finalize(),
      code('provider_bad_response', undefined, (err) => assert.equal(err.status, 401)),
    )
  })
})
