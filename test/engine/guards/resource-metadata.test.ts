// The bearer guard's OAuth 2.0 Protected Resource Metadata (RFC 9728): the document and the
// well-known path derived from the resource (§3.1), its handler, the `resource_metadata` pointer
// in every challenge (§5.1), the audience defaulting to the resource, and the mistakes refused
// at creation.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resourceMetadataUrl } from '../../../src/engine/guards/resource-metadata.ts'
import { bearer } from '../../../src/index.ts'
import {
  AUD,
  assertRefusal,
  clock,
  goodClaims,
  ISS,
  JWKS_URI,
  localIssuer,
  principal,
  request,
  sign,
  withBearer,
} from './helpers.ts'

const quiet = { warn() {} }
const META = `${AUD}/.well-known/oauth-protected-resource`

describe('bearer resourceMetadata (RFC 9728)', () => {
  it('derives the well-known URL by inserting the suffix before the path (§3.1)', () => {
    assert.equal(resourceMetadataUrl('https://api.example').href, META)
    assert.equal(resourceMetadataUrl('https://api.example/').href, META)
    assert.equal(
      resourceMetadataUrl('https://api.example/v1/orders').href,
      `${AUD}/.well-known/oauth-protected-resource/v1/orders`,
    )
    assert.equal(
      resourceMetadataUrl('http://localhost:3000/x').href,
      'http://localhost:3000/.well-known/oauth-protected-resource/x',
    )
  })

  it('serves the document at its path, with the resource exactly as configured', async () => {
    const issuer = await localIssuer()
    const guard = bearer({
      issuer: ISS,
      jwksUri: JWKS_URI,
      fetch: issuer.fetch,
      clock,
      logger: quiet,
      resourceMetadata: {
        resource: `${AUD}/v1`,
        authorizationServers: [ISS],
        scopesSupported: ['orders:read'],
        resourceName: 'Orders',
      },
      dpop: { algorithms: ['ES256'] },
    })
    const metadata = guard.metadata
    assert.ok(metadata)
    assert.equal(metadata.path, '/.well-known/oauth-protected-resource/v1')
    assert.equal(metadata.url, `${AUD}${metadata.path}`)
    const response = metadata.handler(new Request(metadata.url))
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(await response.json(), {
      resource: `${AUD}/v1`,
      authorization_servers: [ISS],
      bearer_methods_supported: ['header'],
      scopes_supported: ['orders:read'],
      resource_name: 'Orders',
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: false,
    })
    assert.equal(metadata.handler(new Request(`${AUD}/elsewhere`)).status, 404)
    const post = metadata.handler(new Request(metadata.url, { method: 'POST', body: 'x' }))
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
    const head = metadata.handler(new Request(metadata.url, { method: 'HEAD' }))
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
  })

  it('points every challenge at the metadata (§5.1) and defaults aud to the resource', async () => {
    const issuer = await localIssuer()
    const guard = bearer({
      issuer: ISS,
      jwksUri: JWKS_URI,
      fetch: issuer.fetch,
      clock,
      logger: quiet,
      scopes: ['orders:read'],
      resourceMetadata: { resource: AUD, authorizationServers: [ISS] },
    })
    const pointer = `resource_metadata="${META}"`
    await assertRefusal(await guard(request()), {
      status: 401,
      challenge: `Bearer realm="authkestra", ${pointer}`,
      error: 'unauthorized',
    })
    const good = await sign(issuer.key, goodClaims())
    assert.equal(principal(await guard(withBearer(good))).subject, 'user-1')
    // aud defaults to the resource: a token for another API is refused.
    const other = await sign(issuer.key, { ...goodClaims(), aud: 'https://other.example' })
    await assertRefusal(await guard(withBearer(other)), {
      status: 401,
      challenge: `Bearer realm="authkestra", error="invalid_token", ${pointer}`,
      error: 'invalid_token',
      secret: other,
    })
    const narrow = await sign(issuer.key, { ...goodClaims(), scope: 'profile' })
    await assertRefusal(await guard(withBearer(narrow)), {
      status: 403,
      challenge: `Bearer realm="authkestra", error="insufficient_scope", scope="orders:read", ${pointer}`,
      error: 'insufficient_scope',
    })
  })

  it('an explicit audience still wins; without resourceMetadata nothing changes', async () => {
    const issuer = await localIssuer()
    const base = { issuer: ISS, jwksUri: JWKS_URI, fetch: issuer.fetch, clock, logger: quiet }
    const explicit = bearer({
      ...base,
      audience: 'https://other.example',
      resourceMetadata: { resource: AUD, authorizationServers: [ISS] },
    })
    const forOther = await sign(issuer.key, { ...goodClaims(), aud: 'https://other.example' })
    assert.equal(principal(await explicit(withBearer(forOther))).subject, 'user-1')
    const plain = bearer({ ...base, audience: AUD })
    assert.equal(plain.metadata, undefined)
    await assertRefusal(await plain(request()), {
      status: 401,
      challenge: 'Bearer realm="authkestra"',
      error: 'unauthorized',
    })
  })

  it('refuses bad metadata at creation, naming the option', () => {
    const base = { issuer: ISS, jwksUri: JWKS_URI }
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ resource: 'api', authorizationServers: [ISS] }, /resourceMetadata\.resource/],
      [{ resource: `${AUD}#x`, authorizationServers: [ISS] }, /fragment/],
      [{ resource: `${AUD}?q=1`, authorizationServers: [ISS] }, /must not contain a query/],
      [
        { resource: 'http://api.example', authorizationServers: [ISS] },
        /resourceMetadata\.resource/,
      ],
      [{ resource: AUD, authorizationServers: 'x' }, /authorizationServers/],
      [{ resource: AUD, authorizationServers: [ISS], scopesSupported: ['a b'] }, /scopesSupported/],
    ]
    for (const [resourceMetadata, message] of cases) {
      assert.throws(
        () => bearer({ ...base, resourceMetadata } as unknown as Parameters<typeof bearer>[0]),
        message,
        JSON.stringify(resourceMetadata),
      )
    }
  })
})
