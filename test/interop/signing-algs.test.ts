// Interop: openid-client 6 (panva) as the client of our dev IdP signing with four algorithms at
// once. Three clients ask for PS256, RS256 and EdDSA ID tokens (id_token_signed_response_alg on
// both sides); openid-client verifies each ID token's signature through our JWKS
// (non-repudiation checks) and its alg against the client's metadata, after the code exchange
// and after a refresh. A client expecting another alg than the OP signs with is refused by
// openid-client, so the alg check is real. One client has refresh_token_rotation "none".
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import * as client from 'openid-client'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const SCOPE = 'openid profile offline_access'
const ALICE = { username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }
const ALGS = ['PS256', 'RS256', 'EdDSA'] as const
const secret = (alg: string) => `rp-${alg.toLowerCase()}-secret-0123456789abcdefghij`

const FILE = {
  signingAlgs: ['ES256', 'RS256', 'PS256', 'EdDSA'],
  clients: [
    ...ALGS.map((alg) => ({
      client_id: `rp-${alg}`,
      client_secret: secret(alg),
      redirect_uris: [REDIRECT_URI],
      skip_consent: true,
      id_token_signed_response_alg: alg,
      ...(alg === 'PS256' ? { refresh_token_rotation: 'none' } : {}),
    })),
  ],
  users: [ALICE],
}

const options = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] }
let running: InteropIdp

before(async () => {
  running = await startInteropIdp(FILE, 'authkestra-interop-algs-')
})
after(async () => {
  await running?.close()
})

const discover = (alg: string, expected: string = alg) =>
  client.discovery(
    running.issuer,
    `rp-${alg}`,
    { id_token_signed_response_alg: expected },
    client.ClientSecretBasic(secret(alg)),
    options,
  )

async function codeCallback(config: client.Configuration) {
  const verifier = client.randomPKCECodeVerifier()
  const nonce = client.randomNonce()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  const { callback } = await loginThroughForm(url, { ...ALICE, consent: 'allow' })
  return {
    callback,
    checks: { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state },
  }
}

describe('openid-client 6 against our OP: ID-token algorithm per client', () => {
  it('discovery lists every algorithm the OP signs with', async () => {
    const config = await discover('PS256')
    assert.deepEqual(config.serverMetadata().id_token_signing_alg_values_supported, [
      'ES256',
      'RS256',
      'PS256',
      'EdDSA',
    ])
  })

  for (const alg of ALGS) {
    it(`${alg}: openid-client verifies the ID token of the code exchange and of a refresh`, async () => {
      const config = await discover(alg)
      const { callback, checks } = await codeCallback(config)
      const tokens = await client.authorizationCodeGrant(config, callback, checks)
      assert.equal(decodeProtectedHeader(tokens.id_token ?? '').alg, alg)
      assert.equal(tokens.claims()?.aud, `rp-${alg}`)
      assert.equal(tokens.claims()?.name, ALICE.claims.name)
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? '')
      assert.equal(decodeProtectedHeader(refreshed.id_token ?? '').alg, alg)
      assert.equal(refreshed.claims()?.sub, tokens.claims()?.sub)
      if (alg === 'PS256') {
        // refresh_token_rotation "none": no successor; the same token works again.
        assert.equal(refreshed.refresh_token, undefined)
        const again = await client.refreshTokenGrant(config, tokens.refresh_token ?? '')
        assert.ok(again.access_token)
      } else {
        assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token)
      }
    })
  }

  it('openid-client refuses an ID token whose alg is not the one its client expects', async () => {
    const config = await discover('PS256', 'RS256')
    const { callback, checks } = await codeCallback(config)
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, checks),
      (err: unknown) => {
        assert.ok(err instanceof client.ClientError, `expected a ClientError, got ${err}`)
        assert.equal(err.code, 'OAUTH_INVALID_RESPONSE')
        assert.match(String((err.cause as Error | undefined)?.message), /unexpected JWT "alg"/)
        return true
      },
    )
  })
})
