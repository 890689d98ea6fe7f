// Device enrolment at our OP over real HTTP (docs/devsig.md): POST /devsig/challenge and
// POST /devsig/enroll with an access token of this OP (Bearer, or DPoP-bound with a proof),
// a proof JWS over the challenge signed by the device key, and a TOTP code when the account
// has an authenticator app. The attestation is checked with jose against the OP's JWKS,
// independently of the library. Hostile: no token, a forged token, a token in the URL, wrong
// methods and content types, a proof for another issuer or by another key, a challenge used
// twice, expired or issued to another user, a missing or wrong code. Exact statuses and codes,
// nothing echoed, no attestation issued.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, decodeJwt, jwtVerify, SignJWT } from 'jose'
import { serve } from '../../src/dev-idp/serve.ts'
import {
  createDpopProof,
  createEnrollmentProof,
  type DpopKey,
  generateDpopKey,
} from '../../src/dpop/index.ts'
import { createMemoryCredentialStore, createMfa, totpCode } from '../../src/mfa/index.ts'
import type { OpConfig } from '../../src/op/config.ts'
import { createOp, type Op } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'

const CB = 'https://app.example/cb'
const VERIFIER = 'v'.repeat(43)

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return Buffer.from(digest).toString('base64url')
}

interface DevsigWorld {
  readonly issuer: string
  readonly op: Op
  readonly now: { value: number }
  readonly clock: { now(): number }
  readonly store: ReturnType<typeof createMemoryOpStore>
  readonly mfa: ReturnType<typeof createMfa>
  /** An access token for `sub` (via auto-login), DPoP-bound to `dpop` if given. */
  token(sub?: string, dpop?: DpopKey): Promise<string>
  post(
    path: string,
    form: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Answer>
  close(): Promise<void>
}

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: Record<string, unknown>
}

/** Our OP on loopback with devsig on; `autoLogin` names whose tokens `token()` gets. */
async function devsigWorld(patch: Partial<OpConfig> = {}): Promise<DevsigWorld> {
  const now = { value: Date.UTC(2030, 0, 1, 12, 0, 5) }
  const clock = { now: () => now.value }
  const store = createMemoryOpStore({ clock })
  const mfa = createMfa({
    store: createMemoryCredentialStore({ clock }),
    secret: 'op-mfa-test-secret-at-least-32-bytes!!',
    issuer: 'Test OP',
    clock,
  })
  let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
  const server: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const make = (autoLogin: string) =>
    createOp({
      issuer,
      store,
      clock,
      mfa,
      logger: { warn() {}, error() {} },
      dangerouslyAutoLogin: autoLogin,
      devsig: {},
      clients: [
        {
          client_id: 'app',
          token_endpoint_auth_method: 'none',
          redirect_uris: [CB],
          grant_types: ['authorization_code'],
          skip_consent: true,
        },
      ],
      accounts: [
        { username: 'alice', password: 'wonderland', sub: 'alice', claims: {} },
        { username: 'bob', password: 'builder', sub: 'bob', claims: {} },
      ],
      ...patch,
    })
  const ops = { alice: await make('alice'), bob: await make('bob') }
  handler = (r) => ops.alice.handler(r)
  const post = async (path: string, form: Record<string, string>, headers = {}) => {
    const response = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    })
    const text = await response.text()
    let body: Record<string, unknown> = {}
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {}
    return { status: response.status, headers: response.headers, text, body }
  }
  return {
    issuer,
    op: ops.alice,
    now,
    clock,
    store,
    mfa,
    async token(sub = 'alice', dpop) {
      const op = sub === 'bob' ? ops.bob : ops.alice
      handler = (r) => op.handler(r)
      const url = new URL(`${issuer}/authorize`)
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: 'app',
        redirect_uri: CB,
        scope: 'openid',
        code_challenge: await s256(VERIFIER),
        code_challenge_method: 'S256',
      }).toString()
      const auth = await fetch(url, { redirect: 'manual' })
      const code = new URL(auth.headers.get('location') ?? '').searchParams.get('code') ?? ''
      const proof = dpop
        ? { dpop: await createDpopProof(dpop, { method: 'POST', url: `${issuer}/token` }, clock) }
        : undefined
      const answer = await post(
        '/token',
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: CB,
          code_verifier: VERIFIER,
          client_id: 'app',
        },
        proof,
      )
      handler = (r) => ops.alice.handler(r)
      assert.equal(answer.status, 200, answer.text)
      return answer.body.access_token as string
    },
    post,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Challenge + proof + enroll; returns the enroll answer. */
async function enroll(
  w: DevsigWorld,
  token: string,
  key: DpopKey,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const challenge = await w.post('/devsig/challenge', {}, bearer(token))
  assert.equal(challenge.status, 200, challenge.text)
  const proof = await createEnrollmentProof(
    key,
    { challenge: challenge.body.challenge as string, issuer: w.issuer },
    w.clock,
  )
  return w.post('/devsig/enroll', { proof, ...extra }, bearer(token))
}

function assertError(answer: Answer, status: number, error: string, secrets: string[] = []) {
  assert.equal(answer.status, status, answer.text)
  assert.equal(answer.body.error, error)
  assert.equal(answer.headers.get('cache-control'), 'no-store')
  assert.equal(answer.body.attestation, undefined)
  for (const secret of secrets)
    for (const part of secret.split('.').filter((p) => p.length >= 8))
      assert.ok(!answer.text.includes(part), 'the answer echoes the input')
}

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
