import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cacheTtlMs, DiscoveryCache, wellKnownUrl } from '../../../src/client/discovery.ts'
import { resolveHttpOptions } from '../../../src/client/http.ts'
import { code } from '../../helpers/assert-code.ts'

const ISSUER = 'https://id.example'

function server(doc: Record<string, unknown>, headers: Record<string, string> = {}) {
  const calls: string[] = []
  const fetch = (async (input: RequestInfo | URL) => {
    calls.push(String(input))
    await new Promise((r) => setTimeout(r, 5))
    return new Response(JSON.stringify(doc), {
      headers: { 'content-type': 'application/json', ...headers },
    })
  }) as typeof globalThis.fetch
  return { calls, fetch }
}

const doc = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/auth`,
  token_endpoint: `${ISSUER}/token`,
  jwks_uri: `${ISSUER}/jwks`,
}

function cache(fetch: typeof globalThis.fetch, now: () => number = Date.now, issuer = ISSUER) {
  return new DiscoveryCache(issuer, 'openid-configuration', {
    http: resolveHttpOptions({ fetch }),
    clock: { now },
    allowInsecureHttp: false,
  })
}

describe('discovery', () => {
  it('builds well-known URLs for OIDC and RFC 8414, with and without a path', () => {
    assert.equal(
      wellKnownUrl('https://id.example', 'openid-configuration').href,
      'https://id.example/.well-known/openid-configuration',
    )
    assert.equal(
      wellKnownUrl('https://id.example/tenant/', 'openid-configuration').href,
      'https://id.example/tenant/.well-known/openid-configuration',
    )
    assert.equal(
      wellKnownUrl('https://id.example/tenant', 'oauth-authorization-server').href,
      'https://id.example/.well-known/oauth-authorization-server/tenant',
    )
  })

  it('reads Cache-Control within [1 min, 24 h], 1 h by default', () => {
    assert.equal(cacheTtlMs(null), 3_600_000)
    assert.equal(cacheTtlMs('public, max-age=600'), 600_000)
    assert.equal(cacheTtlMs('max-age=5'), 60_000)
    assert.equal(cacheTtlMs('max-age=99999999'), 86_400_000)
    assert.equal(cacheTtlMs('no-store'), 60_000)
    assert.equal(cacheTtlMs('private'), 3_600_000)
  })

  it('caches until the TTL, shares one fetch between concurrent callers, then refetches', async () => {
    let now = 0
    const s = server(doc, { 'cache-control': 'max-age=300' })
    const c = cache(s.fetch, () => now)
    const [a, b] = await Promise.all([c.get(), c.get()])
    assert.equal(a, b)
    assert.equal(s.calls.length, 1)
    now += 299_000
    await c.get()
    assert.equal(s.calls.length, 1)
    now += 2_000
    await c.get()
    assert.equal(s.calls.length, 2)
  })

  it('refuses a document for another issuer, even one differing by a slash', async () => {
    await assert.rejects(
      cache(server({ ...doc, issuer: 'https://evil.example' }).fetch).get(),
      code('discovery_issuer_mismatch'),
    )
    await assert.rejects(
      cache(server({ ...doc, issuer: `${ISSUER}/` }).fetch).get(),
      code('discovery_issuer_mismatch'),
    )
  })

  it('refuses insecure or missing endpoints and malformed fields', async () => {
    const bad = [
      { ...doc, token_endpoint: 'http://id.example/token' },
      { ...doc, authorization_endpoint: undefined },
      { ...doc, jwks_uri: undefined },
      { ...doc, code_challenge_methods_supported: 'S256' },
      { ...doc, authorization_response_iss_parameter_supported: 'true' },
    ]
    for (const d of bad)
      await assert.rejects(cache(server(d).fetch).get(), code('discovery_invalid'))
  })

  it('reports a non-200 answer as a typed error, and retries only once the backoff has passed', async () => {
    let fail = true
    let calls = 0
    const fetch = (async () => {
      calls++
      if (fail) return new Response('nope', { status: 503 })
      return new Response(JSON.stringify(doc))
    }) as typeof globalThis.fetch
    let now = 1_000_000
    const c = cache(fetch, () => now)
    await assert.rejects(c.get(), code('discovery_invalid'))
    fail = false
    await assert.rejects(c.get(), code('discovery_invalid'), 'negative cache: the same failure')
    assert.equal(calls, 1)
    now += 1_000
    assert.equal((await c.get()).issuer, ISSUER)
    assert.equal(calls, 2)
  })

  it('backs off exponentially while the provider keeps failing, one fetch for any number of callers', async () => {
    let calls = 0
    const fetch = (async () => {
      calls++
      await new Promise((r) => setTimeout(r, 5))
      throw new TypeError('fetch failed')
    }) as typeof globalThis.fetch
    let now = 5_000_000
    const c = cache(fetch, () => now)
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => c.get()))
    assert.ok(results.every((r) => r.status === 'rejected'))
    assert.equal(calls, 1, 'single flight')
    // waits of 1, 2, 4, 8, 16, 32, 60, 60 s: a request only at each boundary
    const waits = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]
    for (const [i, wait] of waits.entries()) {
      now += wait - 1
      await assert.rejects(c.get(), code('provider_unreachable'))
      assert.equal(calls, i + 1, `no fetch before ${wait} ms`)
      now += 1
      await assert.rejects(c.get(), code('provider_unreachable'))
      assert.equal(calls, i + 2)
    }
  })
})
