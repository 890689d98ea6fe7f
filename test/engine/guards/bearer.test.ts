// The bearer guard against tokens we sign ourselves with jose: every check of RFC 9068 §4 and
// RFC 6750 §3 as a table (status, exact challenge, JSON error, no token in the body), the
// shared-secret mode, key outages (503) and configuration mistakes.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { generateKeyPair } from 'jose'
import { type BearerOptions, bearer } from '../../../src/index.ts'
import { code } from '../../helpers/assert-code.ts'
import {
  AUD,
  assertRefusal,
  clock,
  goodClaims,
  ISS,
  JWKS_URI,
  type LocalIssuer,
  localIssuer,
  NOW,
  principal,
  request,
  sign,
  unsecured,
  withBearer,
} from './helpers.ts'

const INVALID = 'Bearer realm="api", error="invalid_token"'
const MISSING = 'Bearer realm="api"'
const INSUFFICIENT = 'Bearer realm="api", error="insufficient_scope", scope="orders:read"'

let issuer: LocalIssuer
before(async () => {
  issuer = await localIssuer()
})

const jwksGuard = (extra: Partial<BearerOptions> = {}) =>
  bearer({
    jwksUri: JWKS_URI,
    issuer: ISS,
    audience: AUD,
    scopes: ['orders:read'],
    realm: 'api',
    fetch: issuer.fetch,
    clock,
    ...extra,
  } as BearerOptions)

describe('bearer guard: valid tokens', () => {
  const rows: {
    name: string
    claims?: Record<string, unknown>
    header?: Record<string, string | undefined>
    options?: Partial<BearerOptions>
    scopes: string[]
  }[] = [
    { name: 'an RFC 9068 access token', scopes: ['orders:read', 'profile'] },
    {
      name: 'typ application/at+jwt',
      header: { typ: 'application/at+jwt' },
      scopes: ['orders:read', 'profile'],
    },
    {
      name: 'aud an array that contains the audience',
      claims: { aud: ['https://other.example', AUD] },
      scopes: ['orders:read', 'profile'],
    },
    {
      name: 'one of several accepted audiences',
      claims: { aud: 'https://second.example' },
      options: { audience: [AUD, 'https://second.example'] },
      scopes: ['orders:read', 'profile'],
    },
    {
      name: 'scopes in an scp array',
      claims: { scope: undefined, scp: ['orders:read', 'x'] },
      scopes: ['orders:read', 'x'],
    },
    {
      name: 'scopes in an scp string',
      claims: { scope: undefined, scp: 'x orders:read' },
      scopes: ['x', 'orders:read'],
    },
    {
      name: 'expired 10 s ago, within the 30 s leeway',
      claims: { exp: NOW - 10 },
      scopes: ['orders:read', 'profile'],
    },
    {
      name: 'nbf 10 s ahead, within the leeway',
      claims: { nbf: NOW + 10 },
      scopes: ['orders:read', 'profile'],
    },
    {
      name: 'typ JWT with typ: any-unsafe',
      header: { typ: 'JWT' },
      options: { typ: 'any-unsafe' },
      scopes: ['orders:read', 'profile'],
    },
    {
      name: 'no client_id, no required scope',
      claims: { client_id: undefined, scope: undefined },
      options: { scopes: [] },
      scopes: [],
    },
    {
      name: 'lowercase scheme and several spaces',
      scopes: ['orders:read', 'profile'],
    },
  ]
  for (const row of rows) {
    it(`accepts ${row.name}`, async () => {
      const claims = { ...goodClaims(), ...row.claims }
      const token = await sign(issuer.key, claims, row.header)
      const req =
        row.name === 'lowercase scheme and several spaces'
          ? request({ authorization: `bearer   ${token}` })
          : withBearer(token)
      const who = principal(await jwksGuard(row.options)(req))
      assert.equal(who.subject, 'user-1')
      assert.equal(who.clientId, claims.client_id)
      assert.equal('clientId' in who, claims.client_id !== undefined)
      assert.deepEqual(who.scopes, row.scopes)
      assert.equal(who.claims.jti, 'jti-1')
    })
  }
})

describe('bearer guard: refused tokens', () => {
  type Row = {
    name: string
    token: () => Promise<string>
    /** What the logger is told. */
    reason: RegExp
    status?: number
    challenge?: string
    error?: string
    options?: Partial<BearerOptions>
  }
  const withClaims = (
    claims: Record<string, unknown>,
    header?: Record<string, string | undefined>,
  ) => sign(issuer.key, { ...goodClaims(), ...claims }, header)
  const rows: Row[] = [
    {
      name: 'expired',
      reason: /"exp" claim timestamp check failed/,
      token: () => withClaims({ exp: NOW - 31 }),
    },
    {
      name: 'without exp',
      reason: /missing required "exp"/,
      token: () => withClaims({ exp: undefined }),
    },
    {
      name: 'for another audience',
      reason: /unexpected "aud"/,
      token: () => withClaims({ aud: 'https://other.example' }),
    },
    {
      name: 'without aud',
      reason: /missing required "aud"/,
      token: () => withClaims({ aud: undefined }),
    },
    {
      name: 'from another issuer',
      reason: /unexpected "iss"/,
      token: () => withClaims({ iss: 'https://evil.example' }),
    },
    {
      name: 'with an issuer differing by a slash',
      reason: /unexpected "iss"/,
      token: () => withClaims({ iss: `${ISS}/` }),
    },
    {
      name: 'with alg none, crafted by hand',
      reason: /"alg" .* not allowed/,
      token: async () => unsecured(goodClaims()),
    },
    {
      name: 'HS256 over the public key material (alg confusion)',
      reason: /"alg" .* not allowed/,
      token: () =>
        sign(new TextEncoder().encode(JSON.stringify(issuer.jwks.keys[0])), goodClaims(), {
          alg: 'HS256',
        }),
    },
    {
      name: 'signed by a foreign key with the same kid',
      reason: /signature verification failed/,
      token: async () => sign((await generateKeyPair('ES256')).privateKey, goodClaims()),
    },
    {
      name: 'signed by a key of unknown kid',
      reason: /no applicable key/,
      token: async () =>
        sign((await generateKeyPair('ES256')).privateKey, goodClaims(), { kid: 'k2' }),
    },
    {
      name: 'typed JWT (an ID token, say)',
      reason: /"typ"/,
      token: () => withClaims({}, { typ: 'JWT' }),
    },
    { name: 'without typ', reason: /"typ"/, token: () => withClaims({}, { typ: undefined }) },
    {
      name: 'without sub',
      reason: /missing required "sub"/,
      token: () => withClaims({ sub: undefined }),
    },
    {
      name: 'with an empty sub',
      reason: /"sub" claim must be a non-empty string/,
      token: () => withClaims({ sub: '' }),
    },
    {
      name: 'with nbf in the future',
      reason: /"nbf" claim timestamp check failed/,
      token: () => withClaims({ nbf: NOW + 120 }),
    },
    {
      name: 'with iat in the future',
      reason: /"iat" claim is in the future/,
      token: () => withClaims({ iat: NOW + 120 }),
    },
    {
      name: 'with a non-string client_id',
      reason: /"client_id" claim/,
      token: () => withClaims({ client_id: 42 }),
    },
    {
      name: 'with a non-string scope',
      reason: /"scope" claim must be a string/,
      token: () => withClaims({ scope: ['orders:read'] }),
    },
    {
      name: 'with a non-string scp',
      reason: /"scp" claim/,
      token: () => withClaims({ scope: undefined, scp: [1] }),
    },
    {
      name: 'with a tampered payload',
      reason: /signature verification failed/,
      token: async () => {
        const [h, , s] = (await withClaims({})).split('.')
        const forged = Buffer.from(JSON.stringify({ ...goodClaims(), sub: 'admin' }))
        return `${h}.${forged.toString('base64url')}.${s}`
      },
    },
    {
      name: 'that is not a JWT',
      reason: /Invalid Compact JWS/,
      token: async () => 'opaque-token-value-0123456789',
    },
    {
      name: 'over 8 KiB',
      reason: /longer than 8192/,
      token: () => withClaims({ pad: 'x'.repeat(9000) }),
    },
    {
      name: 'lacking the required scope',
      reason: /lacks a required scope/,
      token: () => withClaims({ scope: 'profile orders:write' }),
      status: 403,
      challenge: INSUFFICIENT,
      error: 'insufficient_scope',
    },
    {
      name: 'with the scope only in scp when scope is present',
      reason: /lacks a required scope/,
      token: () => withClaims({ scope: 'profile', scp: ['orders:read'] }),
      status: 403,
      challenge: INSUFFICIENT,
      error: 'insufficient_scope',
    },
    {
      name: 'lacking one of two required scopes',
      reason: /lacks a required scope/,
      token: () => withClaims({}),
      options: { scopes: ['orders:read', 'orders:write'] },
      status: 403,
      challenge: 'Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"',
      error: 'insufficient_scope',
    },
  ]
  for (const row of rows) {
    it(`refuses a token ${row.name}: ${row.status ?? 401}`, async () => {
      const token = await row.token()
      const warnings: string[] = []
      const guard = jwksGuard({ ...row.options, logger: { warn: (m) => warnings.push(m) } })
      const result = await guard(withBearer(token))
      assert.equal(warnings.length, 1)
      assert.match(warnings[0] ?? '', row.reason)
      const body = await assertRefusal(result, {
        status: row.status ?? 401,
        challenge: row.challenge ?? INVALID,
        error: row.error ?? 'invalid_token',
        secret: token,
      })
      if (row.name === 'expired') {
        assert.equal(body.error_description, 'the access token has expired')
      }
    })
  }

  it('an alg none token never causes a JWKS fetch', async () => {
    const fresh = await localIssuer()
    const guard = bearer({ jwksUri: JWKS_URI, issuer: ISS, audience: AUD, fetch: fresh.fetch })
    for (const token of [unsecured(goodClaims()), 'a.b.c', 'not-a-jwt']) {
      const result = await guard(withBearer(token))
      assert.equal(result.ok ? 200 : result.response.status, 401)
    }
    assert.equal(fresh.calls(), 0)
  })
})

describe('bearer guard: the Authorization header', () => {
  const bare = { status: 401, challenge: MISSING, error: 'unauthorized' }
  const invalid = { status: 401, challenge: INVALID, error: 'invalid_token' }
  const rows: {
    name: string
    headers: Record<string, string>
    url?: string
    expected: { status: number; challenge: string; error: string }
  }[] = [
    { name: 'no Authorization header', headers: {}, expected: bare },
    { name: 'another scheme', headers: { authorization: 'Basic dXNlcjpwYXNz' }, expected: bare },
    {
      name: 'a scheme that only starts with Bearer',
      headers: { authorization: 'Bearerx' },
      expected: bare,
    },
    { name: 'the scheme alone', headers: { authorization: 'Bearer' }, expected: invalid },
    { name: 'two tokens', headers: { authorization: 'Bearer abc def' }, expected: invalid },
    {
      name: 'a comma-joined pair',
      headers: { authorization: 'Bearer abc, Bearer def' },
      expected: invalid,
    },
    {
      name: 'characters outside b64token',
      headers: { authorization: 'Bearer a"b' },
      expected: invalid,
    },
    {
      name: 'a token in the query string',
      headers: {},
      url: `${AUD}/orders?access_token=secret-in-url`,
      expected: {
        status: 400,
        challenge: 'Bearer realm="api", error="invalid_request"',
        error: 'invalid_request',
      },
    },
  ]
  for (const row of rows) {
    it(`${row.name} → ${row.expected.status} ${row.expected.error}`, async () => {
      const result = await jwksGuard()(request(row.headers, row.url))
      await assertRefusal(result, { ...row.expected, secret: 'secret-in-url' })
    })
  }

  it('refuses a URL token even next to a valid header token', async () => {
    const token = await sign(issuer.key, goodClaims())
    const result = await jwksGuard()(withBearer(token, `${AUD}/x?access_token=${token}`))
    await assertRefusal(result, {
      status: 400,
      challenge: 'Bearer realm="api", error="invalid_request"',
      error: 'invalid_request',
      secret: token,
    })
  })

  it('uses realm "authkestra" by default', async () => {
    const guard = bearer({ jwksUri: JWKS_URI, issuer: ISS, audience: AUD, fetch: issuer.fetch })
    await assertRefusal(await guard(request()), {
      status: 401,
      challenge: 'Bearer realm="authkestra"',
      error: 'unauthorized',
    })
  })
})

describe('bearer guard: shared secret (HS256)', () => {
  const SECRET = 'shared-secret-for-hs256-tokens-0123456789'
  const OLD = new TextEncoder().encode('an-older-shared-secret-still-valid-0123')
  const secretGuard = (extra: Partial<BearerOptions> = {}) =>
    bearer({
      secret: SECRET,
      issuer: ISS,
      audience: AUD,
      realm: 'api',
      clock,
      ...extra,
    } as BearerOptions)
  const enc = (s: string) => new TextEncoder().encode(s)

  it('accepts a token signed with the secret', async () => {
    const token = await sign(enc(SECRET), goodClaims(), { alg: 'HS256', kid: undefined })
    assert.equal(principal(await secretGuard()(withBearer(token))).subject, 'user-1')
  })

  it('accepts tokens of every secret of a rotation list', async () => {
    const guard = secretGuard({ secret: [SECRET, OLD] })
    for (const key of [enc(SECRET), OLD]) {
      const token = await sign(key, goodClaims(), { alg: 'HS256' })
      assert.equal(principal(await guard(withBearer(token))).clientId, 'client-1')
    }
  })

  const refused: {
    name: string
    token: () => Promise<string>
    options?: Partial<BearerOptions>
  }[] = [
    {
      name: 'signed with a wrong secret',
      token: () =>
        sign(enc('a-wrong-secret-of-enough-length-0123456'), goodClaims(), { alg: 'HS256' }),
    },
    {
      name: 'HS384 when only HS256 is allowed',
      token: () => sign(enc(SECRET), goodClaims(), { alg: 'HS384' }),
    },
    {
      name: 'ES256 (an asymmetric token)',
      token: () => sign(issuer.key, goodClaims()),
    },
    { name: 'with alg none', token: async () => unsecured(goodClaims()) },
    {
      name: 'expired',
      token: () => sign(enc(SECRET), { ...goodClaims(), exp: NOW - 100 }, { alg: 'HS256' }),
    },
    {
      name: 'typed JWT',
      token: () => sign(enc(SECRET), goodClaims(), { alg: 'HS256', typ: 'JWT' }),
    },
  ]
  for (const row of refused) {
    it(`refuses a token ${row.name}`, async () => {
      const token = await row.token()
      await assertRefusal(await secretGuard(row.options)(withBearer(token)), {
        status: 401,
        challenge: INVALID,
        error: 'invalid_token',
        secret: token,
      })
    })
  }

  it('accepts HS512 when allowed', async () => {
    const token = await sign(enc(SECRET), goodClaims(), { alg: 'HS512' })
    const guard = secretGuard({ algorithms: ['HS256', 'HS512'] })
    assert.equal(principal(await guard(withBearer(token))).subject, 'user-1')
  })
})

describe('bearer guard: keys unavailable → 503', () => {
  const outages: { name: string; fetch: typeof fetch; timeoutMs?: number }[] = [
    {
      name: 'the JWKS endpoint cannot be reached',
      fetch: (async () => {
        throw new TypeError('fetch failed')
      }) as typeof fetch,
    },
    {
      name: 'the JWKS endpoint answers 500',
      fetch: (async () => new Response('boom', { status: 500 })) as typeof fetch,
    },
    {
      name: 'the JWKS endpoint answers a redirect',
      fetch: (async () =>
        new Response(null, {
          status: 302,
          headers: { location: 'https://x.example' },
        })) as typeof fetch,
    },
    {
      name: 'the JWKS is not JSON',
      fetch: (async () => new Response('<html>', { status: 200 })) as typeof fetch,
    },
    {
      name: 'the JWKS is not a key set',
      fetch: (async () => Response.json({ keys: 'nope' })) as typeof fetch,
    },
    {
      name: 'the JWKS is too large',
      fetch: (async () => Response.json({ keys: [], pad: 'x'.repeat(2_000_000) })) as typeof fetch,
    },
    {
      name: 'the JWKS endpoint does not answer in time',
      timeoutMs: 50,
      fetch: ((_url: string, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () =>
            reject(new DOMException('aborted', 'AbortError')),
          )
        })) as typeof fetch,
    },
  ]
  for (const row of outages) {
    it(`${row.name}`, async () => {
      const warnings: string[] = []
      const guard = bearer({
        jwksUri: JWKS_URI,
        issuer: ISS,
        audience: AUD,
        fetch: row.fetch,
        clock,
        logger: { warn: (m) => warnings.push(m) },
        ...(row.timeoutMs === undefined ? {} : { timeoutMs: row.timeoutMs }),
      })
      const token = await sign(issuer.key, goodClaims())
      const result = await guard(withBearer(token))
      await assertRefusal(result, {
        status: 503,
        challenge: null,
        error: 'temporarily_unavailable',
        secret: token,
      })
      assert.equal(warnings.length, 1)
      assert.match(warnings[0] ?? '', /^bearer: verification keys unavailable: /)
      assert.ok(!warnings.some((w) => w.includes(token)))
    })
  }

  it('a discovery document that cannot be read is an outage too', async () => {
    const guard = bearer({
      issuer: ISS,
      audience: AUD,
      fetch: (async () => new Response('down', { status: 502 })) as typeof fetch,
      clock,
    })
    const token = await sign(issuer.key, goodClaims())
    await assertRefusal(await guard(withBearer(token)), {
      status: 503,
      challenge: null,
      error: 'temporarily_unavailable',
      secret: token,
    })
  })
})

describe('bearer guard: logging', () => {
  it('tells the logger why, without the token', async () => {
    const warnings: string[] = []
    const guard = jwksGuard({ logger: { warn: (m) => warnings.push(m) } })
    const token = await sign(issuer.key, { ...goodClaims(), aud: 'https://other.example' })
    await guard(withBearer(token))
    assert.deepEqual(warnings, ['bearer: access token refused: unexpected "aud" claim value'])
  })

  it('with a debug method, a line per request: no token, or one accepted (never the token)', async () => {
    const lines: string[] = []
    const guard = jwksGuard({
      logger: { debug: (m) => lines.push(`debug ${m}`), warn: (m) => lines.push(`warn ${m}`) },
    })
    const token = await sign(issuer.key, { ...goodClaims(), scope: 'orders:read write' })
    assert.equal((await guard(withBearer(token))).ok, true)
    assert.equal((await guard(new Request('https://api.example/x'))).ok, false)
    assert.deepEqual(lines, [
      'debug bearer: access token accepted (scopes: orders:read write)',
      'debug bearer: no access token',
    ])
    assert.ok(!lines.join('').includes(token.split('.')[2] ?? '-'))
  })
})

describe('bearer guard: configuration', () => {
  const base = { issuer: ISS, audience: AUD, jwksUri: JWKS_URI }
  const rows: { name: string; options: unknown; code?: 'config_invalid' | 'insecure_url' }[] = [
    { name: 'no issuer', options: { audience: AUD, jwksUri: JWKS_URI } },
    { name: 'an empty issuer', options: { ...base, issuer: '' } },
    { name: 'no audience', options: { issuer: ISS, jwksUri: JWKS_URI } },
    { name: 'an empty audience list', options: { ...base, audience: [] } },
    { name: 'a short secret', options: { issuer: ISS, audience: AUD, secret: 'short' } },
    {
      name: 'a 31-byte secret',
      options: { issuer: ISS, audience: AUD, secret: new Uint8Array(31) },
    },
    {
      name: 'a short secret in a rotation list',
      options: { issuer: ISS, audience: AUD, secret: ['x'.repeat(32), 'short'] },
    },
    { name: 'both secret and jwksUri', options: { ...base, secret: 'x'.repeat(32) } },
    { name: 'alg none', options: { ...base, algorithms: ['none'] } },
    { name: 'HS256 in JWKS mode', options: { ...base, algorithms: ['HS256'] } },
    {
      name: 'RS256 in secret mode',
      options: { issuer: ISS, audience: AUD, secret: 'x'.repeat(32), algorithms: ['RS256'] },
    },
    { name: 'an empty algorithm list', options: { ...base, algorithms: [] } },
    { name: 'an unknown typ', options: { ...base, typ: 'JWT' } },
    { name: 'a malformed scope', options: { ...base, scopes: ['a b'] } },
    { name: 'a realm with a quote', options: { ...base, realm: 'a"b' } },
    { name: 'a negative leeway', options: { ...base, clockToleranceSeconds: -1 } },
    { name: 'a leeway over 300 s', options: { ...base, clockToleranceSeconds: 301 } },
    { name: 'a relative jwksUri', options: { ...base, jwksUri: '/jwks' } },
    { name: 'a zero timeout', options: { ...base, timeoutMs: 0 } },
    {
      name: 'an issuer that is not a URL in discovery mode',
      options: { issuer: 'billing', audience: AUD },
    },
    {
      name: 'a plain-http jwksUri off loopback',
      options: { ...base, jwksUri: 'http://issuer.example/jwks' },
      code: 'insecure_url',
    },
    {
      name: 'a plain-http issuer off loopback in discovery mode',
      options: { issuer: 'http://issuer.example', audience: AUD },
      code: 'insecure_url',
    },
  ]
  for (const row of rows) {
    it(`throws ${row.code ?? 'config_invalid'} for ${row.name}`, () => {
      assert.throws(() => bearer(row.options as BearerOptions), code(row.code ?? 'config_invalid'))
    })
  }

  it('accepts plain http off loopback with allowInsecureHttp', () => {
    assert.equal(
      typeof bearer({ ...base, jwksUri: 'http://issuer.example/jwks', allowInsecureHttp: true }),
      'function',
    )
  })
})
