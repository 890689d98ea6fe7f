// Interop: our client with `securityProfile: 'fapi2'` against oidc-provider v9 running its own
// FAPI 2.0 profile (features.fapi profile '2.0', which checks PKCE, redirect_uri and that a client
// assertion's aud is the issuer string) with PAR required, DPoP (nonces required) and a
// private_key_jwt client with dpop_bound_access_tokens: the login is pushed (the browser sees
// client_id and request_uri only), the code exchange and userinfo are DPoP-bound, the ID token is
// ES256, refresh keeps the key. Then what our profile refuses on its own: a provider that hands out
// bearer tokens, and a provider that does not advertise DPoP.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../src/client/provider-config.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'

const REDIRECT = 'http://127.0.0.1:3999/cb'

describe('interop: our FAPI 2.0 client against oidc-provider v9 in its FAPI 2.0 profile', () => {
  let op: RunningOidcProvider
  let bearerOp: RunningOidcProvider
  let privateKey: CryptoKey

  before(async () => {
    const pair = await generateKeyPair('PS256', { extractable: true })
    privateKey = pair.privateKey
    const client = {
      client_id: 'bank-rp',
      token_endpoint_auth_method: 'private_key_jwt' as const,
      jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'rp-1', use: 'sig' }] },
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: 'ES256',
    }
    op = await startOidcProvider({
      clients: [{ ...client, dpop_bound_access_tokens: true }],
      configuration: {
        features: {
          devInteractions: { enabled: false },
          fapi: { enabled: true, profile: '2.0' },
          pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
          dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
        },
      },
    })
    // The same provider without DPoP: its tokens are bearer tokens.
    bearerOp = await startOidcProvider({
      clients: [client],
      configuration: {
        features: {
          devInteractions: { enabled: false },
          pushedAuthorizationRequests: { enabled: true },
          dPoP: { enabled: false },
        },
      },
    })
  })

  after(async () => {
    await op?.close()
    await bearerOp?.close()
    assert.deepEqual(op?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
    assert.deepEqual(bearerOp?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
  })

  const config = (issuer: string, patch: Partial<ProviderConfig> = {}): ProviderConfig => ({
    ...oidc({
      id: 'bank',
      issuer,
      clientId: 'bank-rp',
      redirectUri: REDIRECT,
      clientPrivateKey: privateKey,
      clientKeyId: 'rp-1',
      securityProfile: 'fapi2',
    }),
    ...patch,
  })

  it('logs in through PAR with DPoP and private_key_jwt, reads userinfo, refreshes', async () => {
    const flow = new OAuth2Flow(config(op.issuer))
    const provider = await flow.provider()
    assert.ok(provider.parEndpoint)
    assert.equal(provider.issRequired, true)
    assert.deepEqual(provider.idTokenAlgorithms, ['PS256', 'ES256', 'EdDSA'])
    const { url, flowState } = await flow.initiateLogin({
      scopes: ['openid', 'email', 'offline_access'],
      extraParams: { prompt: 'consent' },
    })
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
    const callback = await followToCallback(url, REDIRECT)
    assert.equal(callback.searchParams.get('iss'), op.issuer)
    const { identity, tokens } = await flow.finalizeLogin(callback.href, flowState)
    assert.equal(tokens.tokenType, 'DPoP')
    assert.equal(identity.email, op.accounts[0]?.email, 'userinfo was read with DPoP')
    assert.ok(tokens.refreshToken)
    const refreshed = await flow.refresh(tokens)
    assert.equal(refreshed.tokenType, 'DPoP')
    assert.equal(refreshed.dpopKey?.thumbprint, tokens.dpopKey?.thumbprint)
  })

  it('refuses a provider that does not advertise DPoP, before any request of the user', async () => {
    const flow = new OAuth2Flow(config(bearerOp.issuer))
    await assert.rejects(flow.initiateLogin(), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'discovery_invalid')
      assert.match(err.message ?? '', /does not advertise DPoP/)
      return true
    })
  })

  it('refuses bearer tokens from a provider that ignores the proof', async () => {
    // Told by hand that the provider does DPoP (explicit endpoints, no discovery): it answers
    // Bearer anyway, and the tokens are not used.
    const meta = (await (
      await fetch(`${bearerOp.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, string>
    const flow = new OAuth2Flow(
      config(bearerOp.issuer, {
        discovery: 'none',
        authorizationEndpoint: String(meta.authorization_endpoint),
        tokenEndpoint: String(meta.token_endpoint),
        pushedAuthorizationRequestEndpoint: String(meta.pushed_authorization_request_endpoint),
        jwksUri: String(meta.jwks_uri),
        scopes: ['openid'],
      }),
    )
    const { url, flowState } = await flow.initiateLogin({ extraParams: { prompt: 'consent' } })
    const callback = await followToCallback(url, REDIRECT)
    await assert.rejects(
      flow.finalizeLogin(callback.href, flowState),
      (err: { code?: string; message?: string }) => {
        assert.equal(err.code, 'provider_bad_response')
        assert.match(err.message ?? '', /bearer token to a FAPI 2\.0 client/)
        return true
      },
    )
  })
})
