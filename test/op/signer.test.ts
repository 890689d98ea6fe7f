// The OP's token signer: the synchronous node:crypto path and jose's portable path give the same
// header and claims, and jose verifies both, for each algorithm the OP signs with.
import assert from 'node:assert/strict'
import * as nodeCryptoModule from 'node:crypto'
import { describe, it } from 'node:test'
import { decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose'
import { createNodeCrypto } from '../../src/core/crypto/node.ts'
import { webCrypto } from '../../src/core/crypto/web.ts'
import { createTokenSigner } from '../../src/op/tokens/signer.ts'

const nodeCrypto = createNodeCrypto(nodeCryptoModule)

const claims = {
  iss: 'https://op.example',
  sub: 'ålice',
  aud: 'app',
  iat: 1,
  exp: 4_000_000_000,
  n: [1, 'x'],
}

describe('createTokenSigner', () => {
  for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as const) {
    it(`${alg}: node:crypto and jose paths sign the same JWT, and jose verifies both`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg)
      const key = { kid: 'k1', alg, key: privateKey }
      const fast = createTokenSigner(key, nodeCrypto)
      const portable = createTokenSigner(key, webCrypto)
      for (const signer of [fast, portable]) {
        const token = await signer.sign('at+jwt', claims)
        assert.deepEqual(decodeProtectedHeader(token), { alg, kid: 'k1', typ: 'at+jwt' })
        const { payload } = await jwtVerify(token, publicKey, { algorithms: [alg], typ: 'at+jwt' })
        assert.deepEqual(payload, claims)
      }
      const [a, b] = [await fast.sign('JWT', claims), await portable.sign('JWT', claims)]
      assert.equal(a.split('.')[0], b.split('.')[0], 'the same header bytes')
      assert.equal(a.split('.')[1], b.split('.')[1], 'the same payload bytes')
    })
  }
})
