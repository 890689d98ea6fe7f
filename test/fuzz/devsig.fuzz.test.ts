// Property-based fuzzing of the OP's two devsig endpoints: arbitrary methods, query strings,
// form bodies, content types, Authorization headers (random, forged, a real access token) and
// proofs (random, and real proofs with one part mutated) never make the handler throw or answer
// 5xx; every refusal is JSON with its exact status for its code; no attestation is issued without
// a valid proof over a live challenge; nothing planted in a request comes back. FUZZ_RUNS sets
// the runs per property.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { createEnrollmentProof, type DpopKey, generateDpopKey } from '../../src/dpop/index.ts'
import { Browser } from '../op/helpers/browser.ts'
import { testOp, WEB_REDIRECT } from '../op/helpers/op-setup.ts'
import { signIn } from '../op/helpers/sign-in.ts'
import {
  authorizationArb,
  bodyArb,
  buildRequest,
  contentTypeArb,
  METHODS,
  NUM_RUNS,
  type RawRequest,
  rawPairsArb,
} from './helpers/arbitraries.ts'

const PLANTED = 'PLANTED-0a1b2c3d4e5f6a7b8c9d'
/** The status each error code is answered with. */
const STATUS_OF: Record<string, readonly number[]> = {
  invalid_request: [400, 405, 413],
  invalid_token: [401],
  invalid_grant: [400, 429],
  invalid_dpop_proof: [401],
  use_dpop_nonce: [401],
}

describe('fuzz: OP devsig endpoints', () => {
  let world: Awaited<ReturnType<typeof testOp>>
  let token: string
  let key: DpopKey
  const ORIGIN = 'http://127.0.0.1:9000'

  before(async () => {
    world = await testOp({ devsig: {} })
    token = (await signIn(world.op, new Browser(world.op.handler), 'first', WEB_REDIRECT))
      .access_token
    key = await generateDpopKey()
  })

  const send = async (raw: RawRequest) => {
    const request = buildRequest(ORIGIN, raw)
    if (!request) return undefined
    const response = await world.op.handler(request)
    return { response, text: await response.text() }
  }

  function assertAnswer(status: number, text: string, headers: Headers): void {
    assert.ok(status < 500, `answered ${status}`)
    assert.ok(!text.includes(PLANTED), 'a planted value came back')
    assert.ok(!text.includes(token.split('.')[1] as string), 'the access token came back')
    if (status === 200) return
    const body = JSON.parse(text) as { error?: string; attestation?: unknown }
    assert.equal(body.attestation, undefined)
    const allowed = STATUS_OF[body.error ?? '']
    assert.ok(allowed, `unexpected error ${body.error}`)
    assert.ok(allowed.includes(status), `${body.error} with ${status}`)
    assert.equal(headers.get('cache-control'), 'no-store')
    if (status === 401) assert.ok(headers.get('www-authenticate'))
  }

  it('random requests: no 5xx, exact statuses, no attestation, nothing echoed', async () => {
    const raw = fc.record({
      method: fc.constantFrom(...METHODS, 'POST', 'POST'),
      path: fc.constantFrom('/devsig/challenge', '/devsig/enroll'),
      query: rawPairsArb(['access_token', 'proof'], [PLANTED]),
      body: bodyArb(rawPairsArb(['proof', 'otp', 'access_token'], [PLANTED, 'a.b.c'])),
      headers: fc.record({
        'content-type': contentTypeArb,
        authorization: authorizationArb(['first'], [PLANTED, 'x.y.z']),
        dpop: fc.option(fc.constantFrom(PLANTED, 'a.b.c'), { nil: undefined }),
      }),
    })
    await fc.assert(
      fc.asyncProperty(raw, async (r) => {
        const answer = await send(r as RawRequest)
        if (!answer) return
        assertAnswer(answer.response.status, answer.text, answer.response.headers)
        if (r.path === '/devsig/enroll') assert.notEqual(answer.response.status, 200)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('a real enrolment with one part mutated: only the exact request succeeds, once', async () => {
    const mutation = fc.constantFrom(
      'none',
      'method',
      'content-type',
      'scheme',
      'token',
      'proof-char',
      'proof-swap',
      'extra-proof',
      'otp',
    )
    await fc.assert(
      fc.asyncProperty(mutation, fc.nat(), async (m, at) => {
        const challengeAnswer = await send({
          method: 'POST',
          path: '/devsig/challenge',
          query: '',
          body: '',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
        })
        const { challenge } = JSON.parse(challengeAnswer?.text ?? '{}') as { challenge: string }
        let proof = await createEnrollmentProof(
          key,
          { challenge, issuer: world.op.issuer },
          { now: () => world.now.value },
        )
        let auth = `Bearer ${token}`
        let method = 'POST'
        let type = 'application/x-www-form-urlencoded'
        let extra = ''
        const i = at % proof.length
        if (m === 'method') method = 'PUT'
        if (m === 'content-type') type = 'text/plain'
        if (m === 'scheme') auth = `Basic ${token}`
        if (m === 'token') auth = `Bearer ${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}A`
        if (m === 'proof-char' && proof[i] !== '.')
          proof = `${proof.slice(0, i)}${proof[i] === 'A' ? 'B' : 'A'}${proof.slice(i + 1)}`
        if (m === 'proof-swap') proof = proof.split('.').reverse().join('.')
        if (m === 'extra-proof') extra = `&proof=${PLANTED}`
        if (m === 'otp') extra = `&otp=${PLANTED}`
        const raw: RawRequest = {
          method,
          path: '/devsig/enroll',
          query: '',
          body: `proof=${proof}${extra}`,
          headers: { authorization: auth, 'content-type': type },
        }
        const first = await send(raw)
        assert.ok(first)
        assertAnswer(first.response.status, first.text, first.response.headers)
        // an otp is not asked of an account without a factor; a flipped last character of
        // the signature may decode to the same bytes (its spare bits)
        if (m === 'none' || m === 'otp') assert.equal(first.response.status, 200, first.text)
        else if (!(m === 'proof-char' && i === proof.length - 1))
          assert.notEqual(first.response.status, 200, m)
        // a replay of the same request never enrols again
        const again = await send(raw)
        assert.ok(again)
        assert.notEqual(again.response.status, 200)
        assertAnswer(again.response.status, again.text, again.response.headers)
      }),
      { numRuns: Math.min(NUM_RUNS, 60) },
    )
  })
})
