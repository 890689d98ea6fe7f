// Custom grant interop: an app implements the JWT bearer grant (RFC 7523 §2.1) as a custom
// grant on our OP; openid-client v6 (genericGrantRequest, then userinfo and refreshTokenGrant)
// and oauth4webapi (genericTokenEndpointRequest) use it as they would any OP's, and validate what they
// get (openid-client checks the ID token it receives from a grant response).
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import { serve } from '../../src/dev-idp/serve.ts'
import { createOp } from '../../src/op/create-op.ts'
import { GrantError } from '../../src/op/errors.ts'

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const PARTNER = 'https://partner.example'
const SVC = { id: 'svc', secret: 'svc-secret-0123456789abcdefghijklmnop' }

let server: Server
let issuer = ''
let partnerKey: CryptoKey

before(async () => {
  const pair = await generateKeyPair('ES256')
  partnerKey = pair.privateKey
  const partnerKeys = createLocalJWKSet({ keys: [await exportJWK(pair.publicKey)] })
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const op = await createOp({
    issuer,
    scopes: ['orders:read'],
    logger: { warn: () => {}, error: () => {} },
    clients: [
      {
        client_id: SVC.id,
        client_secret: SVC.secret,
        redirect_uris: [],
        grant_types: [JWT_BEARER, 'refresh_token'],
        scope: 'orders:read',
      },
    ],
    accounts: [
      { username: 'alice', password: 'wonderland', sub: 'alice-sub', claims: { name: 'Alice' } },
    ],
    grants: {
      [JWT_BEARER]: async (request) => {
        const assertion = request.param('assertion')
        if (assertion === undefined)
          throw new GrantError('invalid_request', '"assertion" is required')
        const verified = await jwtVerify(assertion, partnerKeys, {
          issuer: PARTNER,
          audience: issuer,
          maxTokenAge: 300,
        }).catch(() => undefined)
        if (!verified) throw new GrantError('invalid_grant', 'the assertion is not valid')
        return {
          sub: String(verified.payload.sub),
          account: true,
          scopes: request.requestedScopes ?? ['openid'],
        }
      },
    },
  })
  handler = op.handler
})
after(() => {
  server.closeAllConnections()
  server.close()
})

const assertion = (audience = issuer) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(PARTNER)
    .setSubject('alice-sub')
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(partnerKey)

describe('custom grant interop (an RFC 7523 JWT bearer grant)', () => {
  it('openid-client genericGrantRequest: tokens with a validated ID token; then userinfo and refresh', async () => {
    const config = await client.discovery(
      new URL(issuer),
      SVC.id,
      SVC.secret,
      client.ClientSecretBasic(SVC.secret),
      { execute: [client.allowInsecureRequests] },
    )
    assert.ok((config.serverMetadata().grant_types_supported ?? []).includes(JWT_BEARER))
    const tokens = await client.genericGrantRequest(config, JWT_BEARER, {
      assertion: await assertion(),
      scope: 'openid profile offline_access orders:read',
    })
    assert.equal(tokens.claims()?.sub, 'alice-sub')
    assert.equal(decodeJwt(tokens.access_token).scope, 'openid profile offline_access orders:read')
    const info = await client.fetchUserInfo(config, tokens.access_token, 'alice-sub')
    assert.equal(info.name, 'Alice')
    const refreshed = await client.refreshTokenGrant(config, String(tokens.refresh_token))
    assert.equal(refreshed.claims()?.sub, 'alice-sub')
    await assert.rejects(
      client.genericGrantRequest(config, JWT_BEARER, {
        assertion: await assertion('https://elsewhere.example'),
      }),
      (err: unknown) => err instanceof client.ResponseBodyError && err.error === 'invalid_grant',
    )
  })

  it('oauth4webapi genericTokenEndpointRequest: processed as a generic grant response', async () => {
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { [oauth.allowInsecureRequests]: true }),
    )
    const c: oauth.Client = { client_id: SVC.id }
    const response = await oauth.genericTokenEndpointRequest(
      as,
      c,
      oauth.ClientSecretBasic(SVC.secret),
      JWT_BEARER,
      new URLSearchParams({ assertion: await assertion(), scope: 'orders:read' }),
      { [oauth.allowInsecureRequests]: true },
    )
    const result = await oauth.processGenericTokenEndpointResponse(as, c, response)
    assert.equal(result.token_type, 'bearer')
    assert.equal(decodeJwt(result.access_token).sub, 'alice-sub')
    assert.equal(result.id_token, undefined)
  })
})
