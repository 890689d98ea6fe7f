import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeBase64url, encodeBase64url, isBase64url } from '../../../src/core/base64url.ts'

describe('base64url', () => {
  it('matches Buffer for every length 0..64 and random content', () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n))
      const expected = Buffer.from(bytes).toString('base64url')
      assert.equal(encodeBase64url(bytes), expected)
      assert.deepEqual(decodeBase64url(expected), bytes)
    }
  })

  it('uses the URL-safe alphabet without padding', () => {
    assert.equal(encodeBase64url(new Uint8Array([251, 255])), '-_8')
    assert.equal(encodeBase64url(new Uint8Array([0])), 'AA')
  })

  it('rejects characters outside the alphabet and impossible lengths', () => {
    for (const bad of ['a+b', 'ab/c', 'abc=', 'a', 'abcde', 'é', 'a b']) {
      assert.equal(decodeBase64url(bad), undefined, bad)
    }
    // non-canonical: 'AB' would decode to [0] like 'AA'
    assert.equal(decodeBase64url('AB'), undefined)
    assert.equal(isBase64url(''), false)
    assert.equal(isBase64url('abc'), true)
    assert.equal(isBase64url('ab=c'), false)
  })
})
