// FAPI 2.0 end to end with Authkestra on every side, over loopback HTTP: the dev IdP with
// `"profile": "fapi2"`, our client with `securityProfile: 'fapi2'` (private_key_jwt with an
// EdDSA key, PAR, DPoP), and an API guarded by `bearer({ securityProfile: 'fapi2' })`. The login
// goes through the OP's own login form; the API call carries the session's DPoP proof; the same
// token sent as a bearer token, or with a proof of another key, is refused. The engine pushes a
// FAPI 2.0 login too, its DPoP key sealed in the flow cookie.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../src/client/provider-config.ts'
import { generateDpopKey } from '../../src/dpop/key.ts'
import { createDpopProof } from '../../src/dpop/proof.ts'
import { createAuthkestra } from '../../src/engine/create-authkestra.ts'
import { bearer } from '../../src/engine/guards/bearer.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { loginThroughForm } from '../helpers/login-form.ts'
import { type InteropIdp, startInteropIdp } from '../interop/helpers/dev-idp.ts'

const REDIRECT = 'https://budget.example/callback'
const ENGINE_CALLBACK = 'https://budget.example/auth/callback/bank'
const ALICE = { username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } }

describe('FAPI 2.0 with Authkestra as OP, client and API', () => {
  let running: InteropIdp
  let api: Server
  let apiUrl: string
  let flow: OAuth2Flow
  let flowConfig: ProviderConfig

  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    running = await startInteropIdp(
      {
        profile: 'fapi2',
        clients: [
          {
            client_id: 'budget-app',
            jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'app-1' }] },
            redirect_uris: [REDIRECT, ENGINE_CALLBACK],
            skip_consent: true,
          },
        ],
        users: [ALICE],
      },
      'authkestra-fapi2-e2e-',
    )
    const issuer = running.issuer.href.replace(/\/$/, '')
    const guard = bearer({ issuer, audience: issuer, securityProfile: 'fapi2' })
    api = createServer(async (req, res) => {
      const url = `http://${req.headers.host}${req.url}`
      const result = await guard({
        url,
        method: req.method ?? 'GET',
        headers: { get: (name) => (req.headers[name.toLowerCase()] as string) ?? null },
      })
      if (!result.ok) {
        res.writeHead(result.response.status, Object.fromEntries(result.response.headers))
        res.end(await result.response.text())
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ sub: result.principal.subject, key: result.principal.senderKey }))
    })
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/accounts`
    flowConfig = oidc({
      id: 'bank',
      issuer,
      clientId: 'budget-app',
      redirectUri: REDIRECT,
      clientPrivateKey: privateKey,
      clientKeyId: 'app-1',
      securityProfile: 'fapi2',
    })
    flow = new OAuth2Flow(flowConfig)
  })

  after(async () => {
    await new Promise((resolve) => api?.close(resolve))
    await running?.close()
  })

  it('logs in, calls the API with the session key, and the API refuses anything less', async () => {
    const { url, flowState } = await flow.initiateLogin({ scopes: ['openid', 'email'] })
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
    const { callback } = await loginThroughForm(url, ALICE)
    const { identity, tokens } = await flow.finalizeLogin(callback.href, flowState)
    assert.equal(tokens.tokenType, 'DPoP')
    assert.equal(identity.email, ALICE.claims.email)

    const ok = await flow.fetchProtectedResource(tokens, apiUrl)
    assert.equal(ok.status, 200, await ok.clone().text())
    const body = (await ok.json()) as { sub: string; key: string }
    assert.equal(body.sub, identity.subject)
    assert.equal(body.key, tokens.dpopKey?.thumbprint)

    const asBearer = await fetch(apiUrl, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    })
    assert.equal(asBearer.status, 401)
    assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP /)

    const thief = await generateDpopKey()
    const stolen = await fetch(apiUrl, {
      headers: {
        authorization: `DPoP ${tokens.accessToken}`,
        dpop: await createDpopProof(thief, {
          method: 'GET',
          url: apiUrl,
          accessToken: tokens.accessToken,
        }),
      },
    })
    assert.equal(stolen.status, 401)
    assert.match(stolen.headers.get('www-authenticate') ?? '', /error="invalid_dpop_proof"/)
  })

  it('the engine pushes a FAPI 2.0 login with DPoP and seals the key in its flow cookie', async () => {
    const engine = createAuthkestra({
      secret: 'engine-secret-0123456789abcdefghijklmnopq',
      session: {},
      providers: [{ ...flowConfig, redirectUri: ENGINE_CALLBACK }],
    })
    const start = await engine.handler(new Request('https://budget.example/auth/login/bank'))
    assert.equal(start.status, 302)
    const location = new URL(start.headers.get('location') ?? '')
    assert.deepEqual([...location.searchParams.keys()].sort(), ['client_id', 'request_uri'])
    assert.match(start.headers.get('set-cookie') ?? '', /__Host-|authkestra/)
  })

  it('a guard that cannot meet the profile does not start', () => {
    assert.throws(
      () =>
        bearer({
          issuer: 'https://id.example',
          audience: 'https://api.example',
          secret: 'x'.repeat(32),
          securityProfile: 'fapi2',
          dpop: { required: false },
        }),
      /dpop\.required" is false.*; "secret" is set \(HMAC\)/,
    )
    assert.throws(
      () =>
        bearer({
          issuer: 'https://id.example',
          audience: 'https://api.example',
          algorithms: ['RS256'],
          securityProfile: 'fapi2',
        }),
      /"algorithms" lists RS256/,
    )
  })
})
