// A failing issuer must not be hammered by our resource servers: while its JWKS or discovery
// answers errors, requests with forged `kid`s (and any others) cost it at most one fetch per
// backoff or cooldown, with one fetch in flight for everyone, and cached keys keep working.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type BearerOptions, bearer, type Guard } from '../../../src/index.ts'
import {
  AUD,
  assertRefusal,
  goodClaims,
  ISS,
  JWKS_URI,
  type LocalIssuer,
  localIssuer,
  NOW,
  principal,
  sign,
  withBearer,
} from './helpers.ts'

let issuer: LocalIssuer
before(async () => {
  issuer = await localIssuer()
})

/** A clock the test moves, starting at the helpers' NOW. */
function movableClock() {
  let now = NOW * 1000
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

/** A stub issuer whose endpoints fail until `healthy` is set; counts requests per path. */
function flakyIssuer(healthy: () => boolean) {
  const hits = new Map<string, number>()
  const stub = (async (input: string | URL | Request) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1)
    await new Promise((resolve) => setTimeout(resolve, 2))
    if (!healthy()) return new Response('upstream down', { status: 500 })
    if (url.href === JWKS_URI) return Response.json(issuer.jwks)
    if (url.pathname === '/.well-known/openid-configuration')
      return Response.json({
        issuer: ISS,
        authorization_endpoint: `${ISS}/authorize`,
        token_endpoint: `${ISS}/token`,
        jwks_uri: JWKS_URI,
      })
    return new Response('not found', { status: 404 })
  }) as typeof fetch
  return { fetch: stub, hits: (path: string) => hits.get(path) ?? 0 }
}

const UNAVAILABLE = { status: 503, challenge: null, error: 'temporarily_unavailable' }

async function statuses(guard: Guard<unknown>, tokens: string[]): Promise<number[]> {
  return Promise.all(
    tokens.map(async (t) => {
      const result = await guard(withBearer(t))
      return result.ok ? 200 : result.response.status
    }),
  )
}

const forged = (n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => sign(issuer.key, goodClaims(), { kid: `x${i}` })))

for (const mode of ['jwksUri', 'discovery'] as const) {
  describe(`bearer guard (${mode}) while the issuer fails`, () => {
    const path = mode === 'jwksUri' ? '/jwks' : '/.well-known/openid-configuration'
    const make = (fetch: typeof globalThis.fetch, clock: { now(): number }) =>
      bearer({
        ...(mode === 'jwksUri' ? { jwksUri: JWKS_URI } : {}),
        issuer: ISS,
        audience: AUD,
        fetch,
        clock,
      } as BearerOptions)

    it('fetches once for 300 forged-kid requests, then once per backoff (1 s, 2 s, 4 s…), all 503', async () => {
      let healthy = false
      const stub = flakyIssuer(() => healthy)
      const clock = movableClock()
      const guard = make(stub.fetch, clock)
      const tokens = await forged(100)
      assert.deepEqual(new Set(await statuses(guard, tokens)), new Set([503]), 'concurrent')
      for (const token of tokens) await assertRefusal(await guard(withBearer(token)), UNAVAILABLE)
      assert.deepEqual(new Set(await statuses(guard, tokens)), new Set([503]))
      assert.equal(stub.hits(path), 1, 'one fetch for 300 requests')
      clock.advance(999)
      await statuses(guard, tokens)
      assert.equal(stub.hits(path), 1, 'none before the backoff is over')
      clock.advance(1)
      await statuses(guard, tokens)
      assert.equal(stub.hits(path), 2, 'one after it, for 100 concurrent requests')
      clock.advance(1_999)
      await statuses(guard, tokens)
      assert.equal(stub.hits(path), 2, 'the second backoff is 2 s')
      clock.advance(1)
      healthy = true
      const valid = await sign(issuer.key, goodClaims())
      assert.equal(principal(await guard(withBearer(valid))).subject, 'user-1', 'recovered')
      assert.equal(stub.hits(path), 3)
    })
  })
}

describe('bearer guard: cached keys while the JWKS fails', () => {
  it('keeps verifying known keys; an unknown kid refetches once per 30 s cooldown even when the refetch fails', async () => {
    let healthy = true
    const stub = flakyIssuer(() => healthy)
    const clock = movableClock()
    const guard = bearer({
      jwksUri: JWKS_URI,
      issuer: ISS,
      audience: AUD,
      fetch: stub.fetch,
      clock,
    })
    const valid = await sign(issuer.key, goodClaims())
    assert.equal(principal(await guard(withBearer(valid))).subject, 'user-1')
    assert.equal(stub.hits('/jwks'), 1)
    healthy = false
    clock.advance(30_000)
    const tokens = await forged(50)
    const first = await statuses(guard, tokens)
    assert.deepEqual(new Set(first), new Set([503]), 'the refetch failed: an outage')
    assert.equal(stub.hits('/jwks'), 2, 'one refetch for 50 concurrent forged kids')
    for (let i = 0; i < 5; i++) {
      clock.advance(5_000)
      // The JWKS could not say whether these keys exist (a rotation?): an outage, not a bad token.
      assert.deepEqual(new Set(await statuses(guard, tokens)), new Set([503]), 'cooling down')
      await assertRefusal(await guard(withBearer(tokens[0] ?? '')), UNAVAILABLE)
      assert.equal(principal(await guard(withBearer(valid))).subject, 'user-1', 'cached key works')
    }
    assert.equal(stub.hits('/jwks'), 2, 'no fetch inside the 30 s cooldown after a failure')
    clock.advance(5_000)
    healthy = true
    assert.deepEqual(new Set(await statuses(guard, tokens)), new Set([401]), 'the JWKS answered')
    assert.equal(stub.hits('/jwks'), 3, 'one refetch once the cooldown is over')
  })

  it('makes one fetch for 100 concurrent unknown kids against a healthy JWKS, then cools down', async () => {
    const stub = flakyIssuer(() => true)
    const clock = movableClock()
    const guard = bearer({
      jwksUri: JWKS_URI,
      issuer: ISS,
      audience: AUD,
      fetch: stub.fetch,
      clock,
    })
    const tokens = await forged(100)
    assert.deepEqual(new Set(await statuses(guard, tokens)), new Set([401]))
    assert.equal(stub.hits('/jwks'), 1, 'the first load starts the cooldown')
    clock.advance(30_000)
    assert.deepEqual(new Set(await statuses(guard, tokens)), new Set([401]))
    assert.equal(stub.hits('/jwks'), 2, 'one refetch for 100 concurrent unknown kids')
    await statuses(guard, tokens)
    assert.equal(stub.hits('/jwks'), 2)
  })
})

describe('bearer guard with a wrong issuer', () => {
  it('is a configuration error that names the fix, not a 503 that looks like an outage', async () => {
    // The discovery document answers for the issuer without the trailing slash the app wrote.
    const stub = (async (input: string | URL | Request) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      if (url.pathname.endsWith('/.well-known/openid-configuration'))
        return Response.json({ issuer: ISS, jwks_uri: JWKS_URI })
      if (url.href === JWKS_URI) return Response.json(issuer.jwks)
      return new Response('not found', { status: 404 })
    }) as typeof fetch
    const guard = bearer({ issuer: `${ISS}/`, audience: AUD, fetch: stub, clock: movableClock() })
    const token = await sign(issuer.key, goodClaims())
    await assert.rejects(guard(withBearer(token)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'config_invalid')
      assert.match(
        err.message,
        /^bearer\(\): discovery "issuer" must equal "https?:\/\/[^"]+\/" exactly: set "issuer"/,
      )
      return true
    })
  })
})
