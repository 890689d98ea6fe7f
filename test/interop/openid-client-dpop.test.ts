// Interop: openid-client v6 with DPoP (RFC 9449) against the dev IdP with nonces required and a
// public client registered with dpop_bound_access_tokens. openid-client makes the proofs, retries
// on use_dpop_nonce, and checks token_type DPoP; our OP binds the tokens (cnf.jkt), the
// refresh token of the public client to the key, and userinfo takes the DPoP scheme. Another
// key at refresh, or the token sent as Bearer, are refused.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import * as client from 'openid-client'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from './helpers/dev-idp.ts'

const REDIRECT_URI = 'https://rp.example/cb'
const ALICE = { username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } }

let running: InteropIdp
before(async () => {
  running = await startInteropIdp(
    {
      clients: [
        {
          client_id: 'dpop-public',
          token_endpoint_auth_method: 'none',
          redirect_uris: [REDIRECT_URI],
          skip_consent: true,
          dpop_bound_access_tokens: true,
        },
      ],
      users: [ALICE],
      dpop: { nonce: 'required', nonceSecret: 'nonce-secret-0123456789abcdefghijkl' },
    },
    'authkestra-interop-dpop-',
  )
})
after(() => running?.close())

describe('openid-client v6 DPoP() against the dev IdP (nonces required)', () => {
  it('code + PKCE with DPoP: bound tokens, userinfo with DPoP, refresh with the key only', async () => {
    const config = await client.discovery(running.issuer, 'dpop-public', {}, client.None(), {
      execute: [client.allowInsecureRequests],
    })
    assert.deepEqual(config.serverMetadata().dpop_signing_alg_values_supported, [
      'ES256',
      'PS256',
      'EdDSA',
      'Ed25519',
      'RS256',
      'ES384',
    ])
    const keyPair = await client.randomDPoPKeyPair('ES256')
    const DPoP = client.getDPoPHandle(config, keyPair)
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
    const tokens = await client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      undefined,
      { DPoP },
    )
    assert.equal(tokens.token_type.toLowerCase(), 'dpop')
    const cnf = decodeJwt(tokens.access_token).cnf as { jkt: string }
    assert.equal(typeof cnf.jkt, 'string')
    const sub = tokens.claims()?.sub ?? ''

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP })
    assert.equal(userinfo.email, ALICE.claims.email)
    const resource = await client.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL(`${running.issuer.origin}/userinfo`),
      'GET',
      undefined,
      undefined,
      { DPoP },
    )
    assert.equal(resource.status, 200)

    // Presented as a bearer token, the bound token is refused.
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, sub))

    const refreshed = await client.refreshTokenGrant(
      config,
      tokens.refresh_token ?? '',
      undefined,
      {
        DPoP,
      },
    )
    assert.equal(refreshed.token_type.toLowerCase(), 'dpop')
    assert.deepEqual(decodeJwt(refreshed.access_token).cnf, cnf)

    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
    await assert.rejects(
      client.refreshTokenGrant(config, refreshed.refresh_token ?? '', undefined, { DPoP: thief }),
      (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err))
        assert.equal(err.error, 'invalid_grant')
        return true
      },
    )
    await assert.rejects(
      client.refreshTokenGrant(config, refreshed.refresh_token ?? ''),
      (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err))
        assert.equal(err.error, 'invalid_dpop_proof')
        return true
      },
    )
  })
})
