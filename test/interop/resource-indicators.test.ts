// Interop for Resource Indicators (RFC 8707), both directions:
// (a) our OAuth2Flow against oidc-provider v9 with features.resourceIndicators on: a login names
//     `resource`, the consent grants the API's scope, the code exchange asks for it, and the
//     access token oidc-provider issues (a JWT for the API) passes our bearer guard whose
//     audience is the resource (RFC 9728 resourceMetadata); refresh names it again; client
//     credentials for the resource too. A resource oidc-provider does not know is refused.
// (b) openid-client v6 as a client of our OP, passing `resource` at the authorization request,
//     the code exchange, refresh and client credentials: the tokens' `aud` is the resource, and
//     our OP's `invalid_target` reaches openid-client as that error.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
// @ts-expect-error oidc-provider ships no type declarations; only errors.InvalidTarget is used.
import { errors } from 'oidc-provider'
import * as client from 'openid-client'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { serve } from '../../src/dev-idp/serve.ts'
import { bearer } from '../../src/index.ts'
import { createOp } from '../../src/op/create-op.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  followToCallback,
  type RunningOidcProvider,
  startOidcProvider,
} from '../e2e/helpers/oidc-provider-server.ts'

const REDIRECT = 'http://127.0.0.1:3998/cb'
const API = 'https://api.example/'
const quiet = { warn() {} }

describe('interop (a): our client against oidc-provider v9 (features.resourceIndicators)', () => {
  let op: RunningOidcProvider
  let flow: OAuth2Flow
  const secret = 'rs-client-secret-0123456789abcdefghijkl'

  before(async () => {
    op = await startOidcProvider({
      clients: [
        {
          client_id: 'rs-app',
          client_secret: secret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
          scope: 'openid offline_access api:read',
        },
      ],
      configuration: {
        scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read'],
        features: {
          devInteractions: { enabled: false },
          clientCredentials: { enabled: true },
          resourceIndicators: {
            enabled: true,
            defaultResource: () => undefined,
            useGrantedResource: () => true,
            getResourceServerInfo: (_ctx: unknown, resource: string) => {
              if (resource !== API) throw new errors.InvalidTarget()
              return {
                scope: 'api:read',
                audience: API,
                accessTokenFormat: 'jwt',
                jwt: { sign: { alg: 'ES256' } },
              }
            },
          },
        },
      },
    })
    flow = new OAuth2Flow(
      oidc({
        id: 'op',
        issuer: op.issuer,
        clientId: 'rs-app',
        clientSecret: secret,
        redirectUri: REDIRECT,
        resource: API,
      }),
    )
  })

  after(async () => {
    await op?.close()
  })

  it('logs in for the API; the JWT passes our guard with aud = resource; refresh keeps it', async () => {
    const { url, flowState } = await flow.initiateLogin({
      scopes: ['openid', 'offline_access', 'api:read'],
      extraParams: { prompt: 'consent' },
    })
    const callback = await followToCallback(url, REDIRECT)
    const { identity, tokens } = await flow.finalizeLogin(callback.href, flowState)
    assert.ok(identity.subject, 'identity from the ID token (no userinfo with the API token)')
    assert.deepEqual(flowState.resources, [API])
    const claims = decodeJwt(tokens.accessToken)
    assert.equal(claims.aud, API)
    assert.match(String(claims.scope), /\bapi:read\b/)
    const guard = bearer({
      issuer: op.issuer,
      resourceMetadata: { resource: API, authorizationServers: [op.issuer] },
      scopes: ['api:read'],
      logger: quiet,
    })
    const request = (token: string) =>
      new Request(`${API}orders`, { headers: { authorization: `Bearer ${token}` } })
    const ok = await guard(request(tokens.accessToken))
    assert.equal(ok.ok, true, ok.ok ? '' : await ok.response.clone().text())
    const refreshed = await flow.refresh(tokens, { resource: API })
    assert.equal(decodeJwt(refreshed.accessToken).aud, API)
    assert.equal((await guard(request(refreshed.accessToken))).ok, true)
    // A token for the OP itself (no resource) is refused by the API's guard.
    const plain = await flow.clientCredentials({ scopes: [] })
    assert.equal((await guard(request(plain.accessToken))).ok, false)
    const machine = await flow.clientCredentials({ scopes: ['api:read'], resource: API })
    assert.equal(decodeJwt(machine.accessToken).aud, API)
    assert.equal((await guard(request(machine.accessToken))).ok, true)
  })

  it('a resource oidc-provider does not serve is refused (invalid_target)', async () => {
    await assert.rejects(
      flow.clientCredentials({ scopes: ['api:read'], resource: 'https://unknown.example/' }),
      (err: { code?: string; oauthError?: string }) => {
        assert.equal(err.code, 'token_error')
        assert.equal(err.oauthError, 'invalid_target')
        return true
      },
    )
  })
})

describe('interop (b): openid-client v6 against our OP, passing resource', () => {
  let server: Server
  let issuer: URL
  const CB = 'https://rp.example/cb'
  const APP = { id: 'oc-app', secret: 'oc-app-secret-0123456789abcdefghijklmn' }
  const insecure = { execute: [client.allowInsecureRequests] }

  before(async () => {
    let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
    server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
    issuer = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`)
    const op = await createOp({
      issuer: issuer.origin,
      logger: { warn() {}, error() {} },
      dangerouslyAutoLogin: 'alice',
      scopes: ['api:read'],
      resources: [{ resource: API, scopes: ['api:read'] }],
      clients: [
        {
          client_id: APP.id,
          client_secret: APP.secret,
          redirect_uris: [CB],
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
          scope: 'api:read',
          allowed_resources: [API],
        },
      ],
      accounts: [{ username: 'alice', password: 'wonderland' }],
    })
    handler = op.handler
  })

  after(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
  })

  const config = () =>
    client.discovery(issuer, APP.id, {}, client.ClientSecretBasic(APP.secret), insecure)

  it('code flow with resource: aud is the resource; refresh and client credentials too', async () => {
    const cfg = await config()
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: CB,
      scope: 'openid offline_access api:read',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource: API,
    })
    const response = await fetch(url, { redirect: 'manual' })
    const location = response.headers.get('location')
    assert.ok(location, `no redirect (${response.status})`)
    const tokens = await client.authorizationCodeGrant(
      cfg,
      new URL(location),
      { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true },
      { resource: API },
    )
    assert.equal(decodeJwt(tokens.access_token).aud, API)
    assert.equal(tokens.scope, 'api:read')
    assert.ok(tokens.refresh_token)
    const refreshed = await client.refreshTokenGrant(cfg, tokens.refresh_token, { resource: API })
    assert.equal(decodeJwt(refreshed.access_token).aud, API)
    const machine = await client.clientCredentialsGrant(cfg, { resource: API })
    assert.equal(decodeJwt(machine.access_token).aud, API)
  })

  it('our invalid_target reaches openid-client', async () => {
    const cfg = await config()
    await assert.rejects(
      client.clientCredentialsGrant(cfg, { resource: 'https://unknown.example/' }),
      (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError)
        assert.equal(err.error, 'invalid_target')
        assert.equal(err.status, 400)
        return true
      },
    )
  })
})
