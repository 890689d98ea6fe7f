// Interop: openid-client v6 with PrivateKeyJwt() against the dev IdP, over loopback HTTP, with a
// client registered as private_key_jwt with its public keys in `jwks`: authorization code +
// PKCE, refresh and client credentials, each authenticated by openid-client's own assertions
// (aud = our issuer), for ES256, PS256, EdDSA and RS256. The same client signing with a key we
// do not know is refused with invalid_client.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import * as client from 'openid-client'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const ALICE = { username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } }
const ALGS = ['ES256', 'PS256', 'EdDSA', 'RS256'] as const

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
    jwks.push({ ...(await exportJWK(publicKey)), kid: `k-${alg}`, alg })
  }
  running = await startInteropIdp(
    {
      clients: [
        {
          client_id: 'signed-rp',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: jwks },
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
          skip_consent: true,
        },
      ],
      users: [ALICE],
    },
    'authkestra-interop-pkjwt-',
  )
})
after(() => running?.close())

const configFor = (key: CryptoKey, kid: string) =>
  client.discovery(running.issuer, 'signed-rp', {}, client.PrivateKeyJwt({ key, kid }), {
    execute: [client.allowInsecureRequests],
  })

describe('openid-client v6 PrivateKeyJwt() against the dev IdP', () => {
  for (const alg of ALGS) {
    it(`code + PKCE, refresh and client credentials with ${alg} assertions`, async () => {
      const config = await configFor(keys.get(alg) as CryptoKey, `k-${alg}`)
      const meta = config.serverMetadata()
      assert.ok(meta.token_endpoint_auth_methods_supported?.includes('private_key_jwt'))
      assert.ok(meta.token_endpoint_auth_signing_alg_values_supported?.includes(alg))
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid email offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      })
      const { callback } = await loginThroughForm(url, ALICE)
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      })
      assert.equal(tokens.claims()?.email, ALICE.claims.email)
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? '')
      assert.equal(typeof refreshed.access_token, 'string')
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token)
      const service = await client.clientCredentialsGrant(config)
      assert.equal(typeof service.access_token, 'string')
    })
  }

  it('assertions signed by an unregistered key are invalid_client', async () => {
    const { privateKey } = await generateKeyPair('ES256')
    const config = await configFor(privateKey, 'k-ES256')
    await assert.rejects(client.clientCredentialsGrant(config), (err: unknown) => {
      assert.ok(err instanceof client.ResponseBodyError, String(err))
      assert.equal(err.error, 'invalid_client')
      assert.equal(err.status, 401)
      return true
    })
  })
})
