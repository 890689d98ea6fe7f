/**
 * The Bitbucket Cloud provider against a local server that follows Bitbucket's OAuth 2.0 and
 * REST 2.0 documentation (authorize and token on `bitbucket.org`, `/2.0/user` and
 * `/2.0/user/emails` on `api.bitbucket.org`).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bitbucket } from '../../src/providers/bitbucket.ts'
import { code } from '../helpers/assert-code.ts'
import { bearerToken, type RecordedRequest, type Reply } from './helpers/local-provider-server.ts'
import {
  assertBasicClientAuth,
  assertCodeRedemption,
  ProviderSimulator,
  type SimulatedGrant,
  useLocalProvider,
} from './helpers/simulator-harness.ts'

const CLIENT_ID = 'bbKey12345abcde'
const CLIENT_SECRET = 'bb-secret:0123456789+/='
const REDIRECT_URI = 'https://app.example/auth/callback/bitbucket'
const REGISTRATION = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }
const TOKEN_PATH = '/site/oauth2/access_token'

const EVAN = {
  type: 'user',
  uuid: '{d301aafa-d676-4ee0-88be-962be7417567}',
  account_id: '557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443',
  nickname: 'evzijst',
  display_name: 'Erik van Zijst',
  links: { avatar: { href: 'https://avatar-management.example/initials/EZ-1.png' } },
}

type Email = { email: string; is_primary: boolean; is_confirmed: boolean; type: 'email' }
const EMAILS: Email[] = [
  { email: 'erik@old.example', is_primary: false, is_confirmed: true, type: 'email' },
  { email: 'erik@bitbucket.example', is_primary: true, is_confirmed: true, type: 'email' },
]

/**
 * Bitbucket as documented: HTTP Basic at the token endpoint, the granted permissions in a
 * `scopes` member (not `scope`), refresh with the same refresh token; `/2.0/user/emails` is a
 * page (`values`) and needs the `email` permission, answering 403 without it; errors are
 * `{ type: 'error', error: { message } }` at the API.
 */
class BitbucketSimulator extends ProviderSimulator {
  /** The permissions ticked on the consumer. */
  permissions = ['account', 'email']
  emails: Email[] = EMAILS

  override reset(): void {
    super.reset()
    this.permissions = ['account', 'email']
    this.emails = EMAILS
  }

  readonly handle = async (req: RecordedRequest): Promise<Reply> => {
    if (req.host === 'bitbucket.org' && req.path === '/site/oauth2/authorize') {
      if (req.query.get('client_id') !== CLIENT_ID) return { status: 400, body: 'Invalid consumer' }
      req.query.set('scope', this.permissions.join(' '))
      return this.approve(req, 'The user denied access.', ' ')
    }
    if (req.host === 'bitbucket.org' && req.method === 'POST' && req.path === TOKEN_PATH) {
      return this.#token(req)
    }
    if (req.host === 'api.bitbucket.org') return this.#api(req)
    return { status: 404, body: 'Not found' }
  }

  async #token(req: RecordedRequest): Promise<Reply> {
    const error = (status: number, err: string, description: string): Reply => ({
      status,
      json: { error: err, error_description: description },
    })
    if (!this.basicAuthenticated(req))
      return error(401, 'invalid_client', 'Client credentials missing')
    const form = req.form
    let grant: SimulatedGrant
    if (form.get('grant_type') === 'authorization_code') {
      const result = await this.redeem(form)
      if (!result.ok) return error(400, 'invalid_grant', 'The specified code is not valid.')
      grant = this.issued.issue(result.grant.scopes)
    } else if (form.get('grant_type') === 'refresh_token') {
      const old = this.issued.byRefreshToken(form.get('refresh_token'))
      if (!old) return error(400, 'invalid_grant', 'Invalid refresh_token')
      grant = this.issued.issue(old.scopes)
      Object.assign(grant, { refreshToken: old.refreshToken })
    } else {
      return error(400, 'unsupported_grant_type', 'Unsupported grant type')
    }
    return {
      json: {
        access_token: grant.accessToken,
        scopes: grant.scopes.join(' '),
        expires_in: 7200,
        refresh_token: grant.refreshToken,
        token_type: 'bearer',
        state: form.get('grant_type'),
      },
    }
  }

  #api(req: RecordedRequest): Reply {
    const grant = this.issued.byAccessToken(bearerToken(req.headers))
    if (!grant) {
      return { status: 401, json: { type: 'error', error: { message: 'Access token expired.' } } }
    }
    if (req.path === '/2.0/user') return { json: EVAN }
    if (req.path === '/2.0/user/emails') {
      if (!grant.scopes.includes('email')) {
        return {
          status: 403,
          json: {
            type: 'error',
            error: {
              message: 'Your credentials lack one or more required privilege scopes.',
              detail: { granted: grant.scopes, required: ['email'] },
            },
          },
        }
      }
      return { json: { pagelen: 10, values: this.emails, page: 1, size: this.emails.length } }
    }
    return { status: 404, json: { type: 'error', error: { message: 'Resource not found' } } }
  }
}

const isToken = (r: RecordedRequest) => r.method === 'POST' && r.path === TOKEN_PATH

describe('bitbucket() against a local Bitbucket Cloud', () => {
  const sim = new BitbucketSimulator(REGISTRATION)
  const local = useLocalProvider(sim, {
    origins: ['https://bitbucket.org', 'https://api.bitbucket.org'],
    config: () => bitbucket(REGISTRATION),
  })

  it('logs in: uuid subject, the confirmed primary email from /2.0/user/emails', async () => {
    const login = await local.completeLogin()
    const { identity, tokens } = login
    assert.equal(login.url.searchParams.get('scope'), null, 'the consumer’s permissions apply')
    assert.equal(identity.subject, EVAN.uuid)
    assert.equal(identity.username, 'evzijst')
    assert.equal(identity.name, 'Erik van Zijst')
    assert.equal(identity.picture, EVAN.links.avatar.href)
    assert.equal(identity.email, 'erik@bitbucket.example')
    assert.equal(identity.emailVerified, true)
    assert.equal(tokens.scope, undefined, 'Bitbucket names them `scopes`')
    assert.equal(tokens.raw.scopes, 'account email')
    const tokenRequest = local.server.requests.find(isToken)!
    assertBasicClientAuth(tokenRequest, REGISTRATION)
    assertCodeRedemption(tokenRequest, login, REDIRECT_URI)
    const api = local.server.requests.filter((r) => r.host === 'api.bitbucket.org')
    assert.deepEqual(
      api.map((r) => r.path),
      ['/2.0/user', '/2.0/user/emails'],
    )
    for (const r of api) assert.equal(r.headers.authorization, `Bearer ${tokens.accessToken}`)
  })

  it('reports an unconfirmed primary address as unverified, and takes no other address', async () => {
    sim.emails = [
      { email: 'primary@x.example', is_primary: true, is_confirmed: false, type: 'email' },
      { email: 'other@x.example', is_primary: false, is_confirmed: true, type: 'email' },
    ]
    const { identity } = await local.completeLogin()
    assert.equal(identity.email, null)
    assert.equal(identity.emailVerified, false)
  })

  it('logs in without an email when the consumer lacks the email permission (403)', async () => {
    sim.permissions = ['account']
    const { identity } = await local.completeLogin()
    assert.equal(identity.subject, EVAN.uuid)
    assert.equal(identity.email, null)
    assert.equal(identity.emailVerified, false)
  })

  it('surfaces a bad code and wrong credentials as token_error', async () => {
    const login = await local.completeLogin()
    await assert.rejects(
      login.finalize(),
      code('token_error', 'invalid_grant', (err) =>
        assert.equal(err.oauthErrorDescription, 'The specified code is not valid.'),
      ),
    )
    const post = local.flowFor(
      bitbucket({ ...REGISTRATION, clientAuthMethod: 'client_secret_post' }),
    )
    await assert.rejects(
      (await local.login(post)).finalize(),
      code('token_error', 'invalid_client'),
    )
  })

  it('refreshes with HTTP Basic, keeping the refresh token', async () => {
    const { tokens } = await local.completeLogin()
    const renewed = await local.flow.refresh(tokens.refreshToken!)
    assert.notEqual(renewed.accessToken, tokens.accessToken)
    assert.equal(renewed.refreshToken, tokens.refreshToken)
    assertBasicClientAuth(local.server.requests.filter(isToken)[1]!, REGISTRATION)
  })

  it('fails with provider_bad_response when the API refuses the token', async () => {
    sim.issued.revokeOnIssue = true
    await assert.rejects(
      (await local.login()).finalize(),
      code('provider_bad_response', undefined, (err) => assert.equal(err.status, 401)),
    )
  })
})
