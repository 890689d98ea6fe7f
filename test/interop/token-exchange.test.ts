// Token Exchange (RFC 8693) interop: openid-client v6's genericGrantRequest (a certified RP
// library sending the grant its own way) against our OP served over node:http, and our
// OAuth2Flow.tokenExchange against the same OP; each token checked by openid-client's
// introspection of it.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import * as client from 'openid-client'
import { OAuth2Flow } from '../../src/client/oauth2-flow.ts'
import { isAuthkestraError } from '../../src/core/errors.ts'
import { serve } from '../../src/dev-idp/serve.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const AT = 'urn:ietf:params:oauth:token-type:access_token'
const API = { id: 'api', secret: 'api-secret-0123456789abcdefghijklmnop' }
const SVC = { id: 'svc', secret: 'svc-secret-0123456789abcdefghijklmnop' }

let server: Server
let op: Op
let issuer = ''

before(async () => {
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  op = await createOp({
    issuer,
    scopes: ['orders:read'],
    logger: { warn: () => {}, error: () => {}, info: () => {} },
    clients: [
      {
        client_id: API.id,
        client_secret: API.secret,
        redirect_uris: [],
        grant_types: [GRANT],
        resource_server: true,
      },
      {
        client_id: SVC.id,
        client_secret: SVC.secret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        scope: 'orders:read',
      },
    ],
    tokenExchange: {
      policy: (r) =>
        r.audience.every((a) => a === 'https://billing.example')
          ? { allow: true }
          : { allow: false, reason: 'billing only' },
    },
  })
  handler = op.handler
})
after(() => {
  server.closeAllConnections()
  server.close()
})

async function subjectToken(): Promise<string> {
  const svc = await client.discovery(
    new URL(issuer),
    SVC.id,
    SVC.secret,
    client.ClientSecretBasic(SVC.secret),
    { execute: [client.allowInsecureRequests] },
  )
  return (await client.clientCredentialsGrant(svc, { scope: 'orders:read' })).access_token
}

describe('token exchange interop', () => {
  it('openid-client genericGrantRequest: exchanged, issued_token_type, aud the target', async () => {
    const config = await client.discovery(
      new URL(issuer),
      API.id,
      API.secret,
      client.ClientSecretBasic(API.secret),
      { execute: [client.allowInsecureRequests] },
    )
    assert.ok((config.serverMetadata().grant_types_supported ?? []).includes(GRANT))
    const response = await client.genericGrantRequest(config, GRANT, {
      subject_token: await subjectToken(),
      subject_token_type: AT,
      audience: 'https://billing.example',
    })
    assert.equal(response.issued_token_type, AT)
    assert.equal(response.token_type, 'bearer')
    assert.equal(decodeJwt(response.access_token).aud, 'https://billing.example')
    await assert.rejects(
      client.genericGrantRequest(config, GRANT, {
        subject_token: await subjectToken(),
        subject_token_type: AT,
        audience: 'https://other.example',
      }),
      (err: unknown) => err instanceof client.ResponseBodyError && err.error === 'invalid_target',
    )
  })

  it('our OAuth2Flow.tokenExchange: the same, and token_error for a refused target', async () => {
    const flow = new OAuth2Flow({ id: 'op', issuer, clientId: API.id, clientSecret: API.secret })
    const tokens = await flow.tokenExchange({
      subjectToken: await subjectToken(),
      audience: ['https://billing.example'],
    })
    assert.equal(tokens.raw.issued_token_type, AT)
    assert.equal(decodeJwt(tokens.accessToken).sub, SVC.id)
    await assert.rejects(
      flow.tokenExchange({
        subjectToken: await subjectToken(),
        audience: ['https://other.example'],
      }),
      (err) => isAuthkestraError(err, 'token_error') && err.oauthError === 'invalid_target',
    )
  })
})
