// Interop: our client pushing with DPoP (RFC 9449 §10.1, RFC 9126) to oidc-provider v9 with
// features.dPoP (nonces required) and features.pushedAuthorizationRequests on, for a
// confidential client that must push. The push carries a proof (htm POST, htu the PAR
// endpoint); oidc-provider answers the first use_dpop_nonce and the client retries once with
// the nonce and fresh client authentication. oidc-provider binds the code to the key: the token
// exchange proves the same key (kept in the flow state, sealed and opened again) and gets
// tokens bound to it, and a flow state carrying another key is refused invalid_grant.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { openFlowState, sealFlowState } from '../../src/client/flow-state.ts'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { createKeyring } from '../../src/core/keyring.ts'
import { generateDpopKey } from '../../src/dpop/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'

const REDIRECT = 'http://127.0.0.1:3999/cb'
const SECRET = 'dpop-par-secret-0123456789abcdefghijklmn'

/** What the client sent to the PAR endpoint: its DPoP proof and whether it authenticated. */
const requests: { url: string; proof: string | null; authorized: boolean; status: number }[] = []

describe('interop: our client pushes with DPoP to oidc-provider v9 (dPoP + PAR, nonces)', () => {
  let op: RunningOidcProvider
  let flow: OAuth2Flow

  before(async () => {
    op = await startOidcProvider({
      clients: [
        {
          client_id: 'dpop-par',
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [REDIRECT],
          require_pushed_authorization_requests: true,
        },
      ],
      configuration: {
        features: {
          devInteractions: { enabled: false },
          dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
          pushedAuthorizationRequests: { enabled: true },
        },
      },
    })
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const headers = new Headers(init?.headers)
      requests.push({
        url: String(input),
        proof: headers.get('dpop'),
        authorized: headers.get('authorization')?.startsWith('Basic ') === true,
        status: response.status,
      })
      return response
    }
    flow = new OAuth2Flow(
      oidc({
        id: 'op',
        issuer: op.issuer,
        clientId: 'dpop-par',
        clientSecret: SECRET,
        redirectUri: REDIRECT,
        dpop: { extractable: true },
      }),
      { fetch: recording },
    )
  })

  after(async () => {
    await op?.close()
    assert.deepEqual(op?.serverErrors ?? [], [], 'oidc-provider reported no server_error')
  })

  it('proves the key at /par (after one nonce round trip), the code is bound to it', async () => {
    const parEndpoint = (await flow.provider()).parEndpoint?.href
    assert.ok(parEndpoint, 'oidc-provider offers PAR')
    requests.length = 0
    const { url, flowState } = await flow.initiateLogin({ extraParams: { prompt: 'consent' } })
    const pushes = requests.filter((r) => r.url === parEndpoint)
    assert.equal(pushes.length, requests.length, 'nothing but pushes')
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
    const key = flowState.dpopKey
    assert.ok(key, 'the push key is kept in the flow state')

    assert.deepEqual(
      pushes.map((p) => [p.status, p.authorized, p.proof !== null]),
      [
        [400, true, true],
        [201, true, true],
      ],
    )
    const [first, second] = pushes.map((p) => ({
      header: decodeProtectedHeader(p.proof ?? ''),
      claims: decodeJwt(p.proof ?? ''),
    }))
    for (const proof of [first, second]) {
      assert.equal(proof?.header.typ, 'dpop+jwt')
      assert.deepEqual(proof?.header.jwk, key.publicJwk)
      assert.equal(proof?.claims.htm, 'POST')
      assert.equal(proof?.claims.htu, parEndpoint)
    }
    assert.equal(first?.claims.nonce, undefined)
    assert.equal(typeof second?.claims.nonce, 'string')
    assert.notEqual(first?.claims.jti, second?.claims.jti)

    // The key survives sealing (it is extractable), and the exchange proves it.
    const keys = createKeyring(randomBytes(32).toString('base64url'))
    const opened = await openFlowState(await sealFlowState(flowState, { keys }), {
      keys,
      providerId: 'op',
    })
    assert.equal(opened.dpopKey?.thumbprint, key.thumbprint)
    const callback = await followToCallback(url, REDIRECT)
    const { tokens } = await flow.finalizeLogin(callback.href, opened)
    assert.equal(tokens.tokenType, 'DPoP')
    assert.equal(tokens.dpopKey?.thumbprint, key.thumbprint)
    // oidc-provider's access tokens are opaque: its userinfo checks the binding.
    const me = await flow.fetchProtectedResource(tokens, `${op.issuer}/me`)
    assert.equal(me.status, 200, await me.clone().text())
    await me.body?.cancel()
    const thief = { ...tokens, dpopKey: await generateDpopKey() }
    const refused = await flow.fetchProtectedResource(thief, `${op.issuer}/me`)
    assert.equal(refused.status, 401)
    await refused.body?.cancel()
  })

  it('refuses the code when the exchange proves another key', async () => {
    const { url, flowState } = await flow.initiateLogin({ extraParams: { prompt: 'consent' } })
    const callback = await followToCallback(url, REDIRECT)
    await assert.rejects(
      flow.finalizeLogin(callback.href, { ...flowState, dpopKey: await generateDpopKey() }),
      (err: { code?: string; oauthError?: string }) =>
        err.code === 'token_error' && err.oauthError === 'invalid_grant',
    )
  })
})
