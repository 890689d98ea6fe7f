// The devsig pieces shared with DPoP: the hashes of the wire format against values computed
// independently (node:crypto), the RFC 7638 thumbprint against jose's, the header rules DPoP and
// request signatures share, signature round trips on both crypto paths, and the enrolment proof
// checks the OP runs.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { calculateJwkThumbprint, decodeProtectedHeader, SignJWT } from 'jose'
import { webCrypto } from '../../../src/core/crypto/web.ts'
import {
  bodyHash,
  createDevsigSignature,
  createEnrollmentProof,
  createMemoryReplayCache,
  DEVSIG_TYP,
  DevsigRejected,
  EnrollmentProofRejected,
  generateDpopKey,
  jwkThumbprint,
  pathOf,
  queryHash,
  verifyDevsigSignature,
  verifyEnrollmentProof,
} from '../../../src/dpop/index.ts'
import { checkKeyJwsHeader } from '../../../src/dpop/key-jws.ts'

const sha = (s: string | Uint8Array) => createHash('sha256').update(s).digest('base64url')
const NOW = Date.UTC(2030, 0, 1)
const clock = { now: () => NOW }

describe('devsig wire format', () => {
  it('hbh and hqh are base64url SHA-256 of the raw bytes; nothing hashes the empty string', async () => {
    assert.equal(await bodyHash(undefined), sha(''))
    assert.equal(await bodyHash(''), sha(''))
    assert.equal(await bodyHash('{"a":"é"}'), sha(Buffer.from('{"a":"é"}', 'utf8')))
    const bytes = new Uint8Array([0, 255, 1])
    assert.equal(await bodyHash(bytes), sha(bytes))
    assert.equal(await bodyHash(bytes.buffer), sha(bytes))
    assert.equal(await queryHash('https://a.example/x?b=2&a=1'), sha('b=2&a=1'))
    assert.equal(await queryHash('https://a.example/x?'), sha(''))
    assert.equal(await queryHash('https://a.example/x'), sha(''))
    assert.equal(await queryHash('https://a.example/x?q=a b'), sha('q=a%20b'))
    assert.equal(pathOf('https://a.example/a/../b/./c?x#y'), '/b/c')
  })

  it('the thumbprint is RFC 7638 (same as jose) on both crypto backends', async () => {
    for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
      const key = await generateDpopKey({ alg })
      const expected = await calculateJwkThumbprint(key.publicJwk as never, 'sha256')
      assert.equal(await jwkThumbprint({ ...key.publicJwk }, webCrypto), expected)
      assert.equal(key.thumbprint, expected)
    }
  })

  it('the shared header rules: typ, asymmetric alg of the list, public jwk alone, no crit', () => {
    const fail = (m: string) => new Error(m)
    const rules = { typ: 'devsig+jwt', algorithms: ['ES256'], label: 'X', fail }
    const jwk = { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }
    checkKeyJwsHeader({ typ: 'devsig+jwt', alg: 'ES256', jwk }, rules)
    for (const [header, message] of [
      [{ typ: 'dpop+jwt', alg: 'ES256', jwk }, 'X "typ" must be "devsig+jwt"'],
      [{ typ: 'devsig+jwt', alg: 'HS256', jwk }, 'X "alg" is not allowed'],
      [{ typ: 'devsig+jwt', alg: 'ES384', jwk }, 'X "alg" is not allowed'],
      [{ typ: 'devsig+jwt', alg: 'none', jwk }, 'X "alg" is not allowed'],
      [{ typ: 'devsig+jwt', alg: 'ES256' }, 'X "jwk" header is missing'],
      [{ typ: 'devsig+jwt', alg: 'ES256', jwk: { ...jwk, d: 'x' } }, 'X "jwk" is not a public key'],
      [{ typ: 'devsig+jwt', alg: 'ES256', jwk, crit: ['b64'] }, 'X "crit" is not supported'],
    ] as const) {
      assert.throws(() => checkKeyJwsHeader(header, rules), { message })
    }
  })
})

describe('request signatures', () => {
  it('round trip on node:crypto and on Web Crypto; the header is typed and carries the key', async () => {
    for (const crypto of [undefined, webCrypto]) {
      const key = await generateDpopKey()
      const url = 'https://api.example/t?x=1'
      const signature = await createDevsigSignature(
        key,
        { method: 'post', url, body: 'hi', audience: 'api' },
        clock,
      )
      const header = decodeProtectedHeader(signature)
      assert.equal(header.typ, DEVSIG_TYP.signature)
      assert.deepEqual(header.jwk, key.publicJwk)
      const verified = await verifyDevsigSignature(signature, {
        jkt: key.thumbprint,
        method: 'POST',
        url,
        body: 'hi',
        audience: ['api'],
        replay: createMemoryReplayCache({ clock }),
        clock,
        ...(crypto ? { crypto } : {}),
      })
      assert.equal(verified.exp - verified.iat, 60)
    }
  })

  it('a signature lifetime over 60 s cannot be made', async () => {
    const key = await generateDpopKey()
    await assert.rejects(
      createDevsigSignature(key, {
        method: 'GET',
        url: 'https://a.example/',
        audience: 'a',
        lifetimeSeconds: 61,
      }),
      RangeError,
    )
  })

  it('the thumbprint is compared before the signature: a bad signature by another key is key_mismatch', async () => {
    const key = await generateDpopKey()
    const other = await generateDpopKey()
    const signature = await createDevsigSignature(
      other,
      { method: 'GET', url: 'https://a.example/', audience: 'a' },
      clock,
    )
    await assert.rejects(
      verifyDevsigSignature(`${signature.slice(0, -3)}AAA`, {
        jkt: key.thumbprint,
        method: 'GET',
        url: 'https://a.example/',
        audience: ['a'],
        replay: createMemoryReplayCache({ clock }),
        clock,
      }),
      (err: unknown) => err instanceof DevsigRejected && err.code === 'key_mismatch',
    )
  })
})

describe('enrolment proofs', () => {
  const issuer = 'https://id.example'

  it('passes with the challenge, gives the key thumbprint', async () => {
    const key = await generateDpopKey()
    const proof = await createEnrollmentProof(key, { challenge: 'c-1', issuer }, clock)
    const verified = await verifyEnrollmentProof(proof, { issuer, clock })
    assert.equal(verified.thumbprint, key.thumbprint)
    assert.equal(verified.challenge, 'c-1')
  })

  it('refuses another audience, a stale iat, a request-signature typ, a missing challenge', async () => {
    const key = await generateDpopKey()
    const sign = (claims: Record<string, unknown>, typ: string = DEVSIG_TYP.enrollment) =>
      new SignJWT({ challenge: 'c', aud: issuer, jti: 'j', iat: Math.floor(NOW / 1000), ...claims })
        .setProtectedHeader({ alg: 'ES256', typ, jwk: { ...key.publicJwk } })
        .sign(key.privateKey)
    for (const proof of [
      await sign({ aud: 'https://other.example' }),
      await sign({ iat: Math.floor(NOW / 1000) - 301 }),
      await sign({ iat: Math.floor(NOW / 1000) + 60 }),
      await sign({}, DEVSIG_TYP.signature),
      await sign({ challenge: undefined }),
      await sign({ jti: undefined }),
      'x.y.z',
    ]) {
      await assert.rejects(verifyEnrollmentProof(proof, { issuer, clock }), EnrollmentProofRejected)
    }
  })
})
