// Property-based fuzzing of private_key_jwt client assertions (RFC 7523 §3) at the OP's
// introspection endpoint: the header, each claim, the signature, the assertion type and a second
// method beside it are drawn mostly sound, so about a fifth of the assertions are sound
// throughout. Property: never 5xx; an assertion authenticates (200) exactly when every part is
// sound; a refused one is 401 invalid_client, stores nothing (its jti is not spent) and is not
// echoed. The random-request fuzzer (op.fuzz.test.ts) also carries real, mangled and foreign
// assertions in `client_assertion` on every endpoint. FUZZ_RUNS sets the runs.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { NUM_RUNS } from './helpers/arbitraries.ts'
import {
  basicHeader,
  CLIENTS,
  fuzzOp,
  ISSUER,
  JWT_BEARER,
  type OpWorld,
} from './helpers/op-world.ts'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Mostly the sound value. */
const mostly = <T, U>(good: T, ...bad: U[]) =>
  fc.oneof({ weight: 8, arbitrary: fc.constant(good) }, fc.constantFrom(...bad))

const shapeArb = fc.record({
  alg: mostly('ES256', 'none', 'HS256', 'RS256', 'ES384'),
  kid: fc.oneof(
    { weight: 6, arbitrary: fc.constant('signer-1') },
    fc.constantFrom(undefined, 'other'),
  ),
  iss: mostly('signer', 'web', ''),
  sub: mostly('signer', 'web'),
  aud: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('issuer', 'token', 'array') },
    fc.constantFrom('https://evil.example', 'introspect', undefined),
  ),
  expOffset: mostly(60, -10, 400, undefined),
  iatOffset: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, undefined) },
    fc.constantFrom(30, -400),
  ),
  nbfOffset: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(undefined, 0) }, fc.constant(60)),
  jti: fc.oneof(
    { weight: 8, arbitrary: fc.uuid() },
    fc.constantFrom('', undefined),
    fc.string({ minLength: 257, maxLength: 300 }),
  ),
  mangle: mostly('none', 'signature', 'payload'),
  type: mostly(JWT_BEARER, `${JWT_BEARER}x`, undefined),
  extra: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('none', 'same-client-id') },
    fc.constantFrom('secret', 'basic', 'other-client-id'),
  ),
})
type Shape = typeof shapeArb extends fc.Arbitrary<infer T> ? T : never

const AUD: Record<string, unknown> = {
  issuer: ISSUER,
  token: `${ISSUER}/token`,
  array: ['https://x.example', ISSUER],
  introspect: `${ISSUER}/introspect`,
}

function sound(s: Shape): boolean {
  const lifetimeOk = s.expOffset === 60 && (s.iatOffset === 0 || s.iatOffset === undefined)
  return (
    s.alg === 'ES256' &&
    s.kid !== 'other' &&
    s.iss === 'signer' &&
    s.sub === 'signer' &&
    ['issuer', 'token', 'array'].includes(String(s.aud)) &&
    lifetimeOk &&
    s.nbfOffset !== 60 &&
    typeof s.jti === 'string' &&
    s.jti.length > 0 &&
    s.jti.length <= 256 &&
    s.mangle === 'none' &&
    s.type === JWT_BEARER &&
    (s.extra === 'none' || s.extra === 'same-client-id')
  )
}

describe('private_key_jwt assertions at the introspection endpoint', () => {
  let world: OpWorld
  before(async () => {
    world = await fuzzOp(false)
  })
  after(() => world.store.close())

  /** The JWS, signed with the signer's ES256 key whatever `alg` says (a lie must not verify). */
  async function build(s: Shape): Promise<string> {
    const now = Math.floor(world.now.value / 1000)
    const at = (offset: number | undefined) => (offset === undefined ? undefined : now + offset)
    const claims = JSON.parse(
      JSON.stringify({
        iss: s.iss,
        sub: s.sub,
        aud: s.aud === undefined ? undefined : (AUD[s.aud] ?? s.aud),
        exp: at(s.expOffset),
        iat: at(s.iatOffset),
        nbf: at(s.nbfOffset),
        jti: s.jti,
      }),
    )
    const input = `${b64(JSON.parse(JSON.stringify({ alg: s.alg, kid: s.kid })))}.${b64(claims)}`
    const signature = new Uint8Array(
      await crypto.subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        world.signerKey,
        new TextEncoder().encode(input),
      ),
    )
    const jws = `${input}.${Buffer.from(signature).toString('base64url')}`
    if (s.mangle === 'signature') return `${jws.slice(0, -6)}AAAAAA`
    if (s.mangle === 'payload')
      return jws.replace(/\.[^.]+\./, `.${b64({ ...claims, sub: 'signer ' })}.`)
    return jws
  }

  it('never 5xx; only a sound assertion authenticates; a refused one stores nothing and is not echoed', async () => {
    let passed = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(shapeArb, async (s) => {
        const assertion = await build(s)
        const form = new URLSearchParams({ token: 'not-a-token', client_assertion: assertion })
        if (s.type !== undefined) form.set('client_assertion_type', s.type)
        if (s.extra === 'secret') form.set('client_secret', CLIENTS.web.secret)
        if (s.extra === 'same-client-id') form.set('client_id', 'signer')
        if (s.extra === 'other-client-id') form.set('client_id', 'web')
        const headers: Record<string, string> = {
          'content-type': 'application/x-www-form-urlencoded',
        }
        if (s.extra === 'basic')
          headers.authorization = basicHeader(CLIENTS.web.id, CLIENTS.web.secret)
        const sizeBefore = world.store.size()
        const response = await world.op.handler(
          new Request(`${ISSUER}/introspect`, { method: 'POST', headers, body: form }),
        )
        const text = await response.text()
        assert.ok(response.status < 500, text)
        assert.ok(!text.includes(assertion.slice(0, 40)), 'the assertion is echoed')
        if (response.status === 200) {
          passed++
          assert.ok(sound(s), `an unsound assertion authenticated: ${JSON.stringify(s)}`)
          assert.equal(JSON.parse(text).active, false)
        } else {
          refused++
          assert.equal(response.status, 401, text)
          assert.equal(JSON.parse(text).error, 'invalid_client')
          assert.ok(!sound(s), `a sound assertion was refused: ${JSON.stringify(s)}`)
          assert.equal(world.store.size(), sizeBefore, 'a refused assertion was remembered')
        }
      }),
      { numRuns: NUM_RUNS },
    )
    if (NUM_RUNS >= 20) assert.ok(passed > 0 && refused > 0, `${passed} passed, ${refused} refused`)
  })
})
