// private_key_jwt keys at the OP: a jwks_uri set fetched, cached and refetched (rate-limited) on
// an unknown kid, a published private key refusing the set; discovery; and registration checked
// at start (private or symmetric keys, both or neither key sources, a secret, bad URIs and
// algorithms refused, each naming the field).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createOp } from '../../src/op/create-op.ts'
import { assertionWorld, ISSUER, makeKey } from './helpers/assertion-world.ts'

describe('OP private_key_jwt keys at a jwks_uri, and discovery', () => {
  it('jwks_uri: fetched once, cached, refetched on an unknown kid at most once per window', async () => {
    const w = await assertionWorld()
    const first = await makeKey('ES256', 'uri-1')
    w.uriKeys.current = [first.publicJwk]
    assert.equal((await w.clientCredentials(await w.sign(first, 'pk-uri'))).status, 200)
    assert.equal((await w.clientCredentials(await w.sign(first, 'pk-uri'))).status, 200)
    assert.deepEqual(w.fetched, ['https://client.example/jwks.json'])
    // The client rotates: a new kid makes the OP refetch, once.
    const second = await makeKey('ES256', 'uri-2')
    w.uriKeys.current = [second.publicJwk]
    w.now.value += 31_000
    assert.equal((await w.clientCredentials(await w.sign(second, 'pk-uri'))).status, 200)
    assert.equal(w.fetched.length, 2)
    // A burst of unknown kids within the window fetches nothing more.
    for (let i = 0; i < 5; i++) {
      const res = await w.clientCredentials(
        await w.sign(second, 'pk-uri', { header: { kid: `bogus-${i}` } }),
      )
      assert.equal(res.status, 401)
    }
    assert.equal(w.fetched.length, 2)
    // A published set holding a private key is refused whole.
    w.uriKeys.current = [second.privateJwk]
    w.now.value += 301_000
    const res = await w.clientCredentials(await w.sign(second, 'pk-uri'))
    assert.equal(res.status, 401)
    assert.equal(res.body.error, 'invalid_client')
    assert.ok(w.warnings.some((m) => m.includes('jwks_uri not usable')))
  })

  it('discovery lists private_key_jwt and the signing algorithms', async () => {
    const w = await assertionWorld()
    const meta = w.op.metadata()
    for (const name of ['token', 'revocation', 'introspection']) {
      assert.ok(
        (meta[`${name}_endpoint_auth_methods_supported`] as string[]).includes('private_key_jwt'),
      )
      assert.deepEqual(meta[`${name}_endpoint_auth_signing_alg_values_supported`], [
        'ES256',
        'PS256',
        'EdDSA',
        'Ed25519',
        'RS256',
        'ES384',
      ])
    }
  })
})

describe('private_key_jwt registration', () => {
  const base = {
    client_id: 'c',
    token_endpoint_auth_method: 'private_key_jwt' as const,
    redirect_uris: [],
    grant_types: ['client_credentials'] as const,
  }
  const start = (client: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    createOp({
      issuer: ISSUER,
      logger: { warn() {}, error() {} },
      clients: [{ ...base, ...client } as never],
      ...extra,
    })

  it('refuses private or symmetric keys, both or neither key sources, a secret, bad URIs and algorithms', async () => {
    const es = await makeKey('ES256')
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'private EC key',
        { jwks: { keys: [es.privateJwk] } },
        /"clients\[0\]\.jwks\.keys\[0\]" holds private key members/,
      ],
      [
        'private RSA members',
        { jwks: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB', p: 'x' }] } },
        /holds private key members/,
      ],
      [
        'symmetric key',
        { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
        /"clients\[0\]\.jwks\.keys\[0\]" is a symmetric key/,
      ],
      ['empty set', { jwks: { keys: [] } }, /"clients\[0\]\.jwks" must be a JWK Set/],
      [
        'encryption key',
        { jwks: { keys: [{ ...es.publicJwk, use: 'enc' }] } },
        /"use" must be "sig"/,
      ],
      [
        'both',
        { jwks: { keys: [es.publicJwk] }, jwks_uri: 'https://c.example/jwks' },
        /exactly one of "jwks" and "jwks_uri"/,
      ],
      ['neither', {}, /exactly one of "jwks" and "jwks_uri"/],
      [
        'with a secret',
        { jwks: { keys: [es.publicJwk] }, client_secret: 'x'.repeat(32) },
        /"clients\[0\]\.client_secret" is forbidden/,
      ],
      [
        'http jwks_uri',
        { jwks_uri: 'http://c.example/jwks' },
        /"clients\[0\]\.jwks_uri" must use https/,
      ],
      [
        'alg none',
        { jwks: { keys: [es.publicJwk] }, token_endpoint_auth_signing_alg: 'none' },
        /"clients\[0\]\.token_endpoint_auth_signing_alg" must be one of/,
      ],
      [
        'HS256',
        { jwks: { keys: [es.publicJwk] }, token_endpoint_auth_signing_alg: 'HS256' },
        /token_endpoint_auth_signing_alg/,
      ],
      [
        'jwks on a secret client',
        {
          token_endpoint_auth_method: 'client_secret_basic',
          client_secret: 'x'.repeat(32),
          jwks: { keys: [es.publicJwk] },
        },
        /"clients\[0\]\.jwks" needs token_endpoint_auth_method "private_key_jwt"/,
      ],
    ]
    for (const [name, client, message] of cases) {
      await assert.rejects(start(client), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'config_invalid', name)
        assert.match(err.message, message, name)
        return true
      })
    }
    await assert.rejects(
      start({ jwks: { keys: [es.publicJwk] } }, { clientAssertion: { algorithms: ['HS256'] } }),
      /"clientAssertion\.algorithms" may only list/,
    )
    await assert.rejects(
      start(
        { jwks: { keys: [es.publicJwk] } },
        { clientAssertion: { maxLifetimeSeconds: 86_400 } },
      ),
      /"clientAssertion\.maxLifetimeSeconds" must be an integer/,
    )
  })

  it('accepts jwks_uri on loopback http and a configured lifetime', async () => {
    const op = await start(
      { jwks_uri: 'http://127.0.0.1:4000/jwks' },
      { clientAssertion: { maxLifetimeSeconds: 60 } },
    )
    assert.equal(op.issuer, ISSUER)
  })
})
