// Differential: the synchronous verifier (src/core/compact-jwt.ts on node:crypto) against jose's
// jwtVerify, on tokens whose header, claims and signature are mutated at random. Whenever the
// fast path accepts, jose accepts the same claims; on canonical tokens without `crit`/`b64` the two
// give the same verdict, and an expiry is an expiry in both.
import assert from 'node:assert/strict'
import * as nodeCryptoModule from 'node:crypto'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { generateKeyPair, errors as joseErrors, jwtVerify } from 'jose'
import { isRejection, type JwtExpectations, verifyJwt } from '../../src/core/compact-jwt.ts'
import { createNodeJws } from '../../src/core/crypto/node-jws.ts'
import { NUM_RUNS } from './helpers/arbitraries.ts'

const nodeJws = createNodeJws(nodeCryptoModule)

const NOW = Date.UTC(2030, 0, 1)
const SEC = NOW / 1000
const secret = new TextEncoder().encode('differential-secret-of-at-least-32-bytes')
let es: CryptoKeyPair

before(async () => {
  es = await generateKeyPair('ES256')
})

const claimValue = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: SEC - 200, max: SEC + 200 }),
  fc.constantFrom(SEC - 30, SEC - 31, SEC + 30, SEC + 31, SEC - 5, SEC + 5, SEC, SEC + 0.5),
  fc.double({ min: SEC - 100, max: SEC + 100, noNaN: true }),
  fc.constantFrom('x', null, true, [], {}, SEC.toString()),
)
// A valid token and expectations, then up to three fields replaced at random: most tokens are
// one mutation away from valid, so both verdicts are exercised.
const validHeader = { alg: 'HS256', typ: 'at+jwt', extra: undefined as unknown }
const validClaims = {
  iss: 'https://iss.example',
  aud: 'api',
  sub: 'user',
  exp: SEC + 600,
  nbf: SEC - 10,
  iat: SEC - 10,
}
const validExpectations = {
  typ: 'at+jwt' as string | undefined,
  issuer: 'https://iss.example' as string | string[] | undefined,
  audience: 'api' as string | string[] | undefined,
  required: ['iss', 'sub', 'aud', 'exp'],
  tolerance: 30,
  algorithms: ['HS256', 'ES256'],
}
const headerField = fc.oneof(
  fc.record({ alg: fc.constantFrom('HS256', 'ES256', 'none', 'HS512', 'RS256', '') }),
  fc.record({
    typ: fc.constantFrom(undefined, 'at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT', 1),
  }),
  fc.record({
    extra: fc.constantFrom(undefined, { kid: 'k' }, { crit: ['b64'], b64: true }, { cty: 'JWT' }),
  }),
)
const claimField = fc.oneof(
  fc.record({
    iss: fc.constantFrom(undefined, 'https://iss.example', 'https://other.example', 1, null, 'b'),
  }),
  fc.record({
    aud: fc.constantFrom(undefined, 'api', ['api', 'x'], ['x'], [], 'API', 5, [1], 'other'),
  }),
  fc.record({ sub: fc.constantFrom(undefined, 'user', '') }),
  fc.record({ exp: claimValue }),
  fc.record({ nbf: claimValue }),
  fc.record({ iat: claimValue }),
)
const expectationField = fc.oneof(
  fc.record({ typ: fc.constantFrom(undefined, 'at+jwt', 'application/at+jwt', 'JWT') }),
  fc.record({
    issuer: fc.constantFrom(undefined, 'https://iss.example', ['https://iss.example', 'b']),
  }),
  fc.record({ audience: fc.constantFrom(undefined, 'api', ['api', 'other'], ['x']) }),
  fc.record({ required: fc.subarray(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf']) }),
  fc.record({ tolerance: fc.constantFrom(0, 5, 30) }),
  fc.record({ algorithms: fc.constantFrom(['HS256'], ['ES256'], ['HS256', 'ES256'], ['RS256']) }),
)
const header = fc
  .array(headerField, { maxLength: 1 })
  .map((fs) => Object.assign({ ...validHeader }, ...fs))
const claims = fc
  .array(claimField, { maxLength: 2 })
  .map((fs) => Object.assign({ ...validClaims }, ...fs))
const expectations = fc
  .array(expectationField, { maxLength: 1 })
  .map((fs) => Object.assign({ ...validExpectations }, ...fs))
const mutation = fc.constantFrom(
  'none',
  'none',
  'none',
  'none',
  'flip-sig',
  'flip-payload',
  'drop-sig',
)

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function build(
  h: { alg: string; typ: unknown; extra: unknown },
  c: Record<string, unknown>,
  m: string,
): Promise<string> {
  const protectedHeader = Object.fromEntries(
    Object.entries({ alg: h.alg, typ: h.typ, ...(h.extra as object | undefined) }).filter(
      ([, v]) => v !== undefined,
    ),
  )
  const payload = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined))
  const input = `${b64(protectedHeader)}.${b64(payload)}`
  let signature = ''
  if (h.alg === 'HS256' || h.alg === 'HS512')
    signature = nodeJws.signer(secret, h.alg)?.(input) ?? ''
  if (h.alg === 'ES256') signature = nodeJws.signer(es.privateKey, 'ES256')?.(input) ?? ''
  const token = `${input}.${signature}`
  if (m === 'flip-sig' && signature.length > 4)
    return `${input}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`
  if (m === 'flip-payload') return token.replace('.', '.e')
  if (m === 'drop-sig') return `${input}.`
  return token
}

const outcomes: [number, number] = [0, 0]

describe('compact-jwt against jose jwtVerify', () => {
  it('agree on random tokens (fast accept ⇒ jose accept; same verdict on canonical tokens)', async () => {
    await fc.assert(
      fc.asyncProperty(header, claims, expectations, mutation, async (h, c, e, m) => {
        outcomes[0] += 1
        const token = await build(h, c, m)
        const expected: JwtExpectations = {
          algorithms: e.algorithms,
          typ: e.typ,
          issuer: e.issuer,
          audience: e.audience,
          requiredClaims: e.required,
          clockToleranceSeconds: e.tolerance,
          now: NOW,
        }
        const keyOf = (alg: unknown) =>
          typeof alg === 'string' && alg.startsWith('HS') ? secret : es.publicKey
        const fast = await verifyJwt(token, nodeJws, (hd) => [keyOf(hd.alg)], expected)
        let jose: { ok: true; payload: unknown } | { ok: false; expired: boolean }
        try {
          const { payload } = await jwtVerify(token, (hd: { alg: string }) => keyOf(hd.alg), {
            algorithms: [...e.algorithms],
            ...(e.typ === undefined ? {} : { typ: e.typ }),
            ...(e.issuer === undefined ? {} : { issuer: e.issuer }),
            ...(e.audience === undefined ? {} : { audience: e.audience }),
            requiredClaims: e.required,
            clockTolerance: e.tolerance,
            currentDate: new Date(NOW),
          })
          jose = { ok: true, payload }
        } catch (err) {
          jose = { ok: false, expired: err instanceof joseErrors.JWTExpired }
        }
        if (!isRejection(fast)) {
          outcomes[1] += 1
          assert.ok(jose.ok, `fast accepted what jose refused: ${token}`)
          assert.deepEqual(fast.payload, jose.payload)
          return
        }
        if (fast.reason === 'malformed' && (h.extra as { crit?: unknown })?.crit !== undefined)
          return // stricter by design
        assert.equal(jose.ok, false, `jose accepted what fast refused (${fast.message}): ${token}`)
        if (!jose.ok) assert.equal(fast.reason === 'expired', jose.expired, fast.message)
      }),
      { numRuns: NUM_RUNS * 10 },
    )
    assert.ok(outcomes[1] > outcomes[0] / 10, `only ${outcomes[1]} of ${outcomes[0]} tokens valid`)
  })
})
