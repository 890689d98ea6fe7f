// DPoP proofs (RFC 9449): what createDpopProof makes passes verifyDpopProof, and every hostile
// variant is refused with its stable code, before its jti is remembered (so a refused proof
// never fills the replay cache): a replay, another method or URI, a stale or future iat, a
// private key in the header, alg none or HMAC, crit, a missing or wrong ath, a stale nonce.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { type CryptoBackend, defaultCrypto, webCrypto } from '../../../src/core/crypto/index.ts'
import {
  accessTokenThumbprint,
  createDpopNonces,
  createDpopProof,
  createMemoryReplayCache,
  DPOP_ALGORITHMS,
  DpopRejected,
  exportDpopKey,
  generateDpopKey,
  htuOf,
  importDpopKey,
  readDpopHeader,
  verifyDpopProof,
} from '../../../src/dpop/index.ts'

const URL_ = 'https://as.example/token'
const clockAt = (ms: number) => ({
  value: ms,
  now() {
    return this.value
  },
})

/** The backend the suite runs on: node:crypto (synchronous signatures), then jose + Web Crypto. */
let backend: CryptoBackend = defaultCrypto

async function setup() {
  const clock = clockAt(Date.UTC(2026, 11, 3, 12))
  const replay = createMemoryReplayCache({ clock })
  const key = await generateDpopKey()
  const expected = { method: 'POST', url: URL_, replay, clock, crypto: backend }
  return { clock, replay, key, expected }
}

async function refused(promise: Promise<unknown>, code: string, message?: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DpopRejected, String(err))
    assert.equal(err.error, code)
    if (message) assert.match(err.message, message)
    return true
  })
}

/** A proof signed by hand, to build what createDpopProof never would. */
async function handMade(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  alg = 'ES256',
) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  return new SignJWT(payload)
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk, ...header } as never)
    .sign(privateKey, { crit: { exp: true } })
}

for (const [name, crypto] of [
  ['node:crypto', defaultCrypto],
  ['Web Crypto (jose)', webCrypto],
] as const)
  describe(`DPoP proofs (${name})`, () => {
    before(() => {
      backend = crypto
    })

    it('every algorithm: a proof verifies, once, and gives the key thumbprint', async () => {
      for (const alg of DPOP_ALGORITHMS) {
        const { key, expected, replay } = await setup()
        const other = await generateDpopKey({ alg })
        assert.equal(other.alg, alg)
        const proof = await createDpopProof(
          other,
          { method: 'post', url: `${URL_}?x=1#f` },
          expected.clock,
        )
        const ok = await verifyDpopProof(proof, expected)
        assert.equal(ok.thumbprint, other.thumbprint, alg)
        assert.notEqual(ok.thumbprint, key.thumbprint)
        assert.equal(replay.size(), 1)
        await refused(verifyDpopProof(proof, expected), 'invalid_dpop_proof', /already used/)
      }
    })

    it('Ed25519 (RFC 9864, what openid-client 6 sends) is EdDSA: accepted with it, refused without', async () => {
      const { expected } = await setup()
      const { privateKey, publicKey } = await generateKeyPair('Ed25519')
      const sign = async () =>
        new SignJWT({ htm: 'POST', htu: URL_ })
          .setProtectedHeader({ alg: 'Ed25519', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
          .setJti(globalThis.crypto.randomUUID())
          .setIssuedAt(Math.floor(expected.clock.now() / 1000))
          .sign(privateKey)
      const ok = await verifyDpopProof(await sign(), { ...expected, algorithms: ['EdDSA'] })
      assert.equal(ok.thumbprint.length, 43)
      await refused(
        verifyDpopProof(await sign(), { ...expected, algorithms: ['ES256'] }),
        'invalid_dpop_proof',
        /"alg" is not allowed/,
      )
      const { privateKey: ec, publicKey: ecPublic } = await generateKeyPair('ES256')
      const mislabelled = await new SignJWT({ htm: 'POST', htu: URL_ })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(ecPublic) })
        .setJti('x')
        .setIssuedAt(Math.floor(expected.clock.now() / 1000))
        .sign(ec)
      const [, body, signature] = mislabelled.split('.')
      const header = base64url.encode(
        JSON.stringify({ alg: 'Ed25519', typ: 'dpop+jwt', jwk: await exportJWK(ecPublic) }),
      )
      await refused(
        verifyDpopProof(`${header}.${body}.${signature}`, expected),
        'invalid_dpop_proof',
      )
    })

    it('the key pair is non-extractable by default; an exported key imports and signs the same jkt', async () => {
      const key = await generateDpopKey()
      assert.equal(key.privateKey.extractable, false)
      await assert.rejects(exportDpopKey(key), /not extractable/)
      const movable = await generateDpopKey({ extractable: true })
      const saved = JSON.parse(JSON.stringify(await exportDpopKey(movable)))
      const again = await importDpopKey(saved)
      assert.equal(again.thumbprint, movable.thumbprint)
      assert.equal(again.privateKey.extractable, false)
      assert.deepEqual(Object.keys(again.publicJwk).sort(), ['crv', 'kty', 'x', 'y'])
      await assert.rejects(
        importDpopKey({ alg: 'ES256', privateJwk: movable.publicJwk }),
        /private JWK/,
      )
      await assert.rejects(generateDpopKey({ alg: 'HS256' as never }))
    })

    it('htu drops query and fragment and normalises (RFC 9449 §4.3 step 9)', () => {
      assert.equal(htuOf('HTTPS://AS.example:443/token?a=1#x'), 'https://as.example/token')
      assert.equal(htuOf('https://u:p@as.example/a/../token'), 'https://as.example/token')
    })

    it('another method, another URI: refused, nothing remembered', async () => {
      const { key, expected, replay } = await setup()
      const proof = await createDpopProof(key, { method: 'GET', url: URL_ }, expected.clock)
      await refused(verifyDpopProof(proof, expected), 'invalid_dpop_proof', /htm/)
      const elsewhere = await createDpopProof(
        key,
        { method: 'POST', url: 'https://as.example/other' },
        expected.clock,
      )
      await refused(verifyDpopProof(elsewhere, expected), 'invalid_dpop_proof', /htu/)
      const otherHost = await createDpopProof(
        key,
        { method: 'POST', url: 'https://evil.example/token' },
        expected.clock,
      )
      await refused(verifyDpopProof(otherHost, expected), 'invalid_dpop_proof', /htu/)
      assert.equal(replay.size(), 0)
    })

    it('iat: older than 60 s or more than 5 s ahead is refused; the window is configurable', async () => {
      const { key, expected, clock, replay } = await setup()
      const proof = await createDpopProof(key, { method: 'POST', url: URL_ }, expected.clock)
      clock.value += 61_000
      await refused(verifyDpopProof(proof, expected), 'invalid_dpop_proof', /too old/)
      clock.value -= 61_000 + 6_000
      await refused(verifyDpopProof(proof, expected), 'invalid_dpop_proof', /future/)
      clock.value += 6_000 + 100_000
      await verifyDpopProof(proof, { ...expected, maxAgeSeconds: 120 })
      assert.equal(replay.size(), 1)
    })

    it('a private key in jwk, alg none, HS256, a wrong typ, crit, a tampered payload: refused', async () => {
      const { expected, replay } = await setup()
      const claims = { htm: 'POST', htu: URL_, iat: expected.clock.now() / 1000, jti: 'j1' }
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      const privateJwk = await exportJWK(privateKey)
      await refused(
        verifyDpopProof(await handMade({ jwk: privateJwk }, claims), expected),
        'invalid_dpop_proof',
        /not a public key/,
      )
      const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: privateJwk }))}.${base64url.encode(JSON.stringify(claims))}.`
      await refused(verifyDpopProof(none, expected), 'invalid_dpop_proof', /alg/)
      const hs = await new SignJWT(claims)
        .setProtectedHeader({
          alg: 'HS256',
          typ: 'dpop+jwt',
          jwk: { kty: 'oct', k: 'AAAA' },
        } as never)
        .sign(new Uint8Array(32))
      await refused(verifyDpopProof(hs, expected), 'invalid_dpop_proof', /alg/)
      await refused(
        verifyDpopProof(await handMade({ typ: 'JWT' }, claims), expected),
        'invalid_dpop_proof',
        /typ/,
      )
      await refused(
        verifyDpopProof(await handMade({ crit: ['exp'], exp: 1 }, claims), expected),
        'invalid_dpop_proof',
        /crit/,
      )
      const ed = await generateKeyPair('EdDSA', { extractable: true })
      await refused(
        verifyDpopProof(await handMade({ jwk: await exportJWK(ed.publicKey) }, claims), expected),
        'invalid_dpop_proof',
        /signature/,
      )
      const good = await handMade({}, claims)
      const [h, , s] = good.split('.')
      const tampered = `${h}.${base64url.encode(JSON.stringify({ ...claims, htu: URL_, jti: 'j2' }))}.${s}`
      await refused(verifyDpopProof(tampered, expected), 'invalid_dpop_proof', /signature/)
      await refused(
        verifyDpopProof(await handMade({}, { ...claims, htm: undefined }), expected),
        'invalid_dpop_proof',
        /htm/,
      )
      await refused(
        verifyDpopProof(await handMade({}, { ...claims, jti: undefined }), expected),
        'invalid_dpop_proof',
        /jti/,
      )
      await refused(verifyDpopProof('a.b', expected), 'invalid_dpop_proof', /malformed/)
      await refused(verifyDpopProof('x'.repeat(9000), expected), 'invalid_dpop_proof', /malformed/)
      await refused(
        verifyDpopProof(good, { ...expected, algorithms: ['PS256'] }),
        'invalid_dpop_proof',
        /alg/,
      )
      assert.equal(replay.size(), 0)
      await verifyDpopProof(good, expected)
    })

    it('ath: required with an access token, and must be its hash', async () => {
      const { key, expected, replay } = await setup()
      const target = { method: 'GET', url: 'https://rs.example/orders' }
      const withToken = { ...expected, ...target, accessToken: 'token-A' }
      const without = await createDpopProof(key, target, expected.clock)
      await refused(verifyDpopProof(without, withToken), 'invalid_dpop_proof', /ath/)
      const forOther = await createDpopProof(
        key,
        { ...target, accessToken: 'token-B' },
        expected.clock,
      )
      await refused(verifyDpopProof(forOther, withToken), 'invalid_dpop_proof', /ath/)
      assert.equal(replay.size(), 0)
      const right = await createDpopProof(
        key,
        { ...target, accessToken: 'token-A' },
        expected.clock,
      )
      await verifyDpopProof(right, withToken)
      assert.equal((await accessTokenThumbprint('token-A')).length, 43)
    })

    it('nonces: missing or stale asks for a new one (use_dpop_nonce); current and previous windows pass', async () => {
      const { key, expected, clock } = await setup()
      const nonces = createDpopNonces({ secret: new Uint8Array(32).fill(7), clock })
      const withNonces = { ...expected, nonces }
      const bare = await createDpopProof(key, { method: 'POST', url: URL_ }, clock)
      await refused(verifyDpopProof(bare, withNonces), 'use_dpop_nonce')
      const nonce = await nonces.current()
      const forged = createDpopNonces({ secret: new Uint8Array(32).fill(8), clock })
      const wrong = await createDpopProof(
        key,
        { method: 'POST', url: URL_, nonce: await forged.current() },
        clock,
      )
      await refused(verifyDpopProof(wrong, withNonces), 'use_dpop_nonce')
      await verifyDpopProof(
        await createDpopProof(key, { method: 'POST', url: URL_, nonce }, clock),
        withNonces,
      )
      clock.value += 300_000
      assert.ok(await nonces.valid(nonce), 'the previous window still passes')
      clock.value += 300_000
      assert.equal(await nonces.valid(nonce), false)
      assert.equal(await nonces.valid('garbage'), false)
      assert.throws(() => createDpopNonces({ secret: new Uint8Array(8) }), /32 bytes/)
    })

    it('readDpopHeader: none, one, or two joined (refused)', () => {
      assert.equal(readDpopHeader(new Headers()), undefined)
      assert.equal(readDpopHeader(new Headers({ dpop: ' a.b.c ' })), 'a.b.c')
      const two = new Headers()
      two.append('dpop', 'a.b.c')
      two.append('dpop', 'd.e.f')
      assert.throws(() => readDpopHeader(two), DpopRejected)
    })

    it('the replay cache: one winner among concurrent uses, forgotten after its ttl, bounded', async () => {
      const clock = clockAt(0)
      const cache = createMemoryReplayCache({ clock, max: 3 })
      const results = await Promise.all(Array.from({ length: 10 }, () => cache.use('x', 10)))
      assert.equal(results.filter(Boolean).length, 1)
      clock.value += 11_000
      assert.ok(await cache.use('x', 10))
      for (const id of ['a', 'b', 'c', 'd']) await cache.use(id, 10)
      assert.ok(cache.size() <= 3)
    })
  })
