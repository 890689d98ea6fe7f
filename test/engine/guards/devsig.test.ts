// The devsig guard (docs/devsig.md): an attestation of the trusted issuer binding a device key
// (cnf.jkt) plus a request signature by that key over this very request. One hostile test per
// stable error code, in the guard's fixed order: exact status, exact challenge, exact code, and
// neither header echoed; replays, tampered queries and bodies, expired and untrusted
// attestations, a replay cache that is down (503, fail closed) and one that keeps nothing from
// refused requests. The attestations are signed with jose, independently of the OP.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair, SignJWT } from 'jose'
import { generateDpopKey, type ReplayCache } from '../../../src/dpop/index.ts'
import { devsig } from '../../../src/index.ts'
import {
  attest,
  BODY,
  headersOf,
  refused,
  request,
  signed,
  silent,
  URL_,
  world,
} from './devsig-helpers.ts'
import { AUD, ISS, JWKS_URI, NOW } from './helpers.ts'

describe('devsig guard: the request that is exactly right', () => {
  it('passes once, with the attested user, client and key', async () => {
    const w = await world()
    const signature = await signed(w)
    const result = await w.guard(request(headersOf(w.attestation, signature)))
    assert.ok(result.ok)
    assert.equal(result.principal.subject, 'alice')
    assert.equal(result.principal.clientId, 'app')
    assert.equal(result.principal.jkt, w.device.thumbprint)
    assert.equal(w.replay.size(), 1)
  })

  it('takes the body bytes as the second argument for a plain GuardRequest', async () => {
    const w = await world()
    const signature = await signed(w)
    const plain = {
      url: URL_,
      method: 'POST',
      headers: new Headers({ ...headersOf(w.attestation, signature), 'content-length': '15' }),
    }
    assert.ok((await w.guard(plain, new TextEncoder().encode(BODY))).ok)
  })

  it('a GET without a body and without a query', async () => {
    const w = await world()
    const url = `${AUD}/orders`
    const signature = await signed(w, { method: 'GET', url, body: undefined })
    assert.ok(
      (await w.guard(request(headersOf(w.attestation, signature), { method: 'GET', url }))).ok,
    )
  })
})

describe('devsig guard: one refusal per code, in order', () => {
  it('attestation_missing: no Device-Attestation header', async () => {
    const w = await world()
    const signature = await signed(w)
    await refused(
      await w.guard(request({ 'device-signature': signature })),
      'attestation_missing',
      [signature],
    )
  })

  it('attestation_invalid: garbage, wrong typ, alg none, no cnf.jkt', async () => {
    const w = await world()
    const signature = await signed(w)
    const key = w.issuer.key as CryptoKey
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const none = `${b64({ alg: 'none', typ: 'devsig-attestation+jwt' })}.${b64({ iss: ISS, sub: 'alice', cnf: { jkt: w.device.thumbprint } })}.`
    for (const attestation of [
      'not-a-jwt',
      none,
      await attest(key, w.device.thumbprint, {}, { typ: 'at+jwt' }),
      await attest(key, w.device.thumbprint, { cnf: undefined }),
      await attest(key, w.device.thumbprint, { client_id: undefined }),
      `${w.attestation.slice(0, -4)}AAAA`,
    ]) {
      await refused(
        await w.guard(request(headersOf(attestation, signature))),
        'attestation_invalid',
        [attestation, signature],
      )
    }
  })

  it('attestation_invalid: an attestation from an untrusted issuer', async () => {
    const w = await world()
    const other = await generateKeyPair('ES256')
    const signature = await signed(w)
    // the right iss and kid, another key: not in the trusted JWKS
    const forged = await attest(other.privateKey, w.device.thumbprint)
    await refused(await w.guard(request(headersOf(forged, signature))), 'attestation_invalid', [
      forged,
    ])
    // the trusted key, but another issuer's name
    const elsewhere = await attest(w.issuer.key as CryptoKey, w.device.thumbprint, {
      iss: 'https://evil.example',
    })
    await refused(await w.guard(request(headersOf(elsewhere, signature))), 'attestation_invalid', [
      elsewhere,
    ])
    assert.equal(w.replay.size(), 0)
  })

  it('attestation_expired: past exp (beyond the tolerance)', async () => {
    const w = await world()
    const old = await attest(w.issuer.key as CryptoKey, w.device.thumbprint, {
      iat: NOW - 7200,
      exp: NOW - 6,
    })
    const signature = await signed(w)
    await refused(await w.guard(request(headersOf(old, signature))), 'attestation_expired', [old])
  })

  it('signature_missing: an attestation alone', async () => {
    const w = await world()
    await refused(
      await w.guard(request({ 'device-attestation': w.attestation })),
      'signature_missing',
      [w.attestation],
    )
  })

  it('signature_invalid: garbage, wrong typ, a private jwk, tampered signature bytes', async () => {
    const w = await world()
    const good = await signed(w)
    const [h, p, s] = good.split('.') as [string, string, string]
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
    const rehead = (patch: Record<string, unknown>) =>
      `${Buffer.from(JSON.stringify({ ...header, ...patch })).toString('base64url')}.${p}.${s}`
    const flipped = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`
    for (const signature of [
      'garbage',
      rehead({ typ: 'dpop+jwt' }),
      rehead({ alg: 'HS256' }),
      rehead({ jwk: { ...(header.jwk as object), d: 'AAAA' } }),
      flipped,
    ]) {
      await refused(
        await w.guard(request(headersOf(w.attestation, signature))),
        'signature_invalid',
        [signature],
      )
    }
    assert.equal(w.replay.size(), 0)
  })

  it('key_mismatch: signed by a key other than the attested one', async () => {
    const w = await world()
    const thief = await generateDpopKey()
    const signature = await signed(w, {}, thief)
    await refused(await w.guard(request(headersOf(w.attestation, signature))), 'key_mismatch', [
      signature,
    ])
  })

  it('signature_stale: too old, from the future, or living longer than 60 s', async () => {
    const w = await world()
    const signature = await signed(w)
    w.now.value += 61_000
    await refused(await w.guard(request(headersOf(w.attestation, signature))), 'signature_stale', [
      signature,
    ])
    w.now.value = (NOW + 30) * 1000
    const ahead = await signed(w)
    w.now.value = NOW * 1000
    await refused(await w.guard(request(headersOf(w.attestation, ahead))), 'signature_stale', [
      ahead,
    ])
    const device = w.device
    const long = await new SignJWT({ htm: 'POST', htp: '/transfers', aud: AUD, exp: NOW + 600 })
      .setProtectedHeader({ alg: device.alg, typ: 'devsig+jwt', jwk: { ...device.publicJwk } })
      .setIssuedAt(NOW)
      .setJti('long-lived')
      .sign(device.privateKey)
    await refused(await w.guard(request(headersOf(w.attestation, long))), 'signature_stale', [long])
    assert.equal(w.replay.size(), 0)
  })

  it('method_mismatch: a POST signature on a PUT', async () => {
    const w = await world()
    const signature = await signed(w)
    await refused(
      await w.guard(request(headersOf(w.attestation, signature), { method: 'PUT' })),
      'method_mismatch',
      [signature],
    )
  })

  it('path_mismatch: the signature of /transfers sent to /admin', async () => {
    const w = await world()
    const signature = await signed(w)
    await refused(
      await w.guard(
        request(headersOf(w.attestation, signature), { url: `${AUD}/admin?to=bob&amount=10` }),
      ),
      'path_mismatch',
      [signature],
    )
  })

  it('audience_mismatch: signed for another API', async () => {
    const w = await world()
    const signature = await signed(w, { audience: 'https://other.example' })
    await refused(
      await w.guard(request(headersOf(w.attestation, signature))),
      'audience_mismatch',
      [signature],
    )
  })

  it('query_mismatch: a tampered, added or removed query', async () => {
    const w = await world()
    for (const url of [
      `${AUD}/transfers?to=eve&amount=10`,
      `${AUD}/transfers?to=bob&amount=10&x=1`,
      `${AUD}/transfers`,
    ]) {
      const signature = await signed(w)
      await refused(
        await w.guard(request(headersOf(w.attestation, signature), { url })),
        'query_mismatch',
        [signature],
      )
    }
    assert.equal(w.replay.size(), 0)
  })

  it('body_mismatch: a tampered body, a removed body, an unseen body', async () => {
    const w = await world()
    for (const body of ['{"memo":"rent","to":"eve"}', '']) {
      const signature = await signed(w)
      await refused(
        await w.guard(request(headersOf(w.attestation, signature), { body })),
        'body_mismatch',
        [signature],
      )
    }
    const signature = await signed(w)
    const plain = {
      url: URL_,
      method: 'POST',
      headers: new Headers({ ...headersOf(w.attestation, signature), 'content-length': '15' }),
    }
    await refused(await w.guard(plain), 'body_mismatch', [signature])
    assert.equal(w.replay.size(), 0)
  })

  it('replayed: the same signed request twice', async () => {
    const w = await world()
    const signature = await signed(w)
    assert.ok((await w.guard(request(headersOf(w.attestation, signature)))).ok)
    await refused(await w.guard(request(headersOf(w.attestation, signature))), 'replayed', [
      signature,
    ])
  })

  it('store_unavailable: a replay cache that throws gives 503, never a pass', async () => {
    const down: ReplayCache = {
      async use() {
        throw new Error('ECONNREFUSED')
      },
    }
    const w = await world({ replay: down })
    const signature = await signed(w)
    await refused(
      await w.guard(request(headersOf(w.attestation, signature))),
      'store_unavailable',
      [signature],
      503,
    )
  })

  it('keys_unavailable: the issuer JWKS cannot be fetched gives 503', async () => {
    const w = await world()
    const guard = devsig({
      issuer: ISS,
      jwksUri: JWKS_URI,
      audience: AUD,
      fetch: (async () => {
        throw new TypeError('fetch failed')
      }) as typeof fetch,
      clock: w.clock,
      logger: silent,
    })
    const signature = await signed(w)
    await refused(
      await guard(request(headersOf(w.attestation, signature))),
      'keys_unavailable',
      [signature],
      503,
    )
  })
})
