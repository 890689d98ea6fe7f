import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose'
import { introspectionEndpoint as introspectionEndpointOp } from '../../src/op/endpoints/introspection.ts'
import { revocationEndpoint as revocationEndpointOp } from '../../src/op/endpoints/revocation.ts'
import { tokenEndpoint as tokenEndpointOp } from '../../src/op/endpoints/token/index.ts'
import { userinfoEndpoint as userinfoEndpointOp } from '../../src/op/endpoints/userinfo.ts'
import {
  ALICE,
  assertNoLeak,
  basicHeader,
  CLIENT_SECRETS,
  CLIENTS,
  type ClientName,
  type CodeOptions,
  createFixture,
  type FormOptions,
  formRequest,
  ISSUER,
  type OpFixture,
  REDIRECT,
  START,
  storeCode,
} from './helpers/op-fixture.ts'
import { web } from './helpers/web-endpoint.ts'

const introspectionEndpoint = web(introspectionEndpointOp)
const revocationEndpoint = web(revocationEndpointOp)
const tokenEndpoint = web(tokenEndpointOp)
const userinfoEndpoint = web(userinfoEndpointOp)

const fixtures: OpFixture[] = []
after(() => {
  for (const fx of fixtures) fx.close()
})
async function fixture(): Promise<OpFixture> {
  const fx = await createFixture()
  fixtures.push(fx)
  return fx
}

type Body = Record<string, unknown>
const str = (v: unknown): string => {
  assert.equal(typeof v, 'string')
  return v as string
}

async function read(response: Response) {
  const text = await response.text()
  return { response, text, body: (text ? JSON.parse(text) : {}) as Body }
}

/** Tokens from a real code exchange. */
async function tokens(fx: OpFixture, client: ClientName = 'basic', options: CodeOptions = {}) {
  const c = await storeCode(fx, { client, ...options })
  const fields = {
    grant_type: 'authorization_code',
    code: c.code,
    redirect_uri: REDIRECT,
    code_verifier: c.verifier,
  }
  const { body } = await read(
    await tokenEndpoint(
      formRequest(fx.runtime.settings.urls.token, fields, { client }),
      fx.runtime,
    ),
  )
  return { at: str(body.access_token), rt: body.refresh_token as string | undefined, code: c }
}

async function serviceToken(fx: OpFixture): Promise<string> {
  const request = formRequest(
    fx.runtime.settings.urls.token,
    { grant_type: 'client_credentials' },
    { client: 'service' },
  )
  return str((await read(await tokenEndpoint(request, fx.runtime))).body.access_token)
}

async function refreshWith(fx: OpFixture, rt: string, client: ClientName = 'basic') {
  const fields = { grant_type: 'refresh_token', refresh_token: rt }
  const request = formRequest(fx.runtime.settings.urls.token, fields, { client })
  return read(await tokenEndpoint(request, fx.runtime))
}

const userinfo = async (fx: OpFixture, init: RequestInit = {}, query = '') =>
  read(
    await userinfoEndpoint(
      new Request(`${fx.runtime.settings.urls.userinfo}${query}`, init),
      fx.runtime,
    ),
  )
const bearer = (at: string): RequestInit => ({ headers: { authorization: `Bearer ${at}` } })

const revoke = async (fx: OpFixture, fields: Record<string, string>, options: FormOptions) =>
  read(
    await revocationEndpoint(
      formRequest(fx.runtime.settings.urls.revocation, fields, options),
      fx.runtime,
    ),
  )

const introspect = async (fx: OpFixture, fields: Record<string, string>, options: FormOptions) =>
  read(
    await introspectionEndpoint(
      formRequest(fx.runtime.settings.urls.introspection, fields, options),
      fx.runtime,
    ),
  )

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('userinfo', () => {
  it('returns sub and the claims of the granted scopes, no-store', async () => {
    const fx = await fixture()
    const { at } = await tokens(fx)
    const { response, body } = await userinfo(fx, bearer(at))
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(body, {
      sub: ALICE,
      name: 'Alice Liddell',
      preferred_username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
    })
    const narrow = await tokens(fx, 'basic', { scopes: ['openid', 'email'] })
    assert.deepEqual((await userinfo(fx, bearer(narrow.at))).body, {
      sub: ALICE,
      email: 'alice@example.com',
      email_verified: true,
    })
  })

  it('accepts a lowercase scheme, a form body token, and POST with the header', async () => {
    const fx = await fixture()
    const { at } = await tokens(fx)
    const lower = await userinfo(fx, { headers: { authorization: `bearer ${at}` } })
    assert.equal(lower.response.status, 200)
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const inBody = await userinfo(fx, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ access_token: at }).toString(),
    })
    assert.equal(inBody.response.status, 200)
    assert.equal(inBody.body.sub, ALICE)
    const post = await userinfo(fx, { method: 'POST', headers: { authorization: `Bearer ${at}` } })
    assert.equal(post.response.status, 200)
  })

  it('answers a request without a token with a bare challenge per scheme (RFC 6750 §3.1, RFC 9449 §7.1)', async () => {
    const fx = await fixture()
    for (const init of [{}, { headers: { authorization: basicHeader('a', 'b') } }]) {
      const { response, text } = await userinfo(fx, init)
      assert.equal(response.status, 401)
      assert.equal(
        response.headers.get('www-authenticate'),
        `Bearer realm="${ISSUER}", DPoP realm="${ISSUER}", algs="ES256 PS256 EdDSA RS256 ES384"`,
      )
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(text, '')
    }
  })

  type Case = [
    name: string,
    make: (fx: OpFixture, at: string) => Promise<RequestInit> | RequestInit,
  ]
  const invalid: Case[] = [
    ['garbage token', () => bearer('not-a-jwt')],
    ['malformed bearer value', (_fx, at) => bearer(`${at} extra`)],
    ['empty bearer', () => ({ headers: { authorization: 'Bearer' } })],
    [
      'tampered payload',
      (_fx, at) => {
        const [h, , s] = at.split('.')
        return bearer(`${h}.${b64url({ ...decodeJwt(at), scope: 'openid admin' })}.${s}`)
      },
    ],
    [
      'alg none',
      (_fx, at) => {
        const header = { ...decodeProtectedHeader(at), alg: 'none' }
        return bearer(`${b64url(header)}.${b64url(decodeJwt(at))}.`)
      },
    ],
    [
      'foreign key with the OP kid',
      async (_fx, at) => {
        const { privateKey } = await generateKeyPair('ES256')
        const forged = await new SignJWT(decodeJwt(at))
          .setProtectedHeader({
            alg: 'ES256',
            typ: 'at+jwt',
            kid: decodeProtectedHeader(at).kid ?? '',
          })
          .sign(privateKey)
        return bearer(forged)
      },
    ],
    [
      'foreign key with its own kid',
      async (_fx, at) => {
        const { privateKey } = await generateKeyPair('ES256')
        const forged = await new SignJWT(decodeJwt(at))
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker' })
          .sign(privateKey)
        return bearer(forged)
      },
    ],
    [
      'expired token',
      (fx, at) => {
        fx.clock.advance(610)
        return bearer(at)
      },
    ],
    [
      'ID token instead of access token',
      async (fx) => {
        const c = await storeCode(fx)
        const fields = {
          grant_type: 'authorization_code',
          code: c.code,
          redirect_uri: REDIRECT,
          code_verifier: c.verifier,
        }
        const res = await tokenEndpoint(
          formRequest(fx.runtime.settings.urls.token, fields, { client: 'basic' }),
          fx.runtime,
        )
        return bearer(str(((await res.json()) as Body).id_token))
      },
    ],
    [
      'account deleted',
      async (fx, at) => {
        await fx.store.delete('account', ALICE)
        return bearer(at)
      },
    ],
  ]
  for (const [name, make] of invalid) {
    it(`${name} → 401 invalid_token`, async () => {
      const fx = await fixture()
      const { at } = await tokens(fx)
      const init = await make(fx, at)
      const { response, body, text } = await userinfo(fx, init)
      assert.equal(response.status, 401)
      assert.equal(body.error, 'invalid_token')
      assert.equal(
        response.headers.get('www-authenticate'),
        `Bearer realm="${ISSUER}", error="invalid_token"`,
      )
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(body.sub, undefined)
      assertNoLeak(text, [at])
    })
  }

  it('refuses a token without openid with 403 insufficient_scope', async () => {
    const fx = await fixture()
    for (const at of [
      await serviceToken(fx),
      (await tokens(fx, 'basic', { scopes: ['profile'] })).at,
    ]) {
      const { response, body } = await userinfo(fx, bearer(at))
      assert.equal(response.status, 403)
      assert.equal(body.error, 'insufficient_scope')
      assert.equal(
        response.headers.get('www-authenticate'),
        `Bearer realm="${ISSUER}", error="insufficient_scope", scope="openid"`,
      )
    }
  })

  it('refuses two token methods, a query token, other methods and oversized bodies', async () => {
    const fx = await fixture()
    const { at } = await tokens(fx)
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const cases: [RequestInit, string, number, string][] = [
      [
        {
          method: 'POST',
          headers: { ...form, authorization: `Bearer ${at}` },
          body: `access_token=${at}`,
        },
        '',
        400,
        'invalid_request',
      ],
      [{}, `?access_token=${at}`, 400, 'invalid_request'],
      [bearer(at), `?access_token=${at}`, 400, 'invalid_request'],
      [{ method: 'PUT', ...bearer(at) }, '', 405, 'invalid_request'],
      [
        { method: 'POST', headers: form, body: `access_token=${at}&access_token=${at}` },
        '',
        400,
        'invalid_request',
      ],
      [
        { method: 'POST', headers: form, body: `access_token=${at}&pad=${'x'.repeat(17_000)}` },
        '',
        413,
        'invalid_request',
      ],
    ]
    for (const [init, query, status, error] of cases) {
      const { response, body, text } = await userinfo(fx, init, query)
      assert.equal(response.status, status)
      assert.equal(body.error, error)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(body.sub, undefined)
      assertNoLeak(text, [at])
      if (status === 405) assert.equal(response.headers.get('allow'), 'GET, POST')
      if (status === 400) {
        assert.equal(
          response.headers.get('www-authenticate'),
          `Bearer realm="${ISSUER}", error="invalid_request"`,
        )
      }
    }
  })
})

describe('revocation', () => {
  it('revokes a refresh token with its whole grant (access tokens too)', async () => {
    const fx = await fixture()
    const { at, rt } = await tokens(fx)
    const { response, text } = await revoke(
      fx,
      { token: str(rt), token_type_hint: 'refresh_token' },
      { client: 'basic' },
    )
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(text, '')
    assert.equal((await refreshWith(fx, str(rt))).body.error, 'invalid_grant')
    assert.equal((await userinfo(fx, bearer(at))).response.status, 401)
  })

  it('revokes an access token alone; the refresh token keeps working', async () => {
    const fx = await fixture()
    const { at, rt } = await tokens(fx)
    const { response } = await revoke(
      fx,
      { token: at, token_type_hint: 'access_token' },
      { client: 'basic' },
    )
    assert.equal(response.status, 200)
    assert.equal((await userinfo(fx, bearer(at))).response.status, 401)
    const refreshed = await refreshWith(fx, str(rt))
    assert.equal(refreshed.response.status, 200)
    assert.equal(
      (await userinfo(fx, bearer(str(refreshed.body.access_token)))).response.status,
      200,
    )
  })

  it('searches both kinds whatever the hint, and ignores unknown hints', async () => {
    const fx = await fixture()
    for (const hint of ['access_token', 'something_else']) {
      const { rt } = await tokens(fx)
      await revoke(fx, { token: str(rt), token_type_hint: hint }, { client: 'basic' })
      assert.equal((await refreshWith(fx, str(rt))).body.error, 'invalid_grant')
    }
    const { at } = await tokens(fx)
    await revoke(fx, { token: at, token_type_hint: 'refresh_token' }, { client: 'basic' })
    assert.equal((await userinfo(fx, bearer(at))).response.status, 401)
  })

  it('lets a public client revoke its own refresh token', async () => {
    const fx = await fixture()
    const { rt } = await tokens(fx, 'public')
    const { response } = await revoke(fx, { token: str(rt) }, { client: 'public' })
    assert.equal(response.status, 200)
    assert.equal((await refreshWith(fx, str(rt), 'public')).body.error, 'invalid_grant')
  })

  it('answers 200 for unknown, invalid and expired tokens without persisting anything', async () => {
    const fx = await fixture()
    const { at } = await tokens(fx)
    fx.clock.advance(610)
    const before = fx.store.size()
    for (const token of ['A'.repeat(43), 'not.a.jwt', at]) {
      const { response, text } = await revoke(fx, { token }, { client: 'basic' })
      assert.equal(response.status, 200)
      assert.equal(text, '')
    }
    assert.ok(fx.store.size() <= before)
  })

  it("refuses to revoke another client's token; it stays valid", async () => {
    const fx = await fixture()
    const { at, rt } = await tokens(fx)
    for (const token of [str(rt), at]) {
      const { response, body, text } = await revoke(fx, { token }, { client: 'post' })
      assert.equal(response.status, 400)
      assert.equal(body.error, 'unauthorized_client')
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assertNoLeak(text, [token, ...CLIENT_SECRETS])
    }
    assert.equal((await userinfo(fx, bearer(at))).response.status, 200)
    assert.equal((await refreshWith(fx, str(rt))).response.status, 200)
  })

  it('refuses bad requests with the exact error', async () => {
    const fx = await fixture()
    const { rt } = await tokens(fx)
    const token = str(rt)
    const wrongBasic = { headers: { authorization: basicHeader(CLIENTS.basic.id, 'nope') } }
    const cases: [Record<string, string>, FormOptions, number, string][] = [
      [{}, { client: 'basic' }, 400, 'invalid_request'],
      [{ token }, wrongBasic, 401, 'invalid_client'],
      [{ token }, {}, 401, 'invalid_client'],
      [{ token }, { client: 'basic', method: 'PUT' }, 405, 'invalid_request'],
      [
        { token },
        { client: 'basic', headers: { 'content-type': 'application/json' } },
        400,
        'invalid_request',
      ],
    ]
    const before = fx.store.size()
    for (const [fields, options, status, error] of cases) {
      const { response, body, text } = await revoke(fx, fields, options)
      assert.equal(response.status, status)
      assert.equal(body.error, error)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      const basic = status === 401 && options === wrongBasic
      assert.equal(
        response.headers.get('www-authenticate'),
        basic ? `Basic realm="${ISSUER}"` : null,
      )
      assertNoLeak(text, [token, ...CLIENT_SECRETS])
    }
    assert.equal(fx.store.size(), before)
    assert.equal((await refreshWith(fx, token)).response.status, 200)
  })
})

describe('introspection', () => {
  it('describes an active access token to its client and to resource servers only', async () => {
    const fx = await fixture()
    const { at } = await tokens(fx)
    const claims = decodeJwt(at)
    for (const client of ['basic', 'service'] as const) {
      const { response, body } = await introspect(fx, { token: at }, { client })
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.deepEqual(body, {
        active: true,
        scope: 'openid profile email offline_access',
        client_id: CLIENTS.basic.id,
        sub: ALICE,
        exp: claims.exp,
        iat: claims.iat,
        iss: ISSUER,
        aud: ISSUER,
        jti: claims.jti,
        token_type: 'Bearer',
      })
    }
    // another ordinary client learns nothing about it (RFC 7662 §4)
    assert.deepEqual((await introspect(fx, { token: at }, { client: 'post' })).body, {
      active: false,
    })
    const service = await introspect(fx, { token: await serviceToken(fx) }, { client: 'service' })
    assert.equal(service.body.active, true)
    assert.equal(service.body.sub, CLIENTS.service.id)
  })

  it('describes a live refresh token; a rotated one is inactive', async () => {
    const fx = await fixture()
    const { rt } = await tokens(fx)
    const live = await introspect(
      fx,
      { token: str(rt), token_type_hint: 'refresh_token' },
      { client: 'basic' },
    )
    assert.deepEqual(live.body, {
      active: true,
      scope: 'openid profile email offline_access',
      client_id: CLIENTS.basic.id,
      sub: ALICE,
      exp: START / 1000 + 30 * 86_400,
      iss: ISSUER,
    })
    // not even a resource server learns about another client's refresh token
    const other = await introspect(
      fx,
      { token: str(rt), token_type_hint: 'refresh_token' },
      { client: 'service' },
    )
    assert.deepEqual(other.body, { active: false })
    const next = str((await refreshWith(fx, str(rt))).body.refresh_token)
    assert.deepEqual((await introspect(fx, { token: str(rt) }, { client: 'basic' })).body, {
      active: false,
    })
    assert.equal((await introspect(fx, { token: next }, { client: 'basic' })).body.active, true)
  })

  it('answers {active:false} for unknown, expired, revoked and replay-revoked tokens', async () => {
    const fx = await fixture()
    const revoked = await tokens(fx)
    await revoke(fx, { token: revoked.at }, { client: 'basic' })
    const replayed = await tokens(fx)
    const fields = {
      grant_type: 'authorization_code',
      code: replayed.code.code,
      redirect_uri: REDIRECT,
      code_verifier: replayed.code.verifier,
    }
    await tokenEndpoint(
      formRequest(fx.runtime.settings.urls.token, fields, { client: 'basic' }),
      fx.runtime,
    )
    const expiring = await tokens(fx)
    const dead = ['A'.repeat(43), 'not.a.jwt', revoked.at, replayed.at, str(replayed.rt)]
    for (const token of dead) {
      const { response, body } = await introspect(fx, { token }, { client: 'service' })
      assert.equal(response.status, 200)
      assert.deepEqual(body, { active: false })
    }
    fx.clock.advance(610)
    assert.deepEqual((await introspect(fx, { token: expiring.at }, { client: 'service' })).body, {
      active: false,
    })
  })

  it('refuses public clients, bad credentials and bad requests', async () => {
    const fx = await fixture()
    const { at } = await tokens(fx)
    const wrongBasic = { headers: { authorization: basicHeader(CLIENTS.service.id, 'nope') } }
    const cases: [Record<string, string>, FormOptions, number, string][] = [
      [{ token: at }, { client: 'public' }, 401, 'invalid_client'],
      [{ token: at }, wrongBasic, 401, 'invalid_client'],
      [{ token: at }, {}, 401, 'invalid_client'],
      [{}, { client: 'service' }, 400, 'invalid_request'],
      [{ token: at }, { client: 'service', method: 'PUT' }, 405, 'invalid_request'],
    ]
    for (const [fields, options, status, error] of cases) {
      const { response, body, text } = await introspect(fx, fields, options)
      assert.equal(response.status, status)
      assert.equal(body.error, error)
      assert.equal(body.active, undefined)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      const basic = options === wrongBasic
      assert.equal(
        response.headers.get('www-authenticate'),
        basic ? `Basic realm="${ISSUER}"` : null,
      )
      assertNoLeak(text, [at, ...CLIENT_SECRETS])
    }
  })
})
