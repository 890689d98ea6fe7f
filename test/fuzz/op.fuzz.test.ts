// Property-based fuzzing of every OP endpoint: arbitrary methods, paths, query strings, form
// bodies, content types, Authorization schemes and forged cookies never make the handler throw or
// answer 5xx, errors are RFC 6749/6750 JSON, no token is issued without a valid grant, /authorize
// redirects only to registered redirect URIs (or the OP's interaction page), /userinfo refuses
// random bearer tokens, and no response carries a planted secret the request did not carry.
// A second property mutates one part of an exactly-correct code redemption: only the exact
// request succeeds, and only once; and the same for the built-in login form. FUZZ_RUNS sets the
// runs per property; FUZZ_STATS=1 prints how often each endpoint answered each status.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { serve } from '../../src/dev-idp/serve.ts'
import { createDpopProof, generateDpopKey } from '../../src/dpop/index.ts'
import { rawHttp } from '../helpers/net.ts'
import { buildRequest, NUM_RUNS, type RawRequest, requestText } from './helpers/arbitraries.ts'
import {
  type LoginPost,
  loginMutationArb,
  openInteraction,
  openSecondFactor,
  otpMutationArb,
} from './helpers/login-form.ts'
import { liveInteraction, type Planted, requestArb, shapedArb } from './helpers/op-requests.ts'
import {
  basicHeader,
  CLIENT_SECRETS,
  CLIENTS,
  fuzzOp,
  ISSUER,
  type OpWorld,
  PASSWORD,
  REDIRECTS,
  realCode,
  realTokens,
  SIGNED_OUT,
  signerAssertion,
  tokenRequest,
  WEB_REDIRECT,
} from './helpers/op-world.ts'
import {
  type Attempt,
  correctAuth,
  mutationArb,
  sameAttempt,
  send,
} from './helpers/token-mutations.ts'

const ORIGIN = new URL(ISSUER).origin
const BASE = new URL(ISSUER).pathname

/** RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, OIDC Core §3.1.2.6, and not_found. */
const ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_response_type',
  'invalid_scope',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
  'login_required',
  'consent_required',
  'interaction_required',
  'not_found',
  'unmet_authentication_requirements',
  'method_not_allowed',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_target',
])

let form: OpWorld
const STATS = new Map<string, number>()
let auto: OpWorld
let planted: Planted

before(async () => {
  form = await fuzzOp(false)
  auto = await fuzzOp(true)
  // planted at the auto OP and visible to both: a live code and tokens of the confidential client
  const tokens = await realTokens(auto)
  const { code } = await realCode(auto)
  const key = await generateDpopKey()
  const proofs = await Promise.all(
    [
      ['POST', `${ISSUER}/token`],
      ['GET', `${ISSUER}/userinfo`, tokens.accessToken],
      ['POST', `${ISSUER}/userinfo`],
      ['POST', `${ISSUER}/introspect`],
    ].map(([method = 'GET', url = '', accessToken]) =>
      createDpopProof(key, { method, url, ...(accessToken ? { accessToken } : {}) }),
    ),
  )
  const sound = await signerAssertion(auto)
  const assertions = [
    sound,
    await signerAssertion(auto),
    `${sound.slice(0, -6)}AAAAAA`,
    sound.replace(/^[^.]+/, 'eyJhbGciOiJub25lIn0'),
    await signerAssertion(auto, CLIENTS.web.id),
  ]
  planted = { ...tokens, code, uid: await liveInteraction(form), proofs, assertions }
})
after(() => {
  if (process.env.FUZZ_STATS)
    console.log(
      [...STATS]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} ${k}`)
        .join('\n'),
    )
  form.store.close()
  auto.store.close()
})

function secrets(): string[] {
  return [
    ...CLIENT_SECRETS,
    PASSWORD,
    planted.code,
    planted.refreshToken,
    planted.accessToken,
    planted.idToken,
  ]
}

/** Where a 3xx may point: exactly a registered redirect URI (plus query), or the interaction page. */
function allowedLocation(location: string): boolean {
  if (location.startsWith(`${ISSUER}/interaction/`)) return true
  let url: URL
  try {
    url = new URL(location)
  } catch {
    return false
  }
  const target = `${url.origin}${url.pathname}`
  return REDIRECTS.includes(target as (typeof REDIRECTS)[number]) || target === SIGNED_OUT
}

async function checkResponse(
  world: OpWorld,
  raw: RawRequest,
  request: Request,
  send: (request: Request) => Promise<Response> = (r) => world.op.handler(r),
): Promise<void> {
  const path = new URL(request.url).pathname
  const isToken = path === `${BASE}/token`
  const sizeBefore = world.store.size()
  let response: Response
  try {
    response = await send(request)
  } catch (err) {
    assert.fail(`handler threw: ${err instanceof Error ? err.stack : String(err)}`)
  }
  const status = response.status
  if (process.env.FUZZ_STATS) {
    // A HEAD answer has a JSON type and no body.
    const peek = await response.clone().text()
    const json = (response.headers.get('content-type') ?? '').startsWith('application/json')
    const k = `${raw.method} ${path.replace(/interaction\/.*/, 'interaction/*')} ${status} ${
      json && peek !== '' ? (JSON.parse(peek) as { error?: string }).error : ''
    }`
    STATS.set(k, (STATS.get(k) ?? 0) + 1)
  }
  assert.ok(status < 500, `status ${status} for ${raw.method} ${path}`)
  const text = await response.text()
  const sent = requestText(raw)
  const location = response.headers.get('location')
  const cookies = response.headers.getSetCookie().join('\n')
  for (const secret of secrets()) {
    if (sent.includes(secret)) continue
    for (const [where, out] of [
      ['body', text],
      ['location', location ?? ''],
      ['set-cookie', cookies],
    ] as const) {
      assert.ok(!out.includes(secret), `${where} of ${raw.method} ${path} leaks a secret`)
    }
  }
  const type = response.headers.get('content-type') ?? ''
  let body: unknown
  if (type.startsWith('application/json') && text !== '') {
    body = JSON.parse(text)
    assert.equal(typeof body, 'object')
    for (const key of ['access_token', 'refresh_token', 'id_token']) {
      assert.ok(!Object.hasOwn(body as object, key), `${path} issued ${key} (${status})`)
    }
    if (status >= 400) {
      const error = (body as { error?: unknown }).error
      assert.equal(typeof error, 'string', `${path} ${status} without "error"`)
      assert.ok(ERRORS.has(error as string), `unexpected error value ${String(error)}`)
      assert.match(error as string, /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/)
    }
  }
  if (status >= 300 && status < 400) {
    assert.ok(location !== null, `${status} without Location`)
    assert.ok(allowedLocation(location), `${path} redirected to ${location}`)
  }
  if (path === `${BASE}/userinfo`) assert.notEqual(status, 200, 'userinfo accepted a random token')
  if (isToken) {
    assert.notEqual(status, 200, 'token endpoint answered 200 to a random request')
    assert.ok(world.store.size() <= sizeBefore, 'a random token request stored something')
  }
  if (path.startsWith(`${BASE}/logout`)) {
    // No fuzzed cookie is a live session: nothing to confirm, so nothing may be stored.
    assert.ok(world.store.size() <= sizeBefore, 'a logout without a session stored something')
    if (location !== null) assert.ok(location.startsWith(SIGNED_OUT), `logout went to ${location}`)
  }
  if (status === 401 && path === `${BASE}/userinfo`) {
    assert.match(response.headers.get('www-authenticate') ?? '', /^(Bearer|DPoP) realm="/)
  }
}

describe('OP endpoints under fuzzed requests', () => {
  it('a live code and a refresh token are planted', () => {
    assert.ok(planted.code && planted.refreshToken)
  })

  for (const which of ['form login', 'auto-login'] as const) {
    it(`never throw, 5xx, leak, redirect off-list or issue tokens (${which})`, async () => {
      const world = which === 'form login' ? form : auto
      await fc.assert(
        fc.asyncProperty(fc.oneof(requestArb(planted), shapedArb(planted)), async (raw) => {
          const request = buildRequest(ORIGIN, raw)
          if (!request) return
          await checkResponse(world, raw, request)
        }),
        { numRuns: NUM_RUNS },
      )
    })
  }

  it('never throw, 5xx, leak, redirect off-list or issue tokens (auto-login, Node-native path over HTTP)', async () => {
    // The same property through what the dev IdP runs: node:http, the OP's request read straight
    // from Node (target, headers, capped body) and its response written straight back.
    const server = await serve(
      { message: auto.op.handleMessage },
      { host: '127.0.0.1', port: 0, origin: ORIGIN },
    )
    const port = (server.address() as { port: number }).port
    // What node:http cannot put on the wire (control characters in a header) never reaches a
    // Node server: the Web-path properties above cover those.
    const sendable = (request: Request) =>
      [...request.headers].every(([, value]) =>
        [...value].every((c) => c === '\t' || (c >= ' ' && c !== '\u007f')),
      )
    const overHttp = async (request: Request): Promise<Response> => {
      const url = new URL(request.url)
      const headers: Record<string, string> = {}
      // Framing is the client's: a fuzzed Content-Length that disagrees with the body would only
      // stall the connection (the server waits for bytes that never come), as with any server.
      for (const [name, value] of request.headers)
        if (name !== 'content-length' && name !== 'transfer-encoding') headers[name] = value
      const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text()
      const raw = await rawHttp(port, {
        method: request.method,
        path: `${url.pathname}${url.search}`,
        host: url.host,
        headers,
        body,
      })
      const out = new Headers()
      for (const [name, value] of Object.entries(raw.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
          out.append(name, v)
      }
      const empty = raw.status === 204 || raw.status === 304 || raw.body === ''
      return new Response(empty ? null : raw.body, { status: raw.status, headers: out })
    }
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(requestArb(planted), shapedArb(planted)), async (raw) => {
          const request = buildRequest(ORIGIN, raw)
          if (!request || !sendable(request)) return
          await checkResponse(auto, raw, request, overHttp)
        }),
        { numRuns: NUM_RUNS },
      )
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })

  it('the planted refresh token survives the fuzzing (nothing revoked it)', async () => {
    const res = await auto.op.handler(
      tokenRequest(
        [
          ['grant_type', 'refresh_token'],
          ['refresh_token', planted.refreshToken],
        ],
        basicHeader(CLIENTS.web.id, CLIENTS.web.secret),
      ),
    )
    assert.equal(res.status, 200, await res.clone().text())
    assert.ok(((await res.json()) as { access_token?: string }).access_token)
  })

  it('the planted code still issues nothing without its verifier after the fuzzing', async () => {
    // the planted code itself: its verifier is unknown here, so a wrong one must fail cleanly
    const res = await auto.op.handler(
      tokenRequest(
        [
          ['grant_type', 'authorization_code'],
          ['code', planted.code],
          ['redirect_uri', WEB_REDIRECT],
          ['code_verifier', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'],
        ],
        basicHeader(CLIENTS.web.id, CLIENTS.web.secret),
      ),
    )
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error?: string }).error, 'invalid_grant')
  })
})

describe('the token endpoint around a real code', () => {
  let world: OpWorld
  before(async () => {
    world = await fuzzOp(true)
  })
  after(() => world.store.close())

  it('only the exactly-correct redemption succeeds, and only once', async () => {
    await fc.assert(
      fc.asyncProperty(mutationArb(), fc.boolean(), async ({ name, mutate }, race) => {
        const { code, verifier } = await realCode(world)
        const other = await realCode(world)
        const correct: Attempt = {
          fields: [
            ['grant_type', 'authorization_code'],
            ['code', code],
            ['redirect_uri', WEB_REDIRECT],
            ['code_verifier', verifier],
          ],
          authorization: correctAuth(),
          contentType: 'application/x-www-form-urlencoded',
          method: 'POST',
          advanceSeconds: 0,
        }
        const attempt = mutate(correct, other)
        const exact = sameAttempt(attempt, correct)
        if (race && attempt.advanceSeconds === 0) {
          // the same request twice at once: never two successes. (Today both fail even when it is
          // correct: the second sees a consumed code and revokes the grant, RFC 6749 §4.1.2.)
          const both = await Promise.all([send(world, attempt), send(world, attempt)])
          const ok = both.filter((r) => r.status === 200).length
          assert.ok(ok <= (exact ? 1 : 0), `${name}: ${ok} of two concurrent redemptions succeeded`)
          assert.ok(
            both.every((r) => r.status < 500),
            `${name}: ${both.map((r) => r.status)}`,
          )
          return
        }
        const first = await send(world, attempt)
        const firstBody = (await first.json()) as Record<string, unknown>
        assert.ok(first.status < 500, `${name}: ${first.status}`)
        if (exact) {
          assert.equal(first.status, 200, `${name}: ${JSON.stringify(firstBody)}`)
          assert.equal(typeof firstBody.access_token, 'string')
        } else {
          assert.ok(first.status >= 400, `${name} succeeded: ${first.status}`)
          assert.ok(!('access_token' in firstBody), `${name} issued a token`)
          assert.ok(ERRORS.has(firstBody.error as string), `${name}: ${String(firstBody.error)}`)
        }
        // a failed attempt spends nothing: the bindings are checked before the code is consumed,
        // so someone holding a stolen code cannot burn it; the exact request then works once
        if (!exact && name !== 'code expired') {
          const rightful = await send(world, { ...correct, advanceSeconds: 0 })
          assert.equal(rightful.status, 200, `${name}: a failed attempt spent the code`)
        }
        // a replay of the same request never succeeds again
        const replay = await send(world, { ...attempt, advanceSeconds: 0 })
        const replayBody = (await replay.json()) as Record<string, unknown>
        assert.ok(replay.status >= 400 && replay.status < 500, `${name} replay: ${replay.status}`)
        assert.ok(!('access_token' in replayBody), `${name}: replay issued a token`)
        // the other code was never touched by this request: it still redeems exactly once
        if (!['other code', 'other verifier', 'code expired'].includes(name)) {
          const fine = await send(world, {
            ...correct,
            fields: [
              ['grant_type', 'authorization_code'],
              ['code', other.code],
              ['redirect_uri', WEB_REDIRECT],
              ['code_verifier', other.verifier],
            ],
          })
          assert.equal(fine.status, 200, `${name}: an untouched code no longer redeems`)
        }
      }),
      { numRuns: Math.max(1, Math.ceil(NUM_RUNS / 2)) },
    )
  })
})

describe('the built-in login form around a real interaction', () => {
  let world: OpWorld
  before(async () => {
    world = await fuzzOp(false)
  })
  after(() => world.store.close())

  /** Posts a form of interaction `p.uid` to its `step` (`login`, `otp`). */
  const postTo = (step: string) => (p: LoginPost) =>
    world.op.handler(
      new Request(`${ISSUER}/interaction/${p.uid}/${step}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(p.cookie ? { cookie: p.cookie } : {}),
        },
        body: new URLSearchParams(p.fields).toString(),
      }),
    )
  const codeIn = (res: Response) => {
    const location = res.headers.get('location') ?? ''
    return location.startsWith(WEB_REDIRECT) && new URL(location).searchParams.has('code')
  }

  /**
   * One run of a form property: a mutation of the exact post of a fresh interaction yields a code
   * only when it is the exact post, never answers 5xx, never echoes the password, and its replay
   * yields nothing.
   */
  async function exactOnce(
    step: string,
    open: (w: OpWorld) => Promise<LoginPost>,
    { name, apply }: { name: string; apply: (p: LoginPost, o: LoginPost) => LoginPost },
  ): Promise<void> {
    const post = postTo(step)
    const real = await open(world)
    const other = await open(world)
    const sent = apply(real, other)
    const exact = JSON.stringify(sent) === JSON.stringify(real)
    const first = await post(sent)
    assert.ok(first.status < 500, `${name}: ${first.status}`)
    assert.equal(codeIn(first), exact, `${name}: code issued ${codeIn(first)} (${first.status})`)
    const body = await first.text()
    assert.ok(!body.includes(PASSWORD), `${name}: the page echoes the password`)
    const replay = await post(sent)
    assert.ok(
      replay.status < 500 && !codeIn(replay),
      `${name}: the replay answered ${replay.status}`,
    )
  }

  it('only the exact form (cookie, CSRF, username, password) yields a code, once', async () => {
    await fc.assert(
      fc.asyncProperty(loginMutationArb(), (mutation) =>
        exactOnce('login', openInteraction, mutation),
      ),
      // each run checks passwords with scrypt (tens of ms): a fifth of the runs
      { numRuns: Math.max(1, Math.ceil(NUM_RUNS / 5)) },
    )
  })

  it('only the exact second-factor post (cookie, CSRF, the current TOTP code) yields a code, once', async () => {
    await fc.assert(
      fc.asyncProperty(otpMutationArb(), (mutation) => {
        // A new TOTP step and a new attempt window for bob each run.
        world.now.value += 301_000
        return exactOnce('otp', openSecondFactor, mutation)
      }),
      { numRuns: Math.max(1, Math.ceil(NUM_RUNS / 5)) },
    )
  })
})

describe('DPoP proofs at the token endpoint', () => {
  let world: OpWorld
  let keys: {
    privateKey: CryptoKey
    publicJwk: Record<string, unknown>
    privateJwk: Record<string, unknown>
  }
  before(async () => {
    world = await fuzzOp(true)
    const pair = await generateKeyPair('ES256', { extractable: true })
    keys = {
      privateKey: pair.privateKey,
      publicJwk: { ...(await exportJWK(pair.publicKey)) },
      privateJwk: { ...(await exportJWK(pair.privateKey)) },
    }
  })
  after(() => world.store.close())

  /** A proof with fuzzed header and claims, signed with the ES256 key (or garbage). */
  /** Mostly the sound value, so about a quarter of the proofs are sound throughout. */
  const mostly = <T, U>(good: T, ...bad: U[]) =>
    fc.oneof({ weight: 6, arbitrary: fc.constant(good) }, fc.constantFrom(...bad))
  const proofArb = fc.record({
    typ: mostly('dpop+jwt', 'JWT', undefined),
    jwk: mostly('public', 'private', 'none', 'oct'),
    htm: mostly('POST', 'GET', 'post', undefined),
    htu: mostly(`${ISSUER}/token`, `${ISSUER}/token?x=1`, `${ISSUER}/userinfo`, 'nope', undefined),
    iatOffset: mostly(0, -30, 4, -61, -400, 30, Number.NaN),
    jti: fc.oneof(
      { weight: 6, arbitrary: fc.uuid() },
      fc.constantFrom('', undefined),
      fc.string({ maxLength: 300 }),
    ),
    nonce: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    crit: mostly(false, true),
    mangle: mostly('none', 'signature', 'two'),
  })

  type ProofShape = typeof proofArb extends fc.Arbitrary<infer T> ? T : never
  const build = async (p: ProofShape) => {
    const jwk =
      p.jwk === 'public'
        ? keys.publicJwk
        : p.jwk === 'private'
          ? keys.privateJwk
          : p.jwk === 'oct'
            ? { kty: 'oct', k: 'AAAA' }
            : undefined
    const claims: Record<string, unknown> = {
      htm: p.htm,
      htu: p.htu,
      iat: Math.floor(world.now.value / 1000) + p.iatOffset,
      jti: p.jti,
      nonce: p.nonce,
    }
    const header = { alg: 'ES256', typ: p.typ, jwk, ...(p.crit ? { crit: ['exp'], exp: 1 } : {}) }
    const signed = await new SignJWT(JSON.parse(JSON.stringify(claims)))
      .setProtectedHeader(JSON.parse(JSON.stringify(header)))
      .sign(keys.privateKey, p.crit ? { crit: { exp: true } } : undefined)
    if (p.mangle === 'signature') return `${signed.slice(0, -6)}AAAAAA`
    if (p.mangle === 'two') return `${signed}, ${signed}`
    return signed
  }

  it('never 5xx; a refused proof stores nothing and is not echoed; only a sound proof gets past it', async () => {
    let passed = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(proofArb, async (p) => {
        const dpop = await build(p)
        const sizeBefore = world.store.size()
        const response = await world.op.handler(
          new Request(`${ISSUER}/token`, {
            method: 'POST',
            headers: {
              authorization: basicHeader(CLIENTS.web.id, CLIENTS.web.secret),
              'content-type': 'application/x-www-form-urlencoded',
              dpop,
            },
            body: 'grant_type=authorization_code&code=not-a-code&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier=x',
          }),
        )
        const text = await response.text()
        assert.equal(response.status, 400, text)
        const { error } = JSON.parse(text) as { error: string }
        const sound =
          p.typ === 'dpop+jwt' &&
          p.jwk === 'public' &&
          p.htm === 'POST' &&
          (p.htu === `${ISSUER}/token` || p.htu === `${ISSUER}/token?x=1`) &&
          [0, -30, 4].includes(p.iatOffset) &&
          typeof p.jti === 'string' &&
          p.jti.length > 0 &&
          p.jti.length <= 256 &&
          !p.crit &&
          p.mangle === 'none'
        if (error === 'invalid_dpop_proof') {
          refused++
          assert.equal(world.store.size(), sizeBefore, 'a refused proof was remembered')
        } else {
          passed++
          // Past the proof, the bogus code fails; the proof's jti is now remembered (once).
          assert.equal(error, 'invalid_grant')
          assert.ok(sound, `an unsound proof passed: ${JSON.stringify(p)}`)
        }
        assert.ok(!text.includes(dpop.slice(0, 40)), 'the proof is echoed')
      }),
      { numRuns: NUM_RUNS },
    )
    // Both sides of the property were exercised (with FUZZ_RUNS ≥ 20).
    if (NUM_RUNS >= 20) assert.ok(passed > 0 && refused > 0, `${passed} passed, ${refused} refused`)
  })
})
