// The assertion checks on both crypto backends: node:crypto's synchronous verifier (the default
// here) and jose over Web Crypto (every other runtime). Per algorithm, a sound assertion passes
// and the same assertion with its signature changed, or signed by another key, is refused on
// each backend alike.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defaultCrypto } from '../../src/core/crypto/index.ts'
import { webCrypto } from '../../src/core/crypto/web.ts'
import {
  AssertionRefused,
  JWT_BEARER_ASSERTION,
  verifyClientAssertion,
} from '../../src/op/endpoints/client-assertion.ts'
import { fromWebRequest } from '../../src/op/http/message.ts'
import { Params } from '../../src/op/http/params.ts'
import { setupOp } from '../../src/op/setup.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { ALGS, ISSUER, makeKey, signAssertion, type TestKey } from './helpers/assertion-world.ts'

describe('client assertions on both crypto backends', () => {
  it('node:crypto is the default here, and Web Crypto has no synchronous JWS', () => {
    assert.equal(defaultCrypto.name, 'node')
    assert.equal(webCrypto.jws, undefined)
  })

  for (const backend of [defaultCrypto, webCrypto]) {
    it(`${backend.name}: each algorithm verifies; a changed signature or another key does not`, async () => {
      const keys: TestKey[] = await Promise.all(ALGS.map((a) => makeKey(a)))
      const now = { value: Date.now() }
      const clock = { now: () => now.value }
      const store = createMemoryOpStore({ clock })
      const runtime = await setupOp({
        issuer: ISSUER,
        store,
        clock,
        logger: { warn() {}, error() {} },
        clients: [
          {
            client_id: 'pk',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: keys.map((k) => k.publicJwk as Record<string, unknown>) },
            redirect_uris: [],
            grant_types: ['client_credentials'],
          },
        ],
      })
      const check = (assertion: string) =>
        verifyClientAssertion(
          fromWebRequest(new Request(`${ISSUER}/token`, { method: 'POST' })),
          new Params(
            new URLSearchParams({
              client_assertion_type: JWT_BEARER_ASSERTION,
              client_assertion: assertion,
            }),
          ),
          runtime,
          backend,
        )
      const refused = async (assertion: string, name: string) =>
        assert.rejects(check(assertion), (err: unknown) => {
          assert.ok(err instanceof AssertionRefused, `${name}: ${String(err)}`)
          assert.equal(err.message, 'bad signature', name)
          return true
        })
      for (const key of keys) {
        const client = await check(await signAssertion(key, 'pk', now))
        assert.equal(client.clientId, 'pk', key.alg)
        const sound = await signAssertion(key, 'pk', now)
        const flipped = `${sound.slice(0, -4)}${sound.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
        await refused(flipped, `${key.alg} changed signature`)
        await refused(
          await signAssertion(await makeKey(key.alg, key.kid), 'pk', now),
          `${key.alg} another key`,
        )
      }
      // Ed25519 (RFC 9864) verifies with the EdDSA key on this backend too.
      const ed = keys.find((k) => k.alg === 'EdDSA') as TestKey
      const named = await signAssertion(ed, 'pk', now, { header: { alg: 'Ed25519' } })
      assert.equal((await check(named)).clientId, 'pk')
      store.close()
    })
  }
})
