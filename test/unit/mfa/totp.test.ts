import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { webCrypto } from '../../../src/core/crypto/index.ts'
import { decodeBase32, encodeBase32 } from '../../../src/mfa/base32.ts'
import {
  generateTotpSecret,
  hotp,
  totpCode,
  totpQrSvg,
  totpUri,
  verifyTotp,
} from '../../../src/mfa/totp.ts'

const ascii = (s: string) => new TextEncoder().encode(s)

describe('base32 (RFC 4648 §10 vectors)', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ]
  for (const [plain, encoded] of vectors) {
    it(`"${plain}" ⇄ "${encoded}"`, () => {
      assert.equal(encodeBase32(ascii(plain)), encoded)
      assert.deepEqual(decodeBase32(encoded), ascii(plain))
      assert.deepEqual(decodeBase32(`${encoded.toLowerCase()}======`), ascii(plain))
    })
  }
  it('refuses characters outside the alphabet and non-zero trailing bits', () => {
    assert.equal(decodeBase32('MZXW1'), undefined)
    assert.equal(decodeBase32('MZ'), undefined)
    assert.equal(decodeBase32('MZXW6YTBOJ'), undefined)
  })
})

describe('HOTP (RFC 4226 Appendix D)', () => {
  const expected = [
    '755224',
    '287082',
    '359152',
    '969429',
    '338314',
    '254676',
    '287922',
    '162583',
    '399871',
    '520489',
  ]
  it('the ten values of the test secret', async () => {
    const secret = ascii('12345678901234567890')
    for (let i = 0; i < 10; i++) assert.equal(await hotp(secret, i), expected[i])
  })
})

describe('TOTP (RFC 6238 Appendix B)', () => {
  const seeds = {
    'SHA-1': encodeBase32(ascii('12345678901234567890')),
    'SHA-256': encodeBase32(ascii('12345678901234567890123456789012')),
    'SHA-512': encodeBase32(
      ascii('1234567890123456789012345678901234567890123456789012345678901234'),
    ),
  } as const
  const table: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ]
  for (const [time, sha1, sha256, sha512] of table) {
    it(`T = ${time}`, async () => {
      const now = time * 1000
      assert.equal(await totpCode(seeds['SHA-1'], now, { digits: 8 }), sha1)
      assert.equal(
        await totpCode(seeds['SHA-256'], now, { digits: 8, algorithm: 'SHA-256' }),
        sha256,
      )
      assert.equal(
        await totpCode(seeds['SHA-512'], now, {
          digits: 8,
          algorithm: 'SHA-512',
          crypto: webCrypto,
        }),
        sha512,
      )
    })
  }
})

describe('verifyTotp', () => {
  const secret = generateTotpSecret()
  const now = Date.UTC(2026, 11, 2, 12, 0, 10)
  const step = Math.floor(now / 30_000)

  it('accepts the current code and one step either side, answering the step', async () => {
    assert.equal(await verifyTotp(secret, await totpCode(secret, now), { now }), step)
    assert.equal(await verifyTotp(secret, await totpCode(secret, now - 30_000), { now }), step - 1)
    assert.equal(await verifyTotp(secret, await totpCode(secret, now + 30_000), { now }), step + 1)
    assert.equal(await verifyTotp(secret, await totpCode(secret, now - 60_000), { now }), undefined)
    assert.equal(
      await verifyTotp(secret, await totpCode(secret, now - 60_000), { now, window: 2 }),
      step - 2,
    )
  })

  it('refuses a step at or before the last one accepted (replay)', async () => {
    const code = await totpCode(secret, now)
    assert.equal(await verifyTotp(secret, code, { now, lastStep: step }), undefined)
    assert.equal(await verifyTotp(secret, code, { now, lastStep: step + 1 }), undefined)
    assert.equal(await verifyTotp(secret, code, { now, lastStep: step - 1 }), step)
  })

  it('ignores spaces but refuses anything not exactly six digits', async () => {
    const code = await totpCode(secret, now)
    assert.equal(await verifyTotp(secret, `${code.slice(0, 3)} ${code.slice(3)}`, { now }), step)
    for (const bad of [
      '',
      code.slice(1),
      `${code}0`,
      `${code.slice(0, 5)}a`,
      '１２３４５６',
      '-12345',
    ])
      assert.equal(await verifyTotp(secret, bad, { now }), undefined, bad)
  })

  it('refuses bad parameters and secrets as config errors', async () => {
    await assert.rejects(verifyTotp('MZXW6', '123456', { now }), { code: 'config_invalid' })
    await assert.rejects(verifyTotp(secret, '123456', { now, digits: 9 }), {
      code: 'config_invalid',
    })
    await assert.rejects(verifyTotp(secret, '123456', { now, window: 11 }), {
      code: 'config_invalid',
    })
  })
})

describe('otpauth URI and QR code', () => {
  it('names issuer and account, with the parameters apps read', () => {
    const uri = totpUri({
      secret: 'JBSWY3DPEHPK3PXP',
      issuer: 'Acme Co',
      account: 'alice@acme.test',
    })
    assert.equal(
      uri,
      'otpauth://totp/Acme%20Co:alice%40acme.test?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30',
    )
    assert.throws(() => totpUri({ secret: 'JBSWY3DPEHPK3PXP', issuer: 'a:b', account: 'x' }), {
      code: 'config_invalid',
    })
  })
  it('renders an SVG', () => {
    const svg = totpQrSvg('otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme')
    assert.match(svg, /^<svg[^>]*viewBox/)
    assert.ok(svg.length > 1000)
  })
  it('secrets are 20 random bytes by default', () => {
    const a = generateTotpSecret()
    assert.equal(decodeBase32(a)?.length, 20)
    assert.notEqual(a, generateTotpSecret())
  })
})
