import assert from 'node:assert/strict'
import * as nodeCryptoModule from 'node:crypto'
import { describe, it } from 'node:test'
import { defaultCrypto, webCrypto } from '../../../src/core/crypto/index.ts'
import { createNodeCrypto } from '../../../src/core/crypto/node.ts'
import type { CryptoBackend } from '../../../src/core/crypto/types.ts'

const nodeCrypto = createNodeCrypto(nodeCryptoModule)

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

for (const backend of [webCrypto, nodeCrypto] as CryptoBackend[]) {
  describe(`crypto backend: ${backend.name}`, () => {
    it('sha256 matches the FIPS 180-2 "abc" vector', async () => {
      assert.equal(
        hex(await backend.sha256('abc')),
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      )
    })

    it('hmacSha256 matches RFC 4231 test case 2, and again with the key cached', async () => {
      const key = new TextEncoder().encode('Jefe')
      const expected = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'
      assert.equal(hex(await backend.hmacSha256(key, 'what do ya want for nothing?')), expected)
      assert.equal(hex(await backend.hmacSha256(key, 'what do ya want for nothing?')), expected)
    })

    it('hmac matches RFC 2202 (SHA-1) and RFC 4231 (SHA-256, SHA-512) test case 2', async () => {
      const key = new TextEncoder().encode('Jefe')
      const data = 'what do ya want for nothing?'
      assert.equal(
        hex(await backend.hmac('SHA-1', key, data)),
        'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
      )
      assert.equal(
        hex(await backend.hmac('SHA-256', key, data)),
        hex(await backend.hmacSha256(key, data)),
      )
      assert.equal(
        hex(await backend.hmac('SHA-512', key, data)),
        '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
      )
      await assert.rejects(backend.hmac('MD5' as 'SHA-1', key, data), TypeError)
    })

    it('hkdf matches RFC 5869 test case 1', async () => {
      const okm = await backend.hkdf(
        unhex('0b'.repeat(22)),
        unhex('000102030405060708090a0b0c'),
        unhex('f0f1f2f3f4f5f6f7f8f9'),
        42,
      )
      assert.equal(
        hex(okm),
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      )
    })

    it('randomBytes returns the requested length, differs between calls, fills > 64 KiB', () => {
      assert.equal(backend.randomBytes(32).length, 32)
      assert.notEqual(hex(backend.randomBytes(32)), hex(backend.randomBytes(32)))
      const big = backend.randomBytes(70_000)
      assert.equal(big.length, 70_000)
      // the tail past the first 64 KiB chunk is filled too
      assert.ok(big.subarray(65_536).some((b) => b !== 0))
    })

    it('randomBytes never repeats across many small draws (pool refills included)', () => {
      const seen = new Set<string>()
      for (let i = 0; i < 1000; i++) seen.add(hex(backend.randomBytes(33)))
      assert.equal(seen.size, 1000)
      for (const length of [0, 1, 511, 512, 513])
        assert.equal(backend.randomBytes(length).length, length)
    })

    it('timingSafeEqual compares content and treats different lengths as unequal', () => {
      assert.equal(backend.timingSafeEqual(unhex('0102'), unhex('0102')), true)
      assert.equal(backend.timingSafeEqual(unhex('0102'), unhex('0103')), false)
      assert.equal(backend.timingSafeEqual(unhex('0102'), unhex('010203')), false)
      assert.equal(backend.timingSafeEqual(new Uint8Array(), new Uint8Array()), true)
    })
  })
}

describe('crypto backend selection', () => {
  it('uses node:crypto on Node', () => {
    assert.equal(defaultCrypto.name, 'node')
  })

  it('both backends agree on random inputs', async () => {
    for (let i = 0; i < 50; i++) {
      const data = webCrypto.randomBytes(i * 7)
      const key = webCrypto.randomBytes(32)
      assert.equal(hex(await webCrypto.sha256(data)), hex(await nodeCrypto.sha256(data)))
      assert.equal(
        hex(await webCrypto.hmacSha256(key, data)),
        hex(await nodeCrypto.hmacSha256(key, data)),
      )
      assert.equal(
        hex(await webCrypto.hkdf(key, data, 'info', 48)),
        hex(await nodeCrypto.hkdf(key, data, 'info', 48)),
      )
    }
  })
})
