import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createOp } from '../../src/op/create-op.ts'
import { testOp } from './helpers/op-setup.ts'

const quiet = { warn: () => {}, error: () => {} }

describe('discovery and JWKS', () => {
  it('advertises only what is enforced', async () => {
    const { op } = await testOp()
    const response = await op.handler(
      new Request('http://127.0.0.1:9000/.well-known/openid-configuration'),
    )
    assert.equal(response.status, 200)
    const doc = (await response.json()) as Record<string, unknown>
    assert.equal(doc.issuer, 'http://127.0.0.1:9000')
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256'])
    assert.equal(doc.authorization_response_iss_parameter_supported, true)
    assert.deepEqual(doc.response_types_supported, ['code'])
    assert.deepEqual(doc.response_modes_supported, ['query'])
    // OIDC Discovery 1.0 §3: RS256 MUST be listed; ES256 is the default.
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256', 'RS256'])
    assert.equal(doc.request_parameter_supported, false)
    for (const name of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'revocation_endpoint',
      'introspection_endpoint',
    ]) {
      assert.match(String(doc[name]), /^http:\/\/127\.0\.0\.1:9000\//)
    }
    const rfc8414 = await op.handler(
      new Request('http://127.0.0.1:9000/.well-known/oauth-authorization-server'),
    )
    assert.deepEqual(await rfc8414.json(), doc)
  })

  it('mounts under the issuer path, with the RFC 8414 path-insertion URL too', async () => {
    const op = await createOp({ issuer: 'https://app.example/oidc', logger: quiet })
    const inside = await op.handler(
      new Request('https://app.example/oidc/.well-known/openid-configuration'),
    )
    assert.equal(
      ((await inside.json()) as { token_endpoint: string }).token_endpoint,
      'https://app.example/oidc/token',
    )
    const inserted = await op.handler(
      new Request('https://app.example/.well-known/oauth-authorization-server/oidc'),
    )
    assert.equal(inserted.status, 200)
    assert.equal((await op.handler(new Request('https://app.example/token'))).status, 404)
    assert.equal((await op.handler(new Request('https://app.example/oidcx/token'))).status, 404)
  })

  it('publishes public keys only, and keeps old keys after rotation', async () => {
    const { op } = await testOp()
    const first = (await (await op.handler(new Request('http://127.0.0.1:9000/jwks'))).json()) as {
      keys: Record<string, unknown>[]
    }
    // One key of each default algorithm (ES256 made at start, RS256 on this first JWKS request).
    assert.deepEqual(first.keys.map((k) => k.alg).sort(), ['ES256', 'RS256'])
    for (const key of first.keys) {
      assert.equal(key.use, 'sig')
      assert.equal(typeof key.kid, 'string')
      for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
        assert.equal(key[part], undefined, 'no private part')
    }
    await op.rotateKeys()
    const after = (await (await op.handler(new Request('http://127.0.0.1:9000/jwks'))).json()) as {
      keys: { kid: string }[]
    }
    assert.equal(after.keys.length, 4)
    for (const key of first.keys) assert.ok(after.keys.some((k) => k.kid === key.kid))
  })

  for (const alg of ['RS256', 'EdDSA'] as const) {
    it(`can sign with ${alg}`, async () => {
      const op = await createOp({ issuer: 'http://127.0.0.1:9000', signingAlg: alg, logger: quiet })
      const jwks = (await (await op.handler(new Request('http://127.0.0.1:9000/jwks'))).json()) as {
        keys: { alg: string; d?: string }[]
      }
      assert.equal(jwks.keys[0]?.alg, alg)
      assert.equal(jwks.keys[0]?.d, undefined)
      assert.deepEqual(op.metadata().id_token_signing_alg_values_supported, [alg])
    })
  }

  it('answers unknown paths with 404 JSON', async () => {
    const { op } = await testOp()
    const response = await op.handler(new Request('http://127.0.0.1:9000/nope'))
    assert.equal(response.status, 404)
    assert.deepEqual(await response.json(), { error: 'not_found' })
  })
})

describe('configuration errors name the field', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['issuer with a trailing slash', { issuer: 'https://a.example/' }, /"issuer"/],
    ['plain http issuer off loopback', { issuer: 'http://a.example' }, /"issuer"/],
    [
      'client without redirect URIs',
      { clients: [{ client_id: 'x', redirect_uris: [] }] },
      /"clients\[0\]\.redirect_uris"/,
    ],
    [
      'client with an http redirect off loopback',
      { clients: [{ client_id: 'x', redirect_uris: ['http://a.example/cb'] }] },
      /"clients\[0\]\.redirect_uris\[0\]"/,
    ],
    [
      'secret with method none',
      {
        clients: [
          {
            client_id: 'x',
            client_secret: 's',
            token_endpoint_auth_method: 'none',
            redirect_uris: ['https://a/cb'],
          },
        ],
      },
      /"clients\[0\]\.client_secret"/,
    ],
    [
      'client_credentials for a public client',
      { clients: [{ client_id: 'x', grant_types: ['client_credentials'], redirect_uris: [] }] },
      /"clients\[0\]\.grant_types"/,
    ],
    [
      'duplicate client ids',
      {
        clients: [
          { client_id: 'x', redirect_uris: ['https://a/cb'] },
          { client_id: 'x', redirect_uris: ['https://a/cb'] },
        ],
      },
      /"clients\[1\]\.client_id"/,
    ],
    [
      'unknown client scope',
      { clients: [{ client_id: 'x', redirect_uris: ['https://a/cb'], scope: 'api:write' }] },
      /"clients\[0\]\.scope"/,
    ],
    [
      'account without password',
      { accounts: [{ username: 'a', password: '' }] },
      /"accounts\[0\]\.password"/,
    ],
    ['code TTL over 60 s', { ttl: { code: 61 } }, /"ttl\.code"/],
    ['unknown signing alg', { signingAlg: 'HS256' }, /"signingAlg"/],
  ]
  for (const [label, patch, field] of cases) {
    it(label, async () => {
      await assert.rejects(
        createOp({ issuer: 'http://127.0.0.1:9000', logger: quiet, ...patch } as never),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'config_invalid')
          assert.match(err.message, field)
          return true
        },
      )
    })
  }
})
