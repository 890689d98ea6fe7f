// The API key guard and apiKeyHashes: missing, empty, oversized, refused and accepted keys, the
// exact challenge, constant-time hash matching on both crypto backends, configuration mistakes.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { webCrypto } from '../../../src/core/index.ts'
import { apiKey, apiKeyHashes } from '../../../src/index.ts'
import { code } from '../../helpers/assert-code.ts'
import { assertRefusal, principal, request } from './helpers.ts'

const KEY = 'ak_live_3fa9c2e07b1d4c55a8e6f0b2d9c41e7a'
const OTHER = 'ak_live_0000000000000000000000000000beef'
const sha256 = (s: string, encoding: 'hex' | 'base64url' = 'hex') =>
  createHash('sha256').update(s).digest(encoding)

describe('apiKey guard', () => {
  const calls: string[] = []
  const guard = apiKey({
    verify: async (key) => {
      calls.push(key)
      return key === KEY ? { service: 'billing' } : null
    },
  })
  const CHALLENGE = 'ApiKey header="x-api-key"'

  const rows: {
    name: string
    headers: Record<string, string>
    error: string
    verified: boolean
  }[] = [
    { name: 'no header', headers: {}, error: 'unauthorized', verified: false },
    {
      name: 'an empty header',
      headers: { 'x-api-key': '' },
      error: 'unauthorized',
      verified: false,
    },
    {
      name: 'the key in another header',
      headers: { authorization: `Bearer ${KEY}` },
      error: 'unauthorized',
      verified: false,
    },
    {
      name: 'a wrong key',
      headers: { 'x-api-key': OTHER },
      error: 'invalid_api_key',
      verified: true,
    },
    {
      name: 'a key over 1024 characters',
      headers: { 'x-api-key': KEY + 'x'.repeat(1024) },
      error: 'invalid_api_key',
      verified: false,
    },
    {
      name: 'two keys',
      headers: { 'x-api-key': `${KEY}, ${OTHER}` },
      error: 'invalid_api_key',
      verified: true,
    },
  ]
  for (const row of rows) {
    it(`refuses ${row.name}: 401 ${row.error}`, async () => {
      calls.length = 0
      await assertRefusal(await guard(request(row.headers)), {
        status: 401,
        challenge: CHALLENGE,
        error: row.error,
        secret: row.headers['x-api-key'] ?? KEY,
      })
      assert.equal(calls.length, row.verified ? 1 : 0)
    })
  }

  it('accepts a key verify accepts, and passes it unchanged', async () => {
    calls.length = 0
    assert.deepEqual(principal(await guard(request({ 'x-api-key': KEY }))), { service: 'billing' })
    assert.deepEqual(calls, [KEY])
  })

  it('accepts a key of exactly 1024 characters', async () => {
    const long = 'k'.repeat(1024)
    const g = apiKey({ verify: async (key) => (key === long ? { ok: 1 } : null) })
    assert.ok((await g(request({ 'x-api-key': long }))).ok)
  })

  it('reads another header, named in the challenge in lowercase', async () => {
    const g = apiKey({ header: 'X-Service-Key', verify: async () => ({ id: 1 }) })
    await assertRefusal(await g(request({ 'x-api-key': KEY })), {
      status: 401,
      challenge: 'ApiKey header="x-service-key"',
      error: 'unauthorized',
    })
    assert.ok((await g(request({ 'X-Service-Key': KEY }))).ok)
  })

  it('refuses what a JavaScript verify returns that is not an object', async () => {
    for (const value of [undefined, false, true, 0, 'user']) {
      const g = apiKey({ verify: (async () => value) as never })
      await assertRefusal(await g(request({ 'x-api-key': KEY })), {
        status: 401,
        challenge: CHALLENGE,
        error: 'invalid_api_key',
        secret: KEY,
      })
    }
  })

  it('lets an error of verify propagate', async () => {
    const g = apiKey({
      verify: async () => {
        throw new Error('key store down')
      },
    })
    await assert.rejects(g(request({ 'x-api-key': KEY })), /key store down/)
  })

  for (const [name, options] of [
    ['a header name with a space', { header: 'x api key', verify: async () => null }],
    ['an empty header name', { header: '', verify: async () => null }],
    ['no verify', {}],
  ] as const) {
    it(`throws config_invalid for ${name}`, () => {
      assert.throws(() => apiKey(options as never), code('config_invalid'))
    })
  }
})

describe('apiKeyHashes', () => {
  for (const [backend, crypto] of [
    ['default', undefined],
    ['web', webCrypto],
  ] as const) {
    it(`matches keys by SHA-256, hex or base64url (${backend} crypto)`, async () => {
      const hashes = [sha256(OTHER), sha256(KEY, 'base64url'), sha256(KEY).toUpperCase()]
      const verify = apiKeyHashes(hashes, crypto ? { crypto } : {})
      assert.deepEqual(await verify(KEY), { keyHash: hashes[1] })
      assert.deepEqual(await verify(OTHER), { keyHash: hashes[0] })
      assert.equal(await verify('ak_live_unknown'), null)
      assert.equal(await verify(''), null)
    })
  }

  it('is the verify of an apiKey guard', async () => {
    const guard = apiKey({ verify: apiKeyHashes([sha256(KEY)]) })
    assert.deepEqual(principal(await guard(request({ 'x-api-key': KEY }))), {
      keyHash: sha256(KEY),
    })
    await assertRefusal(await guard(request({ 'x-api-key': OTHER })), {
      status: 401,
      challenge: 'ApiKey header="x-api-key"',
      error: 'invalid_api_key',
      secret: OTHER,
    })
  })

  it('compares with every configured hash, through timingSafeEqual', async () => {
    let compared = 0
    const crypto = {
      ...webCrypto,
      timingSafeEqual(a: Uint8Array, b: Uint8Array) {
        compared++
        return webCrypto.timingSafeEqual(a, b)
      },
    }
    const verify = apiKeyHashes([sha256(KEY), sha256(OTHER), sha256('third')], { crypto })
    await verify(KEY)
    assert.equal(compared, 3, 'no early exit on the first match')
  })

  for (const [name, hashes] of [
    ['an empty list', []],
    ['a short hex hash', ['abcd']],
    ['a hash with a non-hex character', [`${'a'.repeat(63)}g`]],
    ['a 43-character value that is not base64url', [`${'A'.repeat(42)}+`]],
    ['a non-string', [42]],
  ] as const) {
    it(`throws config_invalid for ${name}`, () => {
      assert.throws(() => apiKeyHashes(hashes as never), code('config_invalid'))
    })
  }
})
