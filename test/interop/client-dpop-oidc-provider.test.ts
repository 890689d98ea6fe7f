// Interop: our client's DPoP (RFC 9449) against oidc-provider v9 with features.dPoP on and
// nonces required. A public client with dpop_bound_access_tokens logs in: the code exchange
// proves a fresh key (after one use_dpop_nonce round trip), the tokens come back as DPoP, and
// userinfo is read with the DPoP scheme and a proof with ath. The refresh token is bound to the
// key: refreshing with it works, with another key oidc-provider refuses it.
// fetchProtectedResource calls a DPoP-protected endpoint with the session's key.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { generateDpopKey } from '../../src/dpop/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'

const REDIRECT = 'http://127.0.0.1:3999/cb'

describe('interop: our client with DPoP against oidc-provider v9 (features.dPoP, nonces)', () => {
  let op: RunningOidcProvider
  let flow: OAuth2Flow

  before(async () => {
    op = await startOidcProvider({
      clients: [
        {
          client_id: 'dpop-spa',
          token_endpoint_auth_method: 'none',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          dpop_bound_access_tokens: true,
        },
      ],
      configuration: {
        features: {
          devInteractions: { enabled: false },
          dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
        },
      },
    })
    flow = new OAuth2Flow(
      oidc({
        id: 'op',
        issuer: op.issuer,
        clientId: 'dpop-spa',
        redirectUri: REDIRECT,
        dpop: true,
      }),
    )
  })

  after(async () => {
    await op?.close()
    assert.deepEqual(op?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
  })

  it('logs in with DPoP-bound tokens, reads userinfo with the DPoP scheme, refreshes with the key', async () => {
    const { url, flowState } = await flow.initiateLogin({
      scopes: ['openid', 'email', 'offline_access'],
      extraParams: { prompt: 'consent' },
    })
    const callback = await followToCallback(url, REDIRECT)
    const { identity, tokens } = await flow.finalizeLogin(callback.href, flowState)
    assert.equal(tokens.tokenType, 'DPoP')
    assert.ok(tokens.dpopKey, 'the key comes back with the tokens')
    assert.equal(identity.email, op.accounts[0]?.email, 'userinfo was read with DPoP')
    assert.ok(tokens.refreshToken)

    const me = await flow.fetchProtectedResource(tokens, `${op.issuer}/me`)
    assert.equal(me.status, 200, await me.clone().text())
    assert.equal(((await me.json()) as { sub: string }).sub, identity.subject)

    const refreshed = await flow.refresh(tokens)
    assert.equal(refreshed.tokenType, 'DPoP')
    assert.equal(refreshed.dpopKey?.thumbprint, tokens.dpopKey?.thumbprint)

    // oidc-provider binds a public client's refresh token to the key: another key is refused.
    await assert.rejects(
      flow.refresh(refreshed.refreshToken ?? '', { dpopKey: await generateDpopKey() }),
      (err: { code?: string; oauthError?: string }) =>
        err.code === 'token_error' && err.oauthError === 'invalid_grant',
    )
  })
})
