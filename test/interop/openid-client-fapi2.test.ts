// Interop: openid-client v6 as a FAPI 2.0 client of the dev IdP started with `profile: "fapi2"`:
// PrivateKeyJwt() assertions (aud = our issuer), buildAuthorizationUrlWithPAR (the request
// pushed with a DPoP proof, so the code is bound to the key, RFC 9449 §10.1), PKCE S256, DPoP()
// at the token endpoint and at userinfo, refresh without rotation (FAPI 2.0 §5.3.2.1), and
// client credentials; for PS256, ES256 and EdDSA. Then what the profile refuses, through the
// same client: a request that was not pushed, a token request without a DPoP proof, a bound
// token presented as Bearer, and assertions signed with RS256.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt, exportJWK, generateKeyPair } from 'jose'
import * as client from 'openid-client'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const ALICE = { username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } }
const ALGS = ['PS256', 'ES256', 'EdDSA', 'RS256'] as const

const keys = new Map<string, CryptoKey>()
let running: InteropIdp
before(async () => {
  const jwks = []
  for (const alg of ALGS) {
    const { privateKey, publicKey } = await generateKeyPair(
      alg,
      alg === 'EdDSA' ? { crv: 'Ed25519' } : {},
    )
    keys.set(alg, privateKey)
    jwks.push({ ...(await exportJWK(publicKey)), kid: `k-${alg}` })
  }
  running = await startInteropIdp(
    {
      profile: 'fapi2',
      clients: [
        {
          client_id: 'bank-rp',
          jwks: { keys: jwks },
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
          skip_consent: true,
        },
      ],
      users: [ALICE],
    },
    'authkestra-interop-fapi2-',
  )
})
after(() => running?.close())

const configFor = (alg: (typeof ALGS)[number]) =>
  client.discovery(
    running.issuer,
    'bank-rp',
    {},
    client.PrivateKeyJwt({ key: keys.get(alg) as CryptoKey, kid: `k-${alg}` }),
    { execute: [client.allowInsecureRequests] },
  )

async function pushedLogin(config: client.Configuration, DPoP: client.DPoPHandle) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    },
    { DPoP },
  )
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
  const { callback } = await loginThroughForm(url, ALICE)
  return { callback, verifier, state }
}

describe('openid-client v6 against the dev IdP in the FAPI 2.0 profile', () => {
  it('advertises only what the profile allows', async () => {
    const meta = (await configFor('ES256')).serverMetadata()
    assert.equal(meta.require_pushed_authorization_requests, true)
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['private_key_jwt'])
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['ES256', 'PS256'])
    assert.deepEqual(meta.dpop_signing_alg_values_supported, ['PS256', 'ES256', 'EdDSA', 'Ed25519'])
    assert.equal(meta.authorization_response_iss_parameter_supported, true)
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256'])
    assert.equal(meta.device_authorization_endpoint, undefined)
  })

  for (const alg of ['PS256', 'ES256', 'EdDSA'] as const) {
    it(`PAR + PKCE + DPoP + private_key_jwt (${alg}): bound tokens, userinfo, refresh without rotation`, async () => {
      const config = await configFor(alg)
      const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair(alg))
      const { callback, verifier, state } = await pushedLogin(config, DPoP)
      assert.equal(callback.searchParams.get('iss'), running.issuer.href.replace(/\/$/, ''))
      const tokens = await client.authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: verifier, expectedState: state },
        undefined,
        { DPoP },
      )
      assert.equal(tokens.token_type, 'dpop')
      const claims = decodeJwt(tokens.access_token)
      assert.equal(typeof (claims.cnf as { jkt?: unknown })?.jkt, 'string')
      const sub = tokens.claims()?.sub ?? ''
      const info = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP })
      assert.equal(info.email, ALICE.claims.email)
      // No rotation (FAPI 2.0 §5.3.2.1): no new refresh token, and the one held keeps working.
      for (let i = 0; i < 2; i++) {
        const refreshed = await client.refreshTokenGrant(
          config,
          tokens.refresh_token ?? '',
          undefined,
          { DPoP },
        )
        assert.equal(refreshed.token_type, 'dpop')
        assert.equal(refreshed.refresh_token, undefined)
      }
      const service = await client.clientCredentialsGrant(config, undefined, { DPoP })
      assert.equal(service.token_type, 'dpop')
    })
  }

  it('refuses an authorization request that was not pushed', async () => {
    const config = await configFor('ES256')
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    })
    const res = await fetch(url, { redirect: 'manual' })
    assert.equal(res.status, 303)
    const back = new URL(res.headers.get('location') ?? '')
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI)
    assert.equal(back.searchParams.get('error'), 'invalid_request')
    assert.equal(back.searchParams.get('code'), null)
  })

  it('refuses a token request without a DPoP proof, and a bound token used as Bearer', async () => {
    const config = await configFor('ES256')
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
    const { callback, verifier, state } = await pushedLogin(config, DPoP)
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      }),
      (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err))
        assert.equal(err.status, 400)
        assert.equal(err.error, 'invalid_dpop_proof')
        return true
      },
    )
    const service = await client.clientCredentialsGrant(config, undefined, { DPoP })
    const res = await fetch(new URL('/userinfo', running.issuer), {
      headers: { authorization: `Bearer ${service.access_token}` },
    })
    assert.equal(res.status, 401)
    assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP /)
  })

  it('refuses client assertions signed with RS256 (FAPI 2.0 §5.4.1)', async () => {
    const config = await configFor('RS256')
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
    await assert.rejects(
      client.clientCredentialsGrant(config, undefined, { DPoP }),
      (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err))
        assert.equal(err.status, 401)
        assert.equal(err.error, 'invalid_client')
        return true
      },
    )
  })
})
