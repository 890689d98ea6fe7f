import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { webCrypto } from '../../../src/core/crypto/web.ts'
import { AuthkestraError } from '../../../src/core/errors.ts'
import { createKeyring } from '../../../src/core/keyring.ts'

const A = 'a-secret-that-is-at-least-32-bytes-long!'
const B = 'another-secret-of-at-least-32-bytes-long'
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('createKeyring', () => {
  it('refuses a missing, short or non-string secret with config_invalid', () => {
    for (const bad of [[], 'short', ['x'.repeat(31)], [A, 'short'], [42]]) {
      assert.throws(
        () => createKeyring(bad as string[]),
        (err: unknown) => err instanceof AuthkestraError && err.code === 'config_invalid',
      )
    }
  })

  it('never puts the secret in the error message', () => {
    try {
      createKeyring('tooshort-secret-value')
      assert.fail('expected a throw')
    } catch (err) {
      assert.ok(!(err as Error).message.includes('tooshort-secret-value'))
    }
  })

  it('derives distinct keys per purpose and per secret, newest first', async () => {
    const ring = createKeyring([A, B])
    const flow = await ring.keys('flow-state')
    const session = await ring.keys('session')
    assert.equal(flow.length, 2)
    assert.notEqual(hex(flow[0]!.key), hex(session[0]!.key))
    assert.notEqual(hex(flow[0]!.key), hex(flow[1]!.key))
    assert.notEqual(flow[0]!.kid, flow[1]!.kid)
    assert.equal(flow[0]!.key.length, 32)
    const alone = await createKeyring(A).keys('flow-state')
    assert.equal(alone[0]!.kid, flow[0]!.kid)
    assert.equal(hex(alone[0]!.key), hex(flow[0]!.key))
  })

  it('derives the same keys on both crypto backends and from bytes or string', async () => {
    const a = await createKeyring(A).keys('p')
    const b = await createKeyring(new TextEncoder().encode(A), { crypto: webCrypto }).keys('p')
    assert.equal(hex(a[0]!.key), hex(b[0]!.key))
    assert.equal(a[0]!.kid, b[0]!.kid)
  })
})
