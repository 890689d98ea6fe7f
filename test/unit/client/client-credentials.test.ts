// ClientCredentialsFlow against our OP over real HTTP on loopback: one token request for many
// calls (cache) and for many concurrent callers (single flight), a new one shortly before
// expires_in and per scope set, failures not cached, and authorizedFetch's one retry with a
// fresh token on a 401 from the resource server (a token revoked early), never a second.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { ClientCredentialsFlow } from '../../../src/client/client-credentials.ts'
import { isAuthkestraError } from '../../../src/core/errors.ts'
import { serve } from '../../../src/dev-idp/serve.ts'
import { createOp } from '../../../src/op/create-op.ts'

const SVC = { id: 'svc', secret: 'svc-secret-0123456789abcdefghijklmnop' }
let server: Server
let issuer = ''
let tokenRequests = 0

before(async () => {
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const op = await createOp({
    issuer,
    scopes: ['api:read', 'api:write'],
    logger: { warn: () => {}, error: () => {} },
    ttl: { accessToken: 120 },
    clients: [
      {
        client_id: SVC.id,
        client_secret: SVC.secret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        scope: 'api:read api:write',
      },
    ],
  })
  handler = (r) => {
    if (new URL(r.url).pathname === '/token') tokenRequests++
    return op.handler(r)
  }
})
after(() => {
  server.closeAllConnections()
  server.close()
})

function service(clock?: { now(): number }, secret = SVC.secret) {
  return new ClientCredentialsFlow(
    { id: 'op', issuer, clientId: SVC.id, clientSecret: secret },
    clock ? { clock } : {},
  )
}

describe('ClientCredentialsFlow', () => {
  it('caches the token: ten calls, one request; a token per scope set', async () => {
    const flow = service()
    const before = tokenRequests
    const first = await flow.token({ scopes: ['api:read'] })
    for (let i = 0; i < 9; i++)
      assert.equal((await flow.token({ scopes: ['api:read'] })).accessToken, first.accessToken)
    assert.equal(tokenRequests - before, 1)
    assert.deepEqual(first.scope, ['api:read'])
    const both = await flow.token({ scopes: ['api:write', 'api:read', 'api:read'] })
    assert.notEqual(both.accessToken, first.accessToken)
    assert.equal(
      (await flow.token({ scopes: ['api:read', 'api:write'] })).accessToken,
      both.accessToken,
    )
    assert.equal(tokenRequests - before, 2)
  })

  it('single flight: 20 concurrent callers share one request', async () => {
    const flow = service()
    const before = tokenRequests
    const tokens = await Promise.all(Array.from({ length: 20 }, () => flow.token()))
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1)
    assert.equal(tokenRequests - before, 1)
  })

  it('asks again refreshBeforeSeconds (30) before expires_in', async () => {
    let now = Date.now()
    const flow = service({ now: () => now })
    const before = tokenRequests
    const first = await flow.token()
    now += 89_000 // 120 s tokens: still 31 s left
    assert.equal((await flow.token()).accessToken, first.accessToken)
    now += 2000 // 29 s left
    assert.notEqual((await flow.token()).accessToken, first.accessToken)
    assert.equal(tokenRequests - before, 2)
  })

  it('a failed request is not cached, and says why (token_error invalid_client)', async () => {
    const flow = service(undefined, 'wrong-secret-0123456789abcdefghijkl')
    const before = tokenRequests
    for (let i = 0; i < 2; i++)
      await assert.rejects(
        flow.token(),
        (err) => isAuthkestraError(err, 'token_error') && err.oauthError === 'invalid_client',
      )
    assert.equal(tokenRequests - before, 2)
  })

  describe('authorizedFetch', () => {
    let api: Server
    let base = ''
    let seen: string[] = []
    let refuse = new Set<string>()
    before(async () => {
      api = createServer((req, res) => {
        const auth = req.headers.authorization ?? ''
        seen.push(auth)
        res
          .writeHead(refuse.has(auth) || refuse.has('*') ? 401 : 200)
          .end(refuse.has('*') ? 'no' : 'ok')
      })
      await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
    })
    after(() => api.close())

    it('sends the bearer token; on a 401, once, a fresh token and the request again', async () => {
      const flow = service()
      seen = []
      refuse = new Set()
      assert.equal((await flow.authorizedFetch(`${base}/a`)).status, 200)
      const revoked = seen[0] ?? ''
      assert.match(revoked, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
      refuse = new Set([revoked]) // the resource server learned the token was revoked
      const retried = await flow.authorizedFetch(`${base}/b`, { method: 'POST', body: 'x=1' })
      assert.equal(retried.status, 200)
      assert.equal(seen.length, 3)
      assert.equal(seen[1], revoked)
      assert.notEqual(seen[2], revoked)
    })

    it('never retries twice: a resource server that always says 401 gets two requests', async () => {
      const flow = service()
      seen = []
      refuse = new Set(['*'])
      const response = await flow.authorizedFetch(`${base}/c`)
      assert.equal(response.status, 401)
      assert.equal(seen.length, 2)
    })
  })
})
