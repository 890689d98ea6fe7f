import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { webCrypto } from '../../../src/core/crypto/web.ts'
import { hashPassword, verifyPassword } from '../../../src/core/password.ts'
import { code } from '../../helpers/assert-code.ts'

describe('password hashing', () => {
  it('scrypt (Node) at OWASP cost, PHC format, verifies only the right password', async () => {
    const hash = await hashPassword('wonderland')
    assert.match(hash, /^\$scrypt\$ln=15,r=8,p=3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    assert.equal(await verifyPassword('wonderland', hash), true)
    assert.equal(await verifyPassword('Wonderland', hash), false)
    assert.notEqual(await hashPassword('wonderland'), hash, 'salted')
  })

  it('PBKDF2 on Web Crypto, verifiable on Node too', async () => {
    const hash = await hashPassword('wonderland', { crypto: webCrypto })
    assert.match(hash, /^\$pbkdf2-sha256\$i=600000\$/)
    assert.equal(await verifyPassword('wonderland', hash), true)
    assert.equal(await verifyPassword('nope', hash, { crypto: webCrypto }), false)
  })

  it('a scrypt hash cannot be checked without scrypt (unsupported_operation)', async () => {
    const hash = await hashPassword('x-password')
    await assert.rejects(
      verifyPassword('x-password', hash, { crypto: webCrypto }),
      code('unsupported_operation'),
    )
  })

  it('is false for malformed or hostile hashes, and refuses bad passwords', async () => {
    for (const bad of [
      '',
      'plain',
      '$scrypt$ln=15,r=8,p=3$abc$def',
      '$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '$md5$x$y$z',
    ]) {
      assert.equal(await verifyPassword('anything', bad), false, bad)
    }
    assert.equal(await verifyPassword('', await hashPassword('a')), false)
    await assert.rejects(hashPassword(''), code('config_invalid'))
    // scrypt/PBKDF2 pad with zero bytes: a trailing NUL must not match the password without it
    const hash = await hashPassword('abc-password')
    assert.equal(await verifyPassword('abc-password\u0000', hash), false)
    await assert.rejects(hashPassword('a\u0000b'), code('config_invalid'))
    await assert.rejects(hashPassword('x'.repeat(1025)), code('config_invalid'))
  })
})
