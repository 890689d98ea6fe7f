// Hostile inputs: arbitrary Authorization headers and arbitrary JWT-shaped tokens never make a
// guard throw, never let a request through, never produce a 5xx while keys are available, and
// never echo what was sent.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { apiKey, basic, bearer, type Guard } from '../../../src/index.ts'
import { AUD, clock, goodClaims, ISS, JWKS_URI, type LocalIssuer, localIssuer } from './helpers.ts'

let issuer: LocalIssuer
let guards: [string, Guard<unknown>][]
before(async () => {
  issuer = await localIssuer()
  guards = [
    [
      'bearer (JWKS)',
      bearer({ jwksUri: JWKS_URI, issuer: ISS, audience: AUD, fetch: issuer.fetch, clock }),
    ],
    ['bearer (secret)', bearer({ secret: 's'.repeat(32), issuer: ISS, audience: AUD, clock })],
    ['basic', basic({ realm: 'r', verify: async () => null })],
    ['apiKey', apiKey({ header: 'authorization', verify: async () => null })],
  ]
})

/** A request with this Authorization value, or undefined if fetch would not send it. */
function withAuthorization(value: string): Request | undefined {
  try {
    return new Request('https://api.example/', { headers: { authorization: value } })
  } catch {
    return undefined
  }
}

async function assertRefused(guard: Guard<unknown>, req: Request, sent: string): Promise<void> {
  const result = await guard(req)
  assert.equal(result.ok, false)
  if (result.ok) return
  assert.ok([400, 401].includes(result.response.status), `status ${result.response.status}`)
  const body = await result.response.text()
  if (sent.trim().length >= 12) assert.ok(!body.includes(sent.trim()), 'echoed')
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('guards under hostile input', () => {
  it('arbitrary Authorization headers are refused without throwing', async () => {
    const scheme = fc.constantFrom('Bearer ', 'bearer ', 'Basic ', 'BASIC ', '', 'Bearer  ')
    await fc.assert(
      fc.asyncProperty(scheme, fc.string({ maxLength: 200, unit: 'binary' }), async (s, rest) => {
        const value = s + rest
        const req = withAuthorization(value)
        if (!req) return
        for (const [, guard] of guards) await assertRefused(guard, req, value)
      }),
      { numRuns: 300 },
    )
  })

  it('arbitrary JWT-shaped bearer tokens are refused as invalid_token', async () => {
    const header = fc.record(
      {
        alg: fc.oneof(
          fc.constantFrom('ES256', 'RS256', 'PS256', 'EdDSA', 'HS256', 'none', 'NONE', ''),
          fc.string(),
          fc.integer(),
        ),
        kid: fc.oneof(fc.constant('k1'), fc.string(), fc.integer(), fc.constant(null)),
        typ: fc.oneof(fc.constantFrom('at+jwt', 'JWT'), fc.string()),
        crit: fc.array(fc.constantFrom('b64', 'exp', 'x')),
        b64: fc.boolean(),
        jku: fc.constant('https://evil.example/jwks'),
      },
      { requiredKeys: ['alg'] },
    )
    const payload = fc.oneof(
      fc.constant(goodClaims() as Record<string, unknown>),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()),
    )
    const signature = fc.oneof(
      fc.constant(''),
      fc.base64String().map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')),
    )
    await fc.assert(
      fc.asyncProperty(header, payload, signature, async (h, p, s) => {
        const token = `${b64(h)}.${b64(p)}.${s}`
        const req = withAuthorization(`Bearer ${token}`)
        assert.ok(req)
        for (const [name, guard] of guards.slice(0, 2)) {
          const result = await guard(req)
          assert.equal(result.ok, false, name)
          if (result.ok) return
          assert.equal(result.response.status, 401, name)
          assert.equal((await result.response.json()).error, 'invalid_token')
        }
      }),
      { numRuns: 300 },
    )
  })
})
