// Property-based fuzzing of the token endpoint of an OP in the FAPI 2.0 profile: each token
// request's client assertion (alg, aud, how far ahead its iat/nbf are) and DPoP proof (present,
// alg, htm, htu, iat ahead or stale) are drawn mostly sound. Property: never 5xx; a token is
// issued exactly when both are sound under the profile (aud the issuer string, PS256/ES256/EdDSA
// only, ≤ 10 s ahead); otherwise a bad assertion is 401 invalid_client and a bad proof 400
// invalid_dpop_proof, with no token and nothing of the request echoed. FUZZ_RUNS sets the runs.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { type DpopKey, generateDpopKey } from '../../src/dpop/key.ts'
import { createDpopProof } from '../../src/dpop/proof.ts'
import { assertionWorld, ISSUER, TOKEN } from '../op/helpers/assertion-world.ts'
import { NUM_RUNS } from './helpers/arbitraries.ts'

const mostly = <T, U>(good: T, ...bad: U[]) =>
  fc.oneof({ weight: 6, arbitrary: fc.constant(good) }, fc.constantFrom(...bad))

const shapeArb = fc.record({
  assertionAlg: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('ES256' as const, 'PS256' as const) },
    fc.constant('RS256' as const),
  ),
  aud: mostly('issuer', 'token', 'array', 'slash'),
  assertionAhead: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, 9) },
    fc.constantFrom(15, 61),
  ),
  proof: mostly('present', 'absent'),
  proofAlg: mostly('ES256' as const, 'RS256' as const),
  htm: mostly('POST', 'GET'),
  htu: mostly(TOKEN, `${ISSUER}/userinfo`),
  proofAhead: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 9) }, fc.constantFrom(15, -120)),
})
type Shape = typeof shapeArb extends fc.Arbitrary<infer T> ? T : never

const AUD: Record<Shape['aud'], unknown> = {
  issuer: ISSUER,
  token: TOKEN,
  array: [ISSUER],
  slash: `${ISSUER}/`,
}

const assertionSound = (s: Shape) =>
  s.assertionAlg !== 'RS256' && s.aud === 'issuer' && s.assertionAhead <= 10
const proofSound = (s: Shape) =>
  s.proof === 'present' &&
  s.proofAlg === 'ES256' &&
  s.htm === 'POST' &&
  s.htu === TOKEN &&
  s.proofAhead >= 0 &&
  s.proofAhead <= 10

describe('FAPI 2.0 token requests (fuzz)', () => {
  let world: Awaited<ReturnType<typeof assertionWorld>>
  const dpopKeys: Partial<Record<'ES256' | 'RS256', DpopKey>> = {}
  before(async () => {
    world = await assertionWorld((byAlg) => ({
      profile: 'fapi2',
      clients: [
        {
          client_id: 'bank',
          // RS256's key is registered too: its refusal is the profile's, not an unknown key.
          jwks: {
            keys: (['PS256', 'ES256', 'RS256'] as const).map(
              (a) => byAlg(a).publicJwk as Record<string, unknown>,
            ),
          },
          redirect_uris: ['https://bank.example/cb'],
          grant_types: ['client_credentials'],
        },
      ],
    }))
    dpopKeys.ES256 = await generateDpopKey({ alg: 'ES256' })
    dpopKeys.RS256 = await generateDpopKey({ alg: 'RS256' })
  })

  it('never 5xx; a token exactly when assertion and proof are sound; exact codes otherwise', async () => {
    const seen = { issued: 0, client: 0, proof: 0 }
    await fc.assert(
      fc.asyncProperty(shapeArb, async (s) => {
        const at = Math.floor(world.now.value / 1000) + s.assertionAhead
        const assertion = await world.sign(world.byAlg(s.assertionAlg), 'bank', {
          claims: { aud: AUD[s.aud], iat: at, nbf: at, exp: at + 60 },
        })
        const headers: Record<string, string> = {}
        if (s.proof === 'present') {
          const clock = { now: () => world.now.value + s.proofAhead * 1000 }
          headers.dpop = await createDpopProof(
            dpopKeys[s.proofAlg] as DpopKey,
            { method: s.htm, url: s.htu },
            clock,
          )
        }
        const res = await world.clientCredentials(assertion, {}, headers)
        assert.ok(res.status < 500, res.text)
        assert.ok(!res.text.includes(assertion), 'the assertion is not echoed')
        if (assertionSound(s) && proofSound(s)) {
          assert.equal(res.status, 200, res.text)
          assert.equal(res.body.token_type, 'DPoP')
          seen.issued++
        } else if (!assertionSound(s)) {
          assert.equal(res.status, 401, res.text)
          assert.equal(res.body.error, 'invalid_client')
          seen.client++
        } else {
          assert.equal(res.status, 400, res.text)
          assert.equal(res.body.error, 'invalid_dpop_proof')
          seen.proof++
        }
        if (res.status !== 200) assert.equal(res.body.access_token, undefined)
      }),
      { numRuns: NUM_RUNS },
    )
    if (NUM_RUNS >= 100) {
      assert.ok(seen.issued > 0 && seen.client > 0 && seen.proof > 0, JSON.stringify(seen))
    }
  })
})
