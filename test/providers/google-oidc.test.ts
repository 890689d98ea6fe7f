/**
 * The Google and generic OIDC descriptors: what they declare, without a provider server. Google's
 * authorization URL is checked with an in-memory discovery document.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import type { AuthorizedGet } from '../../src/client/provider-config.ts'
import { google } from '../../src/providers/google.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { code } from '../helpers/assert-code.ts'

const REDIRECT_URI = 'https://app.example/auth/callback/google'
const GOOGLE = 'https://accounts.google.com'

const noGet: AuthorizedGet = async () => {
  throw new Error('enrichClaims must not call the API')
}

/** A fetch that only serves Google's discovery document, recording what was asked. */
function discoveryOnlyFetch(asked: string[]): typeof fetch {
  const doc = {
    issuer: GOOGLE,
    authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    token_endpoint: 'https://oauth2.googleapis.com/token',
    userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
    revocation_endpoint: 'https://oauth2.googleapis.com/revoke',
    jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
    response_types_supported: ['code', 'token', 'id_token'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['plain', 'S256'],
  }
  return (async (input: string | URL | Request) => {
    const url = input instanceof Request ? input.url : String(input)
    asked.push(url)
    if (url !== `${GOOGLE}/.well-known/openid-configuration`) {
      throw new TypeError(`unexpected fetch of ${url}`)
    }
    return new Response(JSON.stringify(doc), {
      headers: { 'content-type': 'application/json' },
    })
  }) as typeof fetch
}

describe('google()', () => {
  const base = { clientId: 'google-client.apps.googleusercontent.com', redirectUri: REDIRECT_URI }

  it('is an OIDC provider at https://accounts.google.com, endpoints from discovery', () => {
    const config = google(base)
    assert.equal(config.id, 'google')
    assert.equal(config.name, 'Google')
    assert.equal(config.issuer, GOOGLE)
    assert.equal(config.authorizationEndpoint, undefined)
    assert.equal(config.tokenEndpoint, undefined)
    assert.deepEqual(config.scopes, ['openid', 'profile', 'email'])
    assert.ok(config.quirks?.idTokenIssuerAliases?.includes('accounts.google.com'))
    assert.equal(config.authorizationParams, undefined)
    assert.equal(config.enrichClaims, undefined)
    assert.equal(config.clientSecret, undefined)
  })

  it('keeps the registration options (id, secret, scopes, client auth)', () => {
    const config = google({
      ...base,
      id: 'google-work',
      clientSecret: 'GOCSPX-secret',
      scopes: ['openid', 'email'],
      clientAuthMethod: 'client_secret_post',
    })
    assert.equal(config.id, 'google-work')
    assert.equal(config.clientSecret, 'GOCSPX-secret')
    assert.deepEqual(config.scopes, ['openid', 'email'])
    assert.equal(config.clientAuthMethod, 'client_secret_post')
  })

  it("turns accessType 'offline' into access_type=offline", () => {
    assert.deepEqual(google({ ...base, accessType: 'offline' }).authorizationParams, {
      access_type: 'offline',
    })
  })

  it('checks the hd claim when hostedDomain is set', async () => {
    const config = google({ ...base, hostedDomain: 'example.com' })
    assert.equal(config.authorizationParams?.hd, 'example.com')
    const enrich = config.enrichClaims
    assert.ok(enrich)
    const matching = { sub: '1', hd: 'example.com', email: 'a@example.com' }
    assert.deepEqual(await enrich(matching, noGet), matching)
    await assert.rejects(enrich({ sub: '1', hd: 'evil.example' }, noGet), code('identity_invalid'))
    await assert.rejects(enrich({ sub: '1' }, noGet), code('identity_invalid'))
    await assert.rejects(
      enrich({ sub: '1', hd: 'sub.example.com' }, noGet),
      code('identity_invalid'),
    )
    // domains compare case-insensitively
    await enrich({ sub: '1', hd: 'Example.COM' }, noGet)
  })

  it("hostedDomain '*' accepts any Workspace account and refuses consumer accounts", async () => {
    const enrich = google({ ...base, hostedDomain: '*' }).enrichClaims
    assert.ok(enrich)
    await enrich({ sub: '1', hd: 'any.example' }, noGet)
    await assert.rejects(enrich({ sub: '1' }, noGet), code('identity_invalid'))
    await assert.rejects(enrich({ sub: '1', hd: '' }, noGet), code('identity_invalid'))
  })

  it('puts access_type, hd, nonce and PKCE on the authorization URL (discovery in memory)', async () => {
    const asked: string[] = []
    const flow = new OAuth2Flow(
      google({ ...base, accessType: 'offline', hostedDomain: 'example.com' }),
      { fetch: discoveryOnlyFetch(asked) },
    )
    assert.equal(flow.id, 'google')
    assert.equal(flow.name, 'Google')
    assert.equal(asked.length, 0, 'discovery is lazy')
    const { url, flowState } = await flow.initiateLogin()
    assert.equal(`${url.origin}${url.pathname}`, 'https://accounts.google.com/o/oauth2/v2/auth')
    const q = url.searchParams
    assert.equal(q.get('access_type'), 'offline')
    assert.equal(q.get('hd'), 'example.com')
    assert.equal(q.get('scope'), 'openid profile email')
    assert.equal(q.get('nonce'), flowState.nonce)
    assert.equal(q.get('state'), flowState.state)
    assert.equal(q.get('code_challenge_method'), 'S256')
    assert.ok(q.get('code_challenge'))
    assert.deepEqual(asked, [`${GOOGLE}/.well-known/openid-configuration`])
    const provider = await flow.provider()
    assert.equal(provider.issuer, GOOGLE)
  })
})

describe('oidc()', () => {
  const base = {
    issuer: 'https://id.example.com',
    clientId: 'my-app',
    redirectUri: 'https://app.example/auth/callback/oidc',
  }

  it("defaults to id 'oidc' and the scopes openid profile email", () => {
    const config = oidc(base)
    assert.equal(config.id, 'oidc')
    assert.equal(config.issuer, 'https://id.example.com')
    assert.deepEqual(config.scopes, ['openid', 'profile', 'email'])
    assert.equal(config.clientId, 'my-app')
    assert.equal(config.redirectUri, 'https://app.example/auth/callback/oidc')
    for (const absent of [
      'name',
      'authorizationParams',
      'allowInsecureHttp',
      'clientSecret',
      'clientAuthMethod',
      'authorizationEndpoint',
    ]) {
      assert.equal(absent in config, false, `"${absent}" is not set`)
    }
    const flow = new OAuth2Flow(config)
    assert.equal(flow.id, 'oidc')
    assert.equal(flow.name, 'oidc')
  })

  it('passes the options that are set', () => {
    const config = oidc({
      ...base,
      id: 'acme',
      name: 'Acme ID',
      scopes: ['openid'],
      clientSecret: 's3cret',
      authorizationParams: { prompt: 'login' },
      allowInsecureHttp: true,
    })
    assert.equal(config.id, 'acme')
    assert.equal(config.name, 'Acme ID')
    assert.deepEqual(config.scopes, ['openid'])
    assert.equal(config.clientSecret, 's3cret')
    assert.deepEqual(config.authorizationParams, { prompt: 'login' })
    assert.equal(config.allowInsecureHttp, true)
  })
})
