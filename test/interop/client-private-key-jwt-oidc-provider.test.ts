// Interop: our client's private_key_jwt against oidc-provider v9, one client per algorithm
// (ES256, PS256, EdDSA, RS256) registered with token_endpoint_auth_method private_key_jwt and
// its public key in `jwks`. Each logs in (code exchange authenticated by our assertion, aud =
// the issuer), refreshes, gets a client-credentials token and revokes it; the key given as a
// private JWK works as well as a CryptoKey. A client signing with a key oidc-provider does not
// know gets invalid_client.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import type { ClientPrivateJwk } from '../../src/client/client-assertion.ts'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'

const REDIRECT = 'http://127.0.0.1:3999/cb'
const ALGS = ['ES256', 'PS256', 'EdDSA', 'RS256'] as const

describe('interop: our client with private_key_jwt against oidc-provider v9', () => {
  let op: RunningOidcProvider
  const privateKeys = new Map<string, CryptoKey>()

  before(async () => {
    const clients = []
    for (const alg of ALGS) {
      const { privateKey, publicKey } = await generateKeyPair(alg, {
        extractable: true,
        ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
      })
      privateKeys.set(alg, privateKey)
      clients.push({
        client_id: `pk-${alg}`,
        token_endpoint_auth_method: 'private_key_jwt' as const,
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: `kid-${alg}`, use: 'sig' }] },
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      })
    }
    op = await startOidcProvider({
      clients,
      configuration: {
        features: {
          devInteractions: { enabled: false },
          clientCredentials: { enabled: true },
          revocation: { enabled: true },
        },
      },
    })
  })

  after(async () => {
    await op?.close()
    assert.deepEqual(op?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
  })

  const flowFor = (alg: string, key: CryptoKey | ClientPrivateJwk, kid?: string) =>
    new OAuth2Flow(
      oidc({
        id: 'op',
        issuer: op.issuer,
        clientId: `pk-${alg}`,
        redirectUri: REDIRECT,
        clientPrivateKey: key,
        ...(kid === undefined ? {} : { clientKeyId: kid }),
      }),
    )

  for (const alg of ALGS) {
    it(`${alg}: login, refresh, client credentials and revocation authenticated by our assertions`, async () => {
      const flow = flowFor(alg, privateKeys.get(alg) as CryptoKey, `kid-${alg}`)
      assert.equal((await flow.provider()).clientAuthMethod, 'private_key_jwt')
      const { url, flowState } = await flow.initiateLogin({
        scopes: ['openid', 'email', 'offline_access'],
        extraParams: { prompt: 'consent' },
      })
      const callback = await followToCallback(url, REDIRECT)
      const { identity, tokens } = await flow.finalizeLogin(callback.href, flowState)
      assert.equal(identity.email, op.accounts[0]?.email)
      assert.ok(tokens.refreshToken)
      const refreshed = await flow.refresh(tokens)
      assert.equal(typeof refreshed.accessToken, 'string')
      const service = await flow.clientCredentials()
      assert.equal(typeof service.accessToken, 'string')
      await flow.revoke(refreshed.refreshToken ?? tokens.refreshToken, {
        tokenTypeHint: 'refresh_token',
      })
      await assert.rejects(
        flow.refresh(refreshed.refreshToken ?? tokens.refreshToken),
        (err: { code?: string; oauthError?: string }) =>
          err.code === 'token_error' && err.oauthError === 'invalid_grant',
      )
    })
  }

  it('a private JWK with kid and alg signs as well', async () => {
    const jwk = await exportJWK(privateKeys.get('PS256') as CryptoKey)
    const flow = flowFor('PS256', { ...jwk, kid: 'kid-PS256', alg: 'PS256' } as ClientPrivateJwk)
    const tokens = await flow.clientCredentials()
    assert.equal(typeof tokens.accessToken, 'string')
  })

  it('a key oidc-provider does not know: invalid_client', async () => {
    const { privateKey } = await generateKeyPair('ES256')
    const flow = flowFor('ES256', privateKey, 'kid-ES256')
    await assert.rejects(
      flow.clientCredentials(),
      (err: { code?: string; oauthError?: string; status?: number }) =>
        err.code === 'token_error' && err.oauthError === 'invalid_client' && err.status === 401,
    )
  })
})
