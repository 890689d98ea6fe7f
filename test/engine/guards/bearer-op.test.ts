// The bearer guard against real access tokens from our own OP (client_credentials over HTTP on
// loopback): discovery of the issuer, the JWKS cache and its refetch cooldown, scopes, and what
// happens when the OP goes away.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { bearer } from '../../../src/index.ts'
import {
  assertRefusal,
  principal,
  type RunningOp,
  SERVICE,
  startOp,
  withBearer,
} from './helpers.ts'

/** The global fetch, counting calls per path. */
function countingFetch(): { fetch: typeof fetch; count(path: string): number } {
  const counts = new Map<string, number>()
  return {
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1)
      return fetch(input, init)
    }) as typeof fetch,
    count: (path) => counts.get(path) ?? 0,
  }
}

let op: RunningOp
before(async () => {
  op = await startOp()
})
after(() => op.close())

describe('bearer guard with our OP (discovery of the issuer)', () => {
  it('accepts a client_credentials access token and reads its claims', async () => {
    const guard = bearer({ issuer: op.issuer, audience: op.issuer, scopes: ['api:read'] })
    const token = await op.token('api:read')
    const who = principal(await guard(withBearer(token)))
    assert.equal(who.subject, SERVICE.id)
    assert.equal(who.clientId, SERVICE.id)
    assert.deepEqual(who.scopes, ['api:read'])
    assert.equal(who.claims.iss, op.issuer)
    assert.equal(who.claims.aud, op.issuer)
    assert.equal(typeof who.claims.jti, 'string')
  })

  it('reads discovery and the JWKS once for many requests', async () => {
    const counter = countingFetch()
    const guard = bearer({ issuer: op.issuer, audience: op.issuer, fetch: counter.fetch })
    const tokens = await Promise.all([op.token(), op.token('api:write'), op.token('api:read')])
    const results = await Promise.all([...tokens, ...tokens].map((t) => guard(withBearer(t))))
    assert.ok(results.every((r) => r.ok))
    assert.equal(counter.count('/.well-known/openid-configuration'), 1)
    assert.equal(counter.count('/jwks'), 1)
  })

  it('accepts RFC 8414 discovery too', async () => {
    const guard = bearer({
      issuer: op.issuer,
      audience: op.issuer,
      discovery: 'oauth-authorization-server',
    })
    assert.equal(principal(await guard(withBearer(await op.token()))).subject, SERVICE.id)
  })

  it('accepts the tokens through a jwksUri given directly', async () => {
    const guard = bearer({ jwksUri: `${op.issuer}/jwks`, issuer: op.issuer, audience: op.issuer })
    assert.deepEqual(principal(await guard(withBearer(await op.token()))).scopes, [
      'api:read',
      'api:write',
    ])
  })

  it('refuses a token without a required scope: 403 with the exact challenge', async () => {
    const guard = bearer({ issuer: op.issuer, audience: op.issuer, scopes: ['api:write'] })
    const token = await op.token('api:read')
    await assertRefusal(await guard(withBearer(token)), {
      status: 403,
      challenge: 'Bearer realm="authkestra", error="insufficient_scope", scope="api:write"',
      error: 'insufficient_scope',
      secret: token,
    })
  })

  it('refuses a token for another audience', async () => {
    const guard = bearer({ issuer: op.issuer, audience: 'https://other-api.example' })
    const token = await op.token()
    await assertRefusal(await guard(withBearer(token)), {
      status: 401,
      challenge: 'Bearer realm="authkestra", error="invalid_token"',
      error: 'invalid_token',
      secret: token,
    })
  })

  it('refuses a token of this OP when another issuer is expected', async () => {
    const guard = bearer({
      jwksUri: `${op.issuer}/jwks`,
      issuer: 'https://id.example',
      audience: op.issuer,
    })
    const token = await op.token()
    await assertRefusal(await guard(withBearer(token)), {
      status: 401,
      challenge: 'Bearer realm="authkestra", error="invalid_token"',
      error: 'invalid_token',
      secret: token,
    })
  })

  it('inherits the JWKS refetch cooldown: a new kid just after a fetch is not refetched', async () => {
    const counter = countingFetch()
    const guard = bearer({ issuer: op.issuer, audience: op.issuer, fetch: counter.fetch })
    assert.ok((await guard(withBearer(await op.token()))).ok)
    await op.rotate()
    const rotated = await op.token()
    // within 30 s of the last fetch, an unknown kid does not make the guard fetch again …
    await assertRefusal(await guard(withBearer(rotated)), {
      status: 401,
      challenge: 'Bearer realm="authkestra", error="invalid_token"',
      error: 'invalid_token',
      secret: rotated,
    })
    assert.equal(counter.count('/jwks'), 1)
    // … while a guard with an empty cache reads the published keys and accepts it
    const fresh = bearer({ issuer: op.issuer, audience: op.issuer })
    assert.ok((await fresh(withBearer(rotated))).ok)
  })
})

describe('bearer guard when the OP goes away', () => {
  it('keeps accepting with cached keys, and answers 503 without them', async () => {
    const gone = await startOp()
    const warm = bearer({ issuer: gone.issuer, audience: gone.issuer })
    const token = await gone.token()
    assert.ok((await warm(withBearer(token))).ok)
    await gone.close()
    assert.ok((await warm(withBearer(token))).ok, 'cached discovery and keys still verify')
    const cold = bearer({ issuer: gone.issuer, audience: gone.issuer, timeoutMs: 2000 })
    await assertRefusal(await cold(withBearer(token)), {
      status: 503,
      challenge: null,
      error: 'temporarily_unavailable',
      secret: token,
    })
  })
})
