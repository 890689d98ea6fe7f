// The `node:crypto` JWS primitives against jose: what one signs the other verifies, for every
// algorithm; tampered, foreign-key, wrong-curve and non-canonical signatures are refused.
import assert from 'node:assert/strict'
import * as nodeCrypto from 'node:crypto'
import { describe, it } from 'node:test'
import { CompactSign, compactVerify, generateKeyPair } from 'jose'
import { createNodeJws } from '../../../src/core/crypto/node-jws.ts'

const nodeJws = createNodeJws(nodeCrypto)

const ALGS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const

const enc = new TextEncoder()
const input = (payload: object) =>
  `${nodeJws.encode(JSON.stringify({ alg: 'x' }))}.${nodeJws.encode(JSON.stringify(payload))}`

describe('node:crypto JWS primitives', () => {
  for (const alg of ALGS) {
    it(`${alg}: node signs what jose verifies, and verifies what jose signs`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
      const other = await generateKeyPair(alg, { extractable: true })
      const sign = nodeJws.signer(privateKey, alg)
      const check = nodeJws.verifier(publicKey, alg)
      assert.ok(sign && check, 'supported')
      // node → jose
      const header = nodeJws.encode(JSON.stringify({ alg }))
      const signingInput = `${header}.${nodeJws.encode('{"sub":"ünï"}')}`
      const token = `${signingInput}.${sign(signingInput)}`
      const { payload } = await compactVerify(token, publicKey, { algorithms: [alg] })
      assert.equal(new TextDecoder().decode(payload), '{"sub":"ünï"}')
      // jose → node
      const joseToken = await new CompactSign(enc.encode('{"a":1}'))
        .setProtectedHeader({ alg })
        .sign(privateKey)
      const [h, p, s] = joseToken.split('.') as [string, string, string]
      assert.equal(check(`${h}.${p}`, s), true)
      assert.equal(check(`${h}.${p}x`, s), false, 'another signing input')
      assert.equal(nodeJws.verifier(other.publicKey, alg)?.(`${h}.${p}`, s), false, 'another key')
      assert.equal(check(`${h}.${p}`, `${s}A`), false, 'a longer signature')
      assert.equal(check(`${h}.${p}`, s.slice(0, -2)), false, 'a shorter signature')
      assert.equal(check(`${h}.${p}`, `${s.slice(0, -1)}+`), false, 'not base64url')
      assert.equal(nodeJws.signer(publicKey, alg), undefined, 'a public key cannot sign')
      assert.equal(
        nodeJws.verifier(privateKey, alg),
        undefined,
        'verification takes the public key',
      )
    })
  }

  it('HS256/384/512: signs and verifies what jose does, refuses another secret', async () => {
    const secret = enc.encode('a-shared-secret-of-at-least-32-bytes!!')
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const token = await new CompactSign(enc.encode('{}')).setProtectedHeader({ alg }).sign(secret)
      const [h, p, s] = token.split('.') as [string, string, string]
      assert.equal(nodeJws.verifier(secret, alg)?.(`${h}.${p}`, s), true)
      assert.equal(
        nodeJws.verifier(enc.encode('another-secret-of-enough-length!!!!'), alg)?.(`${h}.${p}`, s),
        false,
      )
      const mac = nodeJws.signer(secret, alg)?.(`${h}.${p}`)
      assert.equal(mac, s, 'node signs the same MAC')
    }
  })

  it('refuses a key of the wrong type or curve, and unknown algorithms', async () => {
    const p256 = await generateKeyPair('ES256')
    const rsa = await generateKeyPair('RS256')
    assert.equal(nodeJws.verifier(p256.publicKey, 'ES384'), undefined)
    assert.equal(nodeJws.verifier(rsa.publicKey, 'ES256'), undefined)
    assert.equal(nodeJws.verifier(p256.publicKey, 'EdDSA'), undefined)
    assert.equal(nodeJws.verifier(p256.publicKey, 'none'), undefined)
    assert.equal(nodeJws.verifier(p256.publicKey, 'HS256'), undefined, 'an HMAC alg needs bytes')
    assert.equal(nodeJws.signer(p256.privateKey, 'none'), undefined)
    const small = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair
    assert.equal(nodeJws.verifier(small.publicKey, 'RS256'), undefined, 'RSA keys under 2048 bits')
    assert.equal(input({}).split('.').length, 2)
  })

  it('decodes canonical base64url only', () => {
    assert.equal(nodeJws.decode(nodeJws.encode('{"a":"é"}')), '{"a":"é"}')
    assert.equal(nodeJws.decode('e30'), '{}')
    for (const bad of ['e30=', 'e3+', 'e31', 'a', 'e3 0'])
      assert.equal(nodeJws.decode(bad), undefined, bad)
  })
})
