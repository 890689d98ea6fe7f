// The client's private_key_jwt (OIDC Core §9, RFC 7523 §2.2): per algorithm, with a CryptoKey
// and with a private JWK, an assertion jose verifies with the public key, iss = sub = client,
// aud the issuer, a 60 s life and a fresh jti each time; config errors name the field; and,
// end to end against our own OP (in process), client credentials with DPoP nonces, where the
// nonce retry must carry a new assertion (the OP refuses a replayed jti).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose'
import { clientAssertionKey, signClientAssertion } from '../../../src/client/client-assertion.ts'
import { applyClientAuth } from '../../../src/client/client-auth.ts'
import { ClientCredentialsFlow } from '../../../src/client/client-credentials.ts'
import { createOp } from '../../../src/op/create-op.ts'
import { code } from '../../helpers/assert-code.ts'

const ALGS = ['ES256', 'PS256', 'EdDSA', 'RS256', 'ES384'] as const
const clock = { now: () => Date.now() }
const pair = (alg: (typeof ALGS)[number], extractable = false) =>
  generateKeyPair(alg, { extractable, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })

describe('client private_key_jwt assertions', () => {
  for (const alg of ALGS) {
    it(`signs with ${alg} from a CryptoKey and from a private JWK`, async () => {
      const { privateKey, publicKey } = await pair(alg, true)
      const jwk = { ...(await exportJWK(privateKey)), kid: 'jwk-kid', alg }
      for (const key of [
        clientAssertionKey(privateKey, 'ck-kid'),
        clientAssertionKey(jwk as never),
      ]) {
        const target = { clientId: 'svc', audience: 'https://op.example', clock }
        const first = await signClientAssertion(key, target)
        const second = await signClientAssertion(key, target)
        const { payload, protectedHeader } = await jwtVerify(first, publicKey, {
          algorithms: [alg],
          issuer: 'svc',
          subject: 'svc',
          audience: 'https://op.example',
        })
        assert.equal(protectedHeader.alg, alg)
        assert.equal(protectedHeader.kid, key.kid)
        assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 60)
        assert.equal(typeof payload.jti, 'string')
        const again = await jwtVerify(second, publicKey)
        assert.notEqual(again.payload.jti, payload.jti, 'a fresh jti per assertion')
      }
    })
  }

  it('puts the assertion, its type and client_id in the body, no Authorization header', async () => {
    const { privateKey } = await pair('ES256')
    const body = new URLSearchParams()
    const headers: Record<string, string> = {}
    const key = clientAssertionKey(privateKey)
    await applyClientAuth(
      {
        clientId: 'svc',
        method: 'private_key_jwt',
        assertion: { key, audience: 'https://op.example', clock },
      },
      body,
      headers,
    )
    assert.equal(
      body.get('client_assertion_type'),
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    )
    assert.equal(body.get('client_id'), 'svc')
    assert.equal(decodeProtectedHeader(body.get('client_assertion') ?? '').kid, undefined)
    assert.equal(headers.authorization, undefined)
  })

  it('refuses keys it cannot sign with, naming the field', async () => {
    const { privateKey, publicKey } = await pair('ES256', true)
    const rsa = await pair('RS256', true)
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const rsaJwk = await exportJWK(rsa.privateKey)
    const cases: [unknown, RegExp][] = [
      [publicKey, /"clientPrivateKey" must be a private signing key/],
      [hmac, /"clientPrivateKey" must be a private signing key/],
      [await exportJWK(publicKey), /must be a CryptoKey or a private JWK/],
      [rsaJwk, /"clientPrivateKey.alg" must be one of/],
      [{ ...rsaJwk, alg: 'HS256' }, /"clientPrivateKey.alg" must be one of/],
    ]
    for (const [key, message] of cases)
      assert.throws(
        () => clientAssertionKey(key as never),
        code('config_invalid', undefined, (e) => assert.match(e.message, message)),
      )
    assert.throws(
      () =>
        new ClientCredentialsFlow({
          id: 'x',
          tokenEndpoint: 'https://op.example/token',
          authorizationEndpoint: 'https://op.example/authorize',
          clientId: 'svc',
          clientAuthMethod: 'private_key_jwt',
        }),
      /"clientPrivateKey" is required for clientAuthMethod "private_key_jwt"/,
    )
    assert.throws(
      () =>
        new ClientCredentialsFlow({
          id: 'x',
          tokenEndpoint: 'https://op.example/token',
          authorizationEndpoint: 'https://op.example/authorize',
          clientId: 'svc',
          clientSecret: 's',
          clientPrivateKey: privateKey,
        }),
      /"clientPrivateKey" is only used with clientAuthMethod "private_key_jwt"/,
    )
  })

  it('end to end against our OP: client credentials with DPoP nonces, a fresh assertion per attempt', async () => {
    const { privateKey, publicKey } = await pair('PS256')
    const op = await createOp({
      issuer: 'http://127.0.0.1:9100',
      logger: { warn() {}, error() {} },
      dpop: { nonce: 'required' },
      clients: [
        {
          client_id: 'svc',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'svc-1' }] },
          redirect_uris: [],
          grant_types: ['client_credentials'],
        },
      ],
    })
    const sent: string[] = []
    const service = new ClientCredentialsFlow(
      {
        id: 'local',
        issuer: op.issuer,
        clientId: 'svc',
        clientPrivateKey: privateKey,
        clientKeyId: 'svc-1',
        dpop: true,
      },
      {
        fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
          const request = new Request(input, init)
          if (request.method === 'POST')
            sent.push(
              new URLSearchParams(await request.clone().text()).get('client_assertion') ?? '',
            )
          return op.handler(request)
        }) as typeof fetch,
      },
    )
    const tokens = await service.token()
    assert.equal(tokens.tokenType, 'DPoP')
    assert.equal(sent.length, 2, 'one use_dpop_nonce answer, one retry')
    assert.notEqual(sent[0], sent[1], 'the retry signed a new assertion')
  })
})
