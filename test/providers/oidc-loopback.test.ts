/**
 * The generic `oidc()` provider against a simulated OpenID Provider on loopback (see
 * helpers/oidc-simulator.ts, which the OIDC providers' tests build on): discovery, the ID token
 * verified against the JWKS with its nonce and at_hash, userinfo, refresh and revocation.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { oidc } from '../../src/providers/oidc.ts'
import { code } from '../helpers/assert-code.ts'
import { parseBasicAuth, type RecordedRequest } from './helpers/local-provider-server.ts'
import { OidcSimulator } from './helpers/oidc-simulator.ts'
import { assertCodeRedemption, useLocalProvider } from './helpers/simulator-harness.ts'

const ISSUER = 'https://id.example.org/tenant-7'
const REGISTRATION = {
  clientId: 'app-1',
  clientSecret: 'secret:one/two',
  redirectUri: 'https://app.example/auth/callback/oidc',
}

const sim = new OidcSimulator(REGISTRATION, {
  issuer: ISSUER,
  endpoints: {
    authorization: `${ISSUER}/authorize`,
    token: 'https://api.example.org/oauth/token',
    jwks: 'https://keys.example.org/jwks.json',
    userinfo: 'https://api.example.org/userinfo',
    revocation: 'https://api.example.org/oauth/revoke',
  },
  clientAuth: ['client_secret_basic'],
})

const isToken = (r: RecordedRequest) => r.host === 'api.example.org' && r.path === '/oauth/token'

describe('oidc() against a simulated OpenID Provider on loopback', () => {
  const local = useLocalProvider(sim, {
    origins: sim.origins,
    config: () => oidc({ issuer: ISSUER, ...REGISTRATION }),
  })
  const resetUser = () => {
    sim.idTokenClaims = { sub: 'u-1', email: 'ada@example.org', email_verified: true }
    sim.userinfoClaims = { sub: 'u-1', name: 'Ada Lovelace', email: 'ada@example.org' }
  }

  it('logs in from discovery: ID token verified, userinfo merged, Basic client auth', async () => {
    resetUser()
    const login = await local.completeLogin()
    assert.equal(login.identity.provider, 'oidc')
    assert.equal(login.identity.subject, 'u-1')
    assert.equal(login.identity.email, 'ada@example.org')
    assert.equal(login.identity.emailVerified, true)
    assert.equal(login.identity.name, 'Ada Lovelace')
    const tokenRequest = local.server.requests.filter(isToken)[0]!
    assert.equal(parseBasicAuth(tokenRequest.headers.authorization)?.clientId, 'app-1')
    assertCodeRedemption(tokenRequest, login, REGISTRATION.redirectUri)
    assert.equal(
      local.server.count((r) => r.host === 'keys.example.org'),
      1,
    )
  })

  it('refuses an ID token for another subject than userinfo', async () => {
    resetUser()
    sim.userinfoClaims = { sub: 'someone-else' }
    const login = await local.login()
    await assert.rejects(login.finalize(), code('userinfo_subject_mismatch'))
  })

  it('refuses an ID token from another issuer', async () => {
    resetUser()
    sim.idTokenClaims = { ...sim.idTokenClaims, iss: 'https://id.example.org/tenant-8' }
    const login = await local.login()
    await assert.rejects(login.finalize(), code('id_token_claim_invalid'))
  })

  it('refreshes (the old refresh token is spent) and revokes', async () => {
    resetUser()
    const { tokens } = await local.completeLogin()
    const renewed = await local.flow.refresh(tokens.refreshToken!)
    assert.notEqual(renewed.accessToken, tokens.accessToken)
    await assert.rejects(
      local.flow.refresh(tokens.refreshToken!),
      code('token_error', 'invalid_grant'),
    )
    await local.flow.revoke(renewed.accessToken)
    assert.equal(sim.liveAccessToken(renewed.accessToken), undefined)
  })

  it('reports a token endpoint that refuses the client as invalid_client', async () => {
    resetUser()
    const wrong = local.flowFor(oidc({ issuer: ISSUER, ...REGISTRATION, clientSecret: 'nope' }))
    const login = await local.login(wrong)
    await assert.rejects(
      login.finalize(),
      code('token_error', 'invalid_client', (err) => assert.equal(err.status, 401)),
    )
  })
})
