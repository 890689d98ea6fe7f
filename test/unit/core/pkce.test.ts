import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { webCrypto } from '../../../src/core/crypto/web.ts'
import { AuthkestraError } from '../../../src/core/errors.ts'
import { Pkce } from '../../../src/core/pkce.ts'

// RFC 7636 Appendix B
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
const UNRESERVED = /^[A-Za-z0-9\-._~]+$/

const isCode = (code: string) => (err: unknown) =>
  err instanceof AuthkestraError && err.code === code

describe('Pkce.challenge', () => {
  it('computes the RFC 7636 Appendix B challenge on both crypto backends', async () => {
    assert.equal(await Pkce.challenge(RFC_VERIFIER), RFC_CHALLENGE)
    assert.equal(await Pkce.challenge(RFC_VERIFIER, { crypto: webCrypto }), RFC_CHALLENGE)
  })

  it('accepts every unreserved character and the 43 and 128 bounds', async () => {
    const all = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'
    assert.match(await Pkce.challenge(all), /^[A-Za-z0-9_-]{43}$/)
    assert.match(await Pkce.challenge('a'.repeat(43)), /^[A-Za-z0-9_-]{43}$/)
    assert.match(await Pkce.challenge('a'.repeat(128)), /^[A-Za-z0-9_-]{43}$/)
  })

  it('throws pkce_verifier_invalid for a malformed verifier', async () => {
    const bad = [
      '',
      'a'.repeat(42),
      'a'.repeat(129),
      `${'a'.repeat(42)}+`,
      `${'a'.repeat(42)}=`,
      `${'a'.repeat(42)} `,
      `${'a'.repeat(42)}é`,
      `${'a'.repeat(42)}\n`,
    ]
    for (const verifier of bad) {
      await assert.rejects(Pkce.challenge(verifier), isCode('pkce_verifier_invalid'))
    }
    await assert.rejects(Pkce.challenge(42 as unknown as string), isCode('pkce_verifier_invalid'))
  })
})

describe('Pkce.generate', () => {
  it('returns a 43-character unreserved verifier and its S256 challenge', async () => {
    const pair = await Pkce.generate()
    assert.equal(pair.codeChallengeMethod, 'S256')
    assert.equal(pair.codeVerifier.length, 43)
    assert.match(pair.codeVerifier, UNRESERVED)
    assert.equal(pair.codeChallenge, await Pkce.challenge(pair.codeVerifier))
  })

  it('never repeats a verifier over 2000 draws and uses the whole alphabet', async () => {
    const seen = new Set<string>()
    const chars = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const { codeVerifier } = await Pkce.generate()
      seen.add(codeVerifier)
      for (const c of codeVerifier) chars.add(c)
    }
    assert.equal(seen.size, 2000)
    assert.equal(chars.size, 64) // 256 bits per verifier spread over the base64url alphabet
  })

  it('honours a longer length, on both backends', async () => {
    for (const length of [44, 64, 100, 128]) {
      const pair = await Pkce.generate({ length, crypto: webCrypto })
      assert.equal(pair.codeVerifier.length, length)
      assert.match(pair.codeVerifier, UNRESERVED)
      assert.equal(await Pkce.verify(pair.codeVerifier, pair.codeChallenge), true)
    }
  })

  it('refuses lengths outside 43..128', async () => {
    for (const length of [0, 42, 129, 43.5, Number.NaN]) {
      await assert.rejects(Pkce.generate({ length }), isCode('pkce_verifier_invalid'))
    }
  })
})

describe('Pkce.verify', () => {
  it('accepts the RFC vector and rejects any other pairing', async () => {
    assert.equal(await Pkce.verify(RFC_VERIFIER, RFC_CHALLENGE), true)
    assert.equal(
      await Pkce.verify(RFC_VERIFIER, RFC_CHALLENGE, 'S256', { crypto: webCrypto }),
      true,
    )
    const other = await Pkce.generate()
    assert.equal(await Pkce.verify(other.codeVerifier, RFC_CHALLENGE), false)
    assert.equal(await Pkce.verify(RFC_VERIFIER, other.codeChallenge), false)
  })

  it('returns false for malformed verifiers or challenges instead of throwing', async () => {
    assert.equal(await Pkce.verify('short', RFC_CHALLENGE), false)
    assert.equal(await Pkce.verify(RFC_VERIFIER, `${RFC_CHALLENGE}=`), false)
    assert.equal(await Pkce.verify(RFC_VERIFIER, RFC_CHALLENGE.slice(1)), false)
    assert.equal(await Pkce.verify(RFC_VERIFIER, ''), false)
    assert.equal(await Pkce.verify(RFC_VERIFIER, undefined as unknown as string), false)
    assert.equal(await Pkce.verify(null as unknown as string, RFC_CHALLENGE), false)
    // a challenge that differs only in case is a different challenge
    assert.equal(await Pkce.verify(RFC_VERIFIER, RFC_CHALLENGE.toLowerCase()), false)
  })

  it('refuses plain unless dangerouslyAllowPlain is passed, and unknown methods always', async () => {
    await assert.rejects(
      Pkce.verify(RFC_VERIFIER, RFC_VERIFIER, 'plain'),
      isCode('pkce_method_unsupported'),
    )
    await assert.rejects(
      Pkce.verify(RFC_VERIFIER, RFC_VERIFIER, 'S512' as 'S256'),
      isCode('pkce_method_unsupported'),
    )
    const opts = { dangerouslyAllowPlain: true }
    assert.equal(await Pkce.verify(RFC_VERIFIER, RFC_VERIFIER, 'plain', opts), true)
    assert.equal(await Pkce.verify(RFC_VERIFIER, RFC_CHALLENGE, 'plain', opts), false)
  })
})
