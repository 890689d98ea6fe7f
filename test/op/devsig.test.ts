// Device enrolment at our OP over real HTTP (docs/devsig.md): POST /devsig/challenge and
// POST /devsig/enroll with an access token of this OP (Bearer, or DPoP-bound with a proof),
// a proof JWS over the challenge signed by the device key, and a TOTP code when the account
// has an authenticator app. The attestation is checked with jose against the OP's JWKS,
// independently of the library. Hostile: no token, a forged token, a token in the URL, wrong
// methods and content types, a proof for another issuer or by another key, a challenge used
// twice, expired or issued to another user, a missing or wrong code. Exact statuses and codes,
// nothing echoed, no attestation issued.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, decodeJwt, jwtVerify, SignJWT } from 'jose'
import { createDpopProof, createEnrollmentProof, generateDpopKey } from '../../src/dpop/index.ts'
import { totpCode } from '../../src/mfa/index.ts'
import { createOp } from '../../src/op/create-op.ts'
import {
  assertError,
  bearer,
  type DevsigWorld,
  devsigWorld,
  enroll,
} from './helpers/devsig-world.ts'

describe('OP devsig enrolment', () => {
  let w: DevsigWorld
  before(async () => {
    w = await devsigWorld()
  })
  after(() => w.close())

  it('is advertised in discovery under custom names', async () => {
    const meta = (await (
      await fetch(`${w.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>
    assert.equal(meta.devsig_challenge_endpoint, `${w.issuer}/devsig/challenge`)
    assert.equal(meta.devsig_enrollment_endpoint, `${w.issuer}/devsig/enroll`)
    assert.deepEqual(meta.devsig_signing_alg_values_supported, [
      'ES256',
      'ES384',
      'PS256',
      'RS256',
      'EdDSA',
    ])
  })

  it('enrols a key: the attestation verifies with jose against the JWKS, bound to the key', async () => {
    const token = await w.token()
    const key = await generateDpopKey()
    const answer = await enroll(w, token, key)
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.headers.get('cache-control'), 'no-store')
    assert.equal(answer.body.token_type, 'devsig-attestation+jwt')
    assert.equal(answer.body.expires_in, 3600)
    assert.equal(answer.body.jkt, key.thumbprint)
    const jwks = createRemoteJWKSet(new URL(`${w.issuer}/jwks`))
    const { payload, protectedHeader } = await jwtVerify(answer.body.attestation as string, jwks, {
      issuer: w.issuer,
      audience: 'app',
      typ: 'devsig-attestation+jwt',
      currentDate: new Date(w.now.value),
    })
    assert.equal(protectedHeader.typ, 'devsig-attestation+jwt')
    assert.equal(payload.sub, 'alice')
    assert.equal(payload.client_id, 'app')
    assert.deepEqual(payload.cnf, { jkt: key.thumbprint })
    assert.equal((payload.exp as number) - (payload.iat as number), 3600)
    assert.equal(typeof payload.jti, 'string')
  })

  it('enrols with a DPoP-bound access token and a proof of its key', async () => {
    const dpop = await generateDpopKey()
    const token = await w.token('alice', dpop)
    const key = await generateDpopKey()
    const auth = async (path: string) => ({
      authorization: `DPoP ${token}`,
      dpop: await createDpopProof(
        dpop,
        { method: 'POST', url: `${w.issuer}${path}`, accessToken: token },
        w.clock,
      ),
    })
    const challenge = await w.post('/devsig/challenge', {}, await auth('/devsig/challenge'))
    assert.equal(challenge.status, 200, challenge.text)
    const proof = await createEnrollmentProof(
      key,
      { challenge: challenge.body.challenge as string, issuer: w.issuer },
      w.clock,
    )
    const answer = await w.post('/devsig/enroll', { proof }, await auth('/devsig/enroll'))
    assert.equal(answer.status, 200, answer.text)
    // the bound token as a bearer token: refused, in the DPoP scheme
    const asBearer = await w.post('/devsig/challenge', {}, bearer(token))
    assertError(asBearer, 401, 'invalid_token', [token])
    assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP realm=/)
  })

  it('no token, a forged token, a token in the query: 401/400 with challenges', async () => {
    const none = await w.post('/devsig/challenge', {})
    assertError(none, 401, 'invalid_token')
    assert.equal(
      none.headers.get('www-authenticate'),
      `Bearer realm="${w.issuer}", DPoP realm="${w.issuer}", algs="ES256 PS256 EdDSA RS256 ES384"`,
    )
    const forged = await new SignJWT({
      sub: 'alice',
      client_id: 'app',
      scope: 'openid',
      gid: 'g',
      jti: 'j',
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(w.issuer)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new Uint8Array(32))
    for (const path of ['/devsig/challenge', '/devsig/enroll']) {
      const answer = await w.post(path, { proof: 'x' }, bearer(forged))
      assertError(answer, 401, 'invalid_token', [forged])
      assert.equal(
        answer.headers.get('www-authenticate'),
        `Bearer realm="${w.issuer}", error="invalid_token"`,
      )
    }
    const token = await w.token()
    const inQuery = await fetch(`${w.issuer}/devsig/challenge?access_token=${token}`, {
      method: 'POST',
    })
    assert.equal(inQuery.status, 400)
    assert.equal(((await inQuery.json()) as { error: string }).error, 'invalid_request')
  })

  it('GET is 405 with Allow; a JSON body is invalid_request; no proof is invalid_request', async () => {
    const token = await w.token()
    for (const path of ['/devsig/challenge', '/devsig/enroll']) {
      const get = await fetch(`${w.issuer}${path}`, { headers: bearer(token) })
      assert.equal(get.status, 405)
      assert.equal(get.headers.get('allow'), 'POST')
    }
    const json = await fetch(`${w.issuer}/devsig/enroll`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: '{"proof":"x"}',
    })
    assert.equal(json.status, 400)
    assertError(await w.post('/devsig/enroll', {}, bearer(token)), 400, 'invalid_request')
  })

  it('a bad proof: garbage, another issuer, a request-signature typ, a stale one', async () => {
    const token = await w.token()
    const key = await generateDpopKey()
    const challenge = (await w.post('/devsig/challenge', {}, bearer(token))).body
      .challenge as string
    const iat = Math.floor(w.now.value / 1000)
    const signed = (claims: Record<string, unknown>, typ = 'devsig-enroll+jwt') =>
      new SignJWT({ challenge, aud: w.issuer, jti: crypto.randomUUID(), iat, ...claims })
        .setProtectedHeader({ alg: 'ES256', typ, jwk: { ...key.publicJwk } })
        .sign(key.privateKey)
    for (const proof of [
      'garbage',
      await signed({ aud: 'https://other.example' }),
      await signed({}, 'devsig+jwt'),
      await signed({ iat: iat - 301 }),
    ]) {
      assertError(
        await w.post('/devsig/enroll', { proof }, bearer(token)),
        400,
        'invalid_request',
        [proof],
      )
    }
    // the challenge survived the refused proofs: a good one still enrols
    const good = await createEnrollmentProof(key, { challenge, issuer: w.issuer }, w.clock)
    assert.equal((await w.post('/devsig/enroll', { proof: good }, bearer(token))).status, 200)
  })

  it('a challenge works once, expires, and only for the user it was issued to', async () => {
    const token = await w.token()
    const key = await generateDpopKey()
    const challenge = (await w.post('/devsig/challenge', {}, bearer(token))).body
      .challenge as string
    const proof = await createEnrollmentProof(key, { challenge, issuer: w.issuer }, w.clock)
    assert.equal((await w.post('/devsig/enroll', { proof }, bearer(token))).status, 200)
    const again = await createEnrollmentProof(key, { challenge, issuer: w.issuer }, w.clock)
    assertError(
      await w.post('/devsig/enroll', { proof: again }, bearer(token)),
      400,
      'invalid_grant',
    )
    // an unknown challenge
    const made = await createEnrollmentProof(
      key,
      { challenge: 'made-up', issuer: w.issuer },
      w.clock,
    )
    assertError(
      await w.post('/devsig/enroll', { proof: made }, bearer(token)),
      400,
      'invalid_grant',
    )
    // bob's token with alice's challenge
    const aliceChallenge = (await w.post('/devsig/challenge', {}, bearer(token))).body
      .challenge as string
    const bobToken = await w.token('bob')
    const stolen = await createEnrollmentProof(
      key,
      { challenge: aliceChallenge, issuer: w.issuer },
      w.clock,
    )
    assertError(
      await w.post('/devsig/enroll', { proof: stolen }, bearer(bobToken)),
      400,
      'invalid_grant',
    )
    // expired (challenge lifetime 300 s; the proof is fresh)
    const late = (await w.post('/devsig/challenge', {}, bearer(token))).body.challenge as string
    w.now.value += 301_000
    const fresh = await w.token()
    const lateProof = await createEnrollmentProof(
      key,
      { challenge: late, issuer: w.issuer },
      w.clock,
    )
    assertError(
      await w.post('/devsig/enroll', { proof: lateProof }, bearer(fresh)),
      400,
      'invalid_grant',
    )
  })

  it('an account with an authenticator app must send a current code; amr then says otp', async () => {
    const { credentialId, secret } = await w.mfa.enrollTotp('bob', { account: 'bob' })
    const confirmed = await w.mfa.confirmTotp(
      'bob',
      credentialId,
      await totpCode(secret, w.now.value),
    )
    assert.ok(confirmed.ok)
    w.now.value += 60_000
    const token = await w.token('bob')
    const key = await generateDpopKey()
    assertError(await enroll(w, token, key), 400, 'invalid_request')
    assertError(await enroll(w, token, key, { otp: '000000' }), 400, 'invalid_grant')
    assertError(await enroll(w, token, key, { otp: 'abc' }), 400, 'invalid_grant')
    const answer = await enroll(w, token, key, { otp: await totpCode(secret, w.now.value) })
    assert.equal(answer.status, 200, answer.text)
    assert.ok((decodeJwt(answer.body.attestation as string).amr as string[]).includes('otp'))
  })

  it("secondFactor 'always': an account without an authenticator app cannot enrol", async () => {
    const strict = await devsigWorld({ devsig: { secondFactor: 'always' } })
    try {
      const token = await strict.token('alice')
      const key = await generateDpopKey()
      assertError(await enroll(strict, token, key, { otp: '123456' }), 400, 'invalid_grant')
    } finally {
      await strict.close()
    }
  })

  it('refuses a bad devsig config at creation', async () => {
    for (const devsig of [
      { attestationTtlSeconds: 10 },
      { challengeTtlSeconds: 3600 },
      { algorithms: ['HS256'] },
      { secondFactor: 'never' },
    ]) {
      await assert.rejects(
        createOp({
          issuer: 'http://127.0.0.1:9',
          logger: { warn() {}, error() {} },
          devsig,
        } as never),
        (err: unknown) => (err as { code?: string }).code === 'config_invalid',
        JSON.stringify(devsig),
      )
    }
  })

  it('is off (404) without the devsig option', async () => {
    const off = await createOp({ issuer: 'http://127.0.0.1:9', logger: { warn() {}, error() {} } })
    const answer = await off.handler(
      new Request('http://127.0.0.1:9/devsig/challenge', { method: 'POST' }),
    )
    assert.equal(answer.status, 404)
    assert.equal(off.metadata().devsig_challenge_endpoint, undefined)
  })
})
