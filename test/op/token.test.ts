import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { tokenEndpoint as tokenEndpointOp } from '../../src/op/endpoints/token/index.ts'
import { userinfoEndpoint as userinfoEndpointOp } from '../../src/op/endpoints/userinfo.ts'
import { secretId } from '../../src/op/tokens/secrets.ts'
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
  verifyWithJwks,
} from './helpers/op-fixture.ts'
import { web } from './helpers/web-endpoint.ts'

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
type Fields = Record<string, string> | [string, string][]

async function call(fx: OpFixture, fields: Fields, options: FormOptions = {}) {
  const response = await tokenEndpoint(
    formRequest(fx.runtime.settings.urls.token, fields, options),
    fx.runtime,
  )
  const text = await response.text()
  return { response, text, body: (text ? JSON.parse(text) : {}) as Body }
}

type Code = Awaited<ReturnType<typeof storeCode>>
const codeFields = (c: Code): Record<string, string> => ({
  grant_type: 'authorization_code',
  code: c.code,
  redirect_uri: REDIRECT,
  code_verifier: c.verifier,
})

async function exchange(fx: OpFixture, client: ClientName = 'basic', options: CodeOptions = {}) {
  const c = await storeCode(fx, { client, ...options })
  const result = await call(fx, codeFields(c), { client })
  return { ...result, code: c }
}

async function refresh(fx: OpFixture, token: string, client: ClientName = 'basic', scope?: string) {
  const fields = { grant_type: 'refresh_token', refresh_token: token }
  return call(fx, scope === undefined ? fields : { ...fields, scope }, { client })
}

async function userinfoStatus(fx: OpFixture, accessToken: string): Promise<number> {
  const request = new Request(fx.runtime.settings.urls.userinfo, {
    headers: { authorization: `Bearer ${accessToken}` },
  })
  return (await userinfoEndpoint(request, fx.runtime)).status
}

const str = (v: unknown): string => {
  assert.equal(typeof v, 'string')
  return v as string
}

describe('token endpoint: authorization_code', () => {
  it('issues access, ID and refresh tokens to a Basic client, no-store', async () => {
    const fx = await fixture()
    const { response, body, code } = await exchange(fx)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(body.token_type, 'Bearer')
    assert.equal(body.expires_in, 600)
    assert.equal(body.scope, 'openid profile email offline_access')
    const at = await verifyWithJwks(fx, str(body.access_token), ISSUER, 'at+jwt')
    assert.equal(at.sub, ALICE)
    assert.equal(at.client_id, CLIENTS.basic.id)
    assert.equal(at.gid, code.grantId)
    const id = await verifyWithJwks(fx, str(body.id_token), CLIENTS.basic.id, 'JWT')
    assert.equal(id.sub, ALICE)
    assert.equal(id.nonce, code.record.nonce)
    assert.equal(id.azp, CLIENTS.basic.id)
    assert.equal(id.auth_time, code.record.authTime)
    assert.equal(id.email, 'alice@example.com')
    assert.equal(id.name, 'Alice Liddell')
    assert.equal(typeof id.at_hash, 'string')
    const rt = str(body.refresh_token)
    assert.match(rt, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(await fx.store.get('refresh', rt), undefined, 'stored only hashed')
    const stored = await fx.store.get('refresh', await secretId(rt))
    assert.equal(stored?.familyExpiresAt, START / 1000 + 30 * 86_400)
    assert.equal(stored?.grantId, code.grantId)
  })

  it('accepts client_secret_post, a public client, and a Basic client repeating its client_id', async () => {
    const fx = await fixture()
    for (const client of ['post', 'public'] as const) {
      const { response, body } = await exchange(fx, client)
      assert.equal(response.status, 200, client)
      assert.equal(typeof body.refresh_token, 'string')
    }
    const c = await storeCode(fx)
    const { response } = await call(
      fx,
      { ...codeFields(c), client_id: CLIENTS.basic.id },
      { client: 'basic' },
    )
    assert.equal(response.status, 200)
  })

  it('accepts plain PKCE for the client registered with pkce_plain', async () => {
    const fx = await fixture()
    const { response } = await exchange(fx, 'legacy', { pkce: 'plain' })
    assert.equal(response.status, 200)
  })

  it('issues an ID token only for openid, a refresh token only for offline_access + grant', async () => {
    const fx = await fixture()
    const noOffline = await exchange(fx, 'basic', { scopes: ['openid', 'email'] })
    assert.equal(noOffline.body.refresh_token, undefined)
    assert.equal(typeof noOffline.body.id_token, 'string')
    const noOpenid = await exchange(fx, 'basic', { scopes: ['api:read'] })
    assert.equal(noOpenid.body.id_token, undefined)
    assert.equal(noOpenid.body.scope, 'api:read')
    const before = fx.store.size()
    const codeOnly = await exchange(fx, 'codeOnly')
    assert.equal(codeOnly.response.status, 200)
    assert.equal(codeOnly.body.refresh_token, undefined)
    assert.equal(fx.store.size(), before + 1, 'only the (consumed) code was added')
  })

  it('refuses a code whose account no longer exists', async () => {
    const fx = await fixture()
    const c = await storeCode(fx)
    await fx.store.delete('account', ALICE)
    const { response, body } = await call(fx, codeFields(c), { client: 'basic' })
    assert.equal(response.status, 400)
    assert.equal(body.error, 'invalid_grant')
  })

  it('treats a replayed code as theft: revokes the refresh and access tokens it issued', async () => {
    const fx = await fixture()
    const first = await exchange(fx)
    assert.equal(first.response.status, 200)
    const at = str(first.body.access_token)
    assert.equal(await userinfoStatus(fx, at), 200)
    const replay = await call(fx, codeFields(first.code), { client: 'basic' })
    assert.equal(replay.response.status, 400)
    assert.equal(replay.body.error, 'invalid_grant')
    assert.equal(replay.response.headers.get('cache-control'), 'no-store')
    assertNoLeak(replay.text, [first.code.code, first.code.verifier, at])
    const rt = str(first.body.refresh_token)
    assert.equal(await fx.store.get('refresh', await secretId(rt)), undefined)
    const refreshed = await refresh(fx, rt)
    assert.equal(refreshed.body.error, 'invalid_grant')
    assert.equal(await userinfoStatus(fx, at), 401)
  })

  it('hands out nothing usable when two exchanges of one code race', async () => {
    const fx = await fixture()
    const c = await storeCode(fx)
    const results = await Promise.all([
      call(fx, codeFields(c), { client: 'basic' }),
      call(fx, codeFields(c), { client: 'basic' }),
    ])
    const won = results.filter((r) => r.response.status === 200)
    assert.ok(won.length <= 1)
    assert.ok(results.some((r) => r.body.error === 'invalid_grant'))
    for (const { body } of won) {
      assert.equal(await userinfoStatus(fx, str(body.access_token)), 401)
      assert.equal((await refresh(fx, str(body.refresh_token))).body.error, 'invalid_grant')
    }
    assert.ok(await fx.store.get('revocation', `grant:${c.grantId}`))
  })

  it('hands out nothing usable when two refreshes with one token race', async () => {
    const fx = await fixture()
    const { body } = await exchange(fx)
    const rt = str(body.refresh_token)
    const results = await Promise.all([refresh(fx, rt), refresh(fx, rt)])
    assert.ok(results.filter((r) => r.response.status === 200).length <= 1)
    for (const r of results) {
      if (r.response.status !== 200) continue
      assert.equal(await userinfoStatus(fx, str(r.body.access_token)), 401)
      assert.equal((await refresh(fx, str(r.body.refresh_token))).body.error, 'invalid_grant')
    }
  })
})

describe('token endpoint: refresh_token', () => {
  it('rotates within the family: new token, same absolute expiry, ID token without nonce', async () => {
    const fx = await fixture()
    const first = await exchange(fx)
    const rt1 = str(first.body.refresh_token)
    fx.clock.advance(3600)
    const second = await refresh(fx, rt1)
    assert.equal(second.response.status, 200)
    assert.equal(second.response.headers.get('cache-control'), 'no-store')
    const rt2 = str(second.body.refresh_token)
    assert.notEqual(rt2, rt1)
    const stored = await fx.store.get('refresh', await secretId(rt2))
    assert.equal(stored?.familyExpiresAt, START / 1000 + 30 * 86_400)
    assert.equal(stored?.grantId, first.code.grantId)
    const id = await verifyWithJwks(fx, str(second.body.id_token), CLIENTS.basic.id, 'JWT')
    assert.equal(id.nonce, undefined)
    assert.equal(id.sub, ALICE)
    assert.equal(id.auth_time, first.code.record.authTime)
    assert.equal((await refresh(fx, rt2)).response.status, 200)
  })

  it('detects reuse of a rotated token and revokes the whole family', async () => {
    const fx = await fixture()
    const first = await exchange(fx)
    const rt1 = str(first.body.refresh_token)
    const second = await refresh(fx, rt1)
    const rt2 = str(second.body.refresh_token)
    const reuse = await refresh(fx, rt1)
    assert.equal(reuse.response.status, 400)
    assert.equal(reuse.body.error, 'invalid_grant')
    assertNoLeak(reuse.text, [rt1, rt2])
    assert.equal((await refresh(fx, rt2)).body.error, 'invalid_grant')
    assert.equal(await userinfoStatus(fx, str(first.body.access_token)), 401)
    assert.equal(await userinfoStatus(fx, str(second.body.access_token)), 401)
  })

  it('narrows scope for the access token only; the refresh token keeps the grant scope', async () => {
    const fx = await fixture()
    const rt = str((await exchange(fx)).body.refresh_token)
    const narrow = await refresh(fx, rt, 'basic', 'profile offline_access')
    assert.equal(narrow.response.status, 200)
    assert.equal(narrow.body.scope, 'profile offline_access')
    assert.equal(narrow.body.id_token, undefined)
    const again = await refresh(fx, str(narrow.body.refresh_token))
    assert.equal(again.body.scope, 'openid profile email offline_access')
    assert.equal(typeof again.body.id_token, 'string')
  })

  it('never extends the family: a token rotated on day 29 dies on day 30', async () => {
    const fx = await fixture()
    const rt = str((await exchange(fx)).body.refresh_token)
    fx.clock.advance(29 * 86_400)
    const rotated = await refresh(fx, rt)
    assert.equal(rotated.response.status, 200)
    fx.clock.advance(86_400)
    const late = await refresh(fx, str(rotated.body.refresh_token))
    assert.equal(late.response.status, 400)
    assert.equal(late.body.error, 'invalid_grant')
  })

  it('checks familyExpiresAt itself, even if a store keeps the record longer', async () => {
    const fx = await fixture()
    const rt = 'R'.repeat(43)
    const now = Math.floor(fx.clock.now() / 1000)
    await fx.store.set(
      'refresh',
      await secretId(rt),
      {
        grantId: 'g1',
        clientId: CLIENTS.basic.id,
        sub: ALICE,
        scopes: ['openid', 'offline_access'],
        authTime: now - 100,
        familyExpiresAt: now - 1,
      },
      { ttlSeconds: 3600, family: 'g1' },
    )
    const before = fx.store.size()
    const stale = await refresh(fx, rt)
    assert.equal(stale.body.error, 'invalid_grant')
    assert.equal(fx.store.size(), before)
  })

  it('refuses widening with invalid_scope and leaves the token usable', async () => {
    const fx = await fixture()
    const rt = str(
      (await exchange(fx, 'basic', { scopes: ['openid', 'offline_access'] })).body.refresh_token,
    )
    const before = fx.store.size()
    const wide = await refresh(fx, rt, 'basic', 'openid email')
    assert.equal(wide.response.status, 400)
    assert.equal(wide.body.error, 'invalid_scope')
    assert.equal(fx.store.size(), before)
    assert.equal((await refresh(fx, rt)).response.status, 200)
  })
})

describe('token endpoint: client_credentials', () => {
  it('issues an access token for the client itself, with its registered scope', async () => {
    const fx = await fixture()
    await fx.runtime.keys.publicJwks() // the non-default (RS256) key is made on first need
    const before = fx.store.size()
    for (const scope of ['api:read', undefined]) {
      const fields: Record<string, string> = { grant_type: 'client_credentials' }
      if (scope) fields.scope = scope
      const { response, body } = await call(fx, fields, { client: 'service' })
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(body.scope, 'api:read')
      assert.equal(body.refresh_token, undefined)
      assert.equal(body.id_token, undefined)
      const at = await verifyWithJwks(fx, str(body.access_token), ISSUER, 'at+jwt')
      assert.equal(at.sub, CLIENTS.service.id)
      assert.equal(at.client_id, CLIENTS.service.id)
    }
    assert.equal(fx.store.size(), before, 'nothing persisted')
  })
})

interface Row {
  readonly name: string
  readonly status: number
  readonly error: string
  build(fx: OpFixture): Promise<{ request: Request; secrets: string[] }>
}

const tokenUrl = (fx: OpFixture) => fx.runtime.settings.urls.token

/** A row exchanging a fresh code with altered fields or options. */
function codeRow(
  name: string,
  status: number,
  error: string,
  alter: (fields: Record<string, string>, c: Code) => Fields,
  options: FormOptions = { client: 'basic' },
  code: CodeOptions & { before?: (fx: OpFixture) => void } = {},
): Row {
  return {
    name,
    status,
    error,
    async build(fx) {
      const c = await storeCode(fx, code)
      code.before?.(fx)
      const request = formRequest(tokenUrl(fx), alter(codeFields(c), c), options)
      return { request, secrets: [c.code, c.verifier] }
    },
  }
}

const without = (name: string) => (f: Record<string, string>) => {
  const { [name]: _, ...rest } = f
  return rest
}
const set = (name: string, value: string) => (f: Record<string, string>) => ({
  ...f,
  [name]: value,
})
const twice = (name: string) => (f: Record<string, string>) => [
  ...Object.entries(f),
  [name, f[name] ?? 'x'] as [string, string],
]
const same = (f: Record<string, string>) => f
const verifier = (make: (v: string) => string) => (f: Record<string, string>, c: Code) => ({
  ...f,
  code_verifier: make(c.verifier),
})
const basicAs = (id: string, secret: string): FormOptions => ({
  headers: { authorization: basicHeader(id, secret) },
})
const rawBasic = (value: string): FormOptions => ({ headers: { authorization: value } })

/** A row presenting a refresh token obtained by a real exchange (optionally after `wait` s). */
function refreshRow(
  name: string,
  fields: (rt: string) => Fields,
  client: ClientName,
  error: string,
  wait?: number,
): Row {
  return {
    name,
    status: 400,
    error,
    async build(fx) {
      const rt = str((await exchange(fx)).body.refresh_token)
      if (wait !== undefined) fx.clock.advance(wait)
      const extra = fields(rt)
      const pairs = Array.isArray(extra) ? extra : Object.entries(extra)
      const request = formRequest(tokenUrl(fx), [['grant_type', 'refresh_token'], ...pairs], {
        client,
      })
      return { request, secrets: [rt] }
    },
  }
}

const ROWS: Row[] = [
  // transport
  {
    name: 'GET instead of POST',
    status: 405,
    error: 'invalid_request',
    async build(fx) {
      const c = await storeCode(fx)
      const url = `${tokenUrl(fx)}?${new URLSearchParams(codeFields(c))}`
      const headers = { authorization: basicHeader(CLIENTS.basic.id, CLIENTS.basic.secret) }
      return { request: new Request(url, { headers }), secrets: [c.code, c.verifier] }
    },
  },
  codeRow('PUT', 405, 'invalid_request', same, { client: 'basic', method: 'PUT' }),
  codeRow('JSON body', 400, 'invalid_request', same, {
    client: 'basic',
    headers: { 'content-type': 'application/json' },
  }),
  codeRow('text/plain body', 400, 'invalid_request', same, {
    client: 'basic',
    headers: { 'content-type': 'text/plain' },
  }),
  codeRow('oversized body', 413, 'invalid_request', set('padding', 'x'.repeat(17_000))),
  codeRow('overlong value', 400, 'invalid_request', set('code_verifier', 'a'.repeat(4097))),
  // parameters
  codeRow('missing grant_type', 400, 'invalid_request', without('grant_type')),
  codeRow('unknown grant_type', 400, 'unsupported_grant_type', set('grant_type', 'password')),
  codeRow('duplicated grant_type', 400, 'invalid_request', twice('grant_type')),
  codeRow('missing code', 400, 'invalid_request', without('code')),
  codeRow('duplicated code', 400, 'invalid_request', twice('code')),
  codeRow('missing redirect_uri', 400, 'invalid_request', without('redirect_uri')),
  codeRow('duplicated code_verifier', 400, 'invalid_request', twice('code_verifier')),
  // the code's bindings
  codeRow('unknown code', 400, 'invalid_grant', set('code', 'A'.repeat(43))),
  codeRow('another redirect_uri', 400, 'invalid_grant', set('redirect_uri', `${REDIRECT}/`)),
  codeRow('redirect_uri case', 400, 'invalid_grant', set('redirect_uri', REDIRECT.toUpperCase())),
  codeRow('code of another client', 400, 'invalid_grant', same, { client: 'post' }),
  codeRow('expired code (61 s)', 400, 'invalid_grant', same, undefined, {
    before: (fx) => fx.clock.advance(61),
  }),
  // PKCE
  codeRow('missing verifier', 400, 'invalid_grant', without('code_verifier')),
  codeRow(
    'wrong verifier',
    400,
    'invalid_grant',
    verifier(() => 'a'.repeat(43)),
  ),
  codeRow(
    '42-character verifier',
    400,
    'invalid_grant',
    verifier((v) => v.slice(0, 42)),
  ),
  codeRow(
    '129-character verifier',
    400,
    'invalid_grant',
    verifier((v) => v.padEnd(129, 'a')),
  ),
  codeRow(
    'verifier with +',
    400,
    'invalid_grant',
    verifier((v) => `${v.slice(0, 42)}+`),
  ),
  codeRow(
    'verifier with space',
    400,
    'invalid_grant',
    verifier((v) => `${v} `),
  ),
  codeRow(
    'verifier with =',
    400,
    'invalid_grant',
    verifier((v) => `${v}=`),
  ),
  codeRow(
    'verifier with é',
    400,
    'invalid_grant',
    verifier((v) => `${v.slice(0, 42)}é`),
  ),
  codeRow('challenge sent as verifier', 400, 'invalid_grant', (f, c) => ({
    ...f,
    code_verifier: c.record.codeChallenge ?? '',
  })),
  codeRow('verifier without challenge', 400, 'invalid_grant', same, undefined, { pkce: 'none' }),
  codeRow(
    'wrong plain verifier',
    400,
    'invalid_grant',
    verifier(() => 'b'.repeat(43)),
    {
      client: 'legacy',
    },
    { client: 'legacy', pkce: 'plain' },
  ),
  // client authentication
  codeRow('wrong Basic secret', 401, 'invalid_client', same, basicAs(CLIENTS.basic.id, 'nope')),
  codeRow('unknown Basic client', 401, 'invalid_client', same, basicAs('ghost', 'secret')),
  codeRow(
    'wrong post secret',
    401,
    'invalid_client',
    (f) => ({ ...f, client_id: CLIENTS.post.id, client_secret: 'nope' }),
    {},
    { client: 'post' },
  ),
  codeRow(
    'unknown post client',
    401,
    'invalid_client',
    (f) => ({ ...f, client_id: 'ghost', client_secret: CLIENTS.post.secret }),
    {},
    { client: 'post' },
  ),
  codeRow(
    'Basic client using post',
    401,
    'invalid_client',
    (f) => ({
      ...f,
      client_id: CLIENTS.basic.id,
      client_secret: CLIENTS.basic.secret,
    }),
    {},
  ),
  codeRow(
    'post client using Basic',
    401,
    'invalid_client',
    same,
    basicAs(CLIENTS.post.id, CLIENTS.post.secret),
    { client: 'post' },
  ),
  codeRow(
    'public client sending a secret',
    401,
    'invalid_client',
    set('client_secret', 'x'),
    {
      client: 'public',
    },
    { client: 'public' },
  ),
  codeRow(
    'confidential client without secret',
    401,
    'invalid_client',
    set('client_id', CLIENTS.basic.id),
    {},
  ),
  codeRow('no client authentication', 401, 'invalid_client', same, {}),
  codeRow(
    'Basic and client_secret',
    400,
    'invalid_request',
    set('client_secret', CLIENTS.basic.secret),
  ),
  codeRow('Basic and another client_id', 400, 'invalid_request', set('client_id', CLIENTS.post.id)),
  codeRow('client_secret without client_id', 400, 'invalid_request', set('client_secret', 'x'), {}),
  codeRow(
    'duplicated client_id',
    400,
    'invalid_request',
    twice('client_id'),
    { client: 'public' },
    {
      client: 'public',
    },
  ),
  codeRow('Basic not base64', 401, 'invalid_client', same, rawBasic('Basic !!!')),
  codeRow('Basic empty', 401, 'invalid_client', same, rawBasic('Basic')),
  codeRow(
    'Basic without colon',
    401,
    'invalid_client',
    same,
    rawBasic(`Basic ${btoa('basic-client')}`),
  ),
  codeRow('Basic empty id', 401, 'invalid_client', same, rawBasic(`Basic ${btoa(':secret')}`)),
  codeRow(
    'Basic bad percent-encoding',
    401,
    'invalid_client',
    same,
    rawBasic(`Basic ${btoa('basic-client:%ZZ')}`),
  ),
  codeRow(
    'Basic not UTF-8',
    401,
    'invalid_client',
    same,
    rawBasic(`Basic ${btoa('\xff\xfe:\xff')}`),
  ),
  // grant permissions
  codeRow('service client using authorization_code', 400, 'unauthorized_client', same, {
    client: 'service',
  }),
  {
    name: 'refresh_token grant for a client without it',
    status: 400,
    error: 'unauthorized_client',
    async build(fx) {
      const fields = { grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) }
      return { request: formRequest(tokenUrl(fx), fields, { client: 'codeOnly' }), secrets: [] }
    },
  },
  ...(
    [
      ['client_credentials for a code client', 'basic', undefined, 'unauthorized_client'],
      ['client_credentials with openid', 'service', 'openid', 'invalid_scope'],
      [
        'client_credentials with offline_access',
        'service',
        'api:read offline_access',
        'invalid_scope',
      ],
      ['client_credentials with a scope not registered', 'service', 'api:write', 'invalid_scope'],
      ['client_credentials with an unknown scope', 'service', 'admin', 'invalid_scope'],
      ['client_credentials with a malformed scope', 'service', 'api:read "x"', 'invalid_scope'],
    ] as const
  ).map(
    ([name, client, scope, error]): Row => ({
      name,
      status: 400,
      error,
      async build(fx) {
        const fields: Record<string, string> = { grant_type: 'client_credentials' }
        if (scope !== undefined) fields.scope = scope
        return { request: formRequest(tokenUrl(fx), fields, { client }), secrets: [] }
      },
    }),
  ),
  refreshRow('missing refresh_token', () => ({}), 'basic', 'invalid_request'),
  refreshRow(
    'unknown refresh token',
    () => ({ refresh_token: 'A'.repeat(43) }),
    'basic',
    'invalid_grant',
  ),
  refreshRow(
    'refresh token of another client',
    (rt) => ({ refresh_token: rt }),
    'post',
    'invalid_grant',
  ),
  refreshRow(
    'refresh scope widening',
    (rt) => ({ refresh_token: rt, scope: 'openid api:read' }),
    'basic',
    'invalid_scope',
  ),
  refreshRow(
    'refresh malformed scope',
    (rt) => ({ refresh_token: rt, scope: 'openid\\' }),
    'basic',
    'invalid_scope',
  ),
  refreshRow(
    'duplicated refresh_token',
    (rt) => [
      ['refresh_token', rt],
      ['refresh_token', rt],
    ],
    'basic',
    'invalid_request',
  ),
  refreshRow(
    'refresh family expired',
    (rt) => ({ refresh_token: rt }),
    'basic',
    'invalid_grant',
    30 * 86_400,
  ),
]

describe('token endpoint: hostile requests', () => {
  for (const row of ROWS) {
    it(`${row.name} → ${row.status} ${row.error}`, async () => {
      const fx = await fixture()
      const { request, secrets } = await row.build(fx)
      const before = fx.store.size()
      const response = await tokenEndpoint(request, fx.runtime)
      const text = await response.text()
      const body = JSON.parse(text) as Body
      assert.equal(response.status, row.status)
      assert.equal(body.error, row.error)
      assert.equal(typeof body.error_description, 'string')
      assert.equal(body.access_token, undefined)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      // RFC 6749 §5.2: a challenge exactly when a client that tried Basic gets invalid_client
      const triedBasic = /^basic/i.test(request.headers.get('authorization') ?? '')
      assert.equal(
        response.headers.get('www-authenticate'),
        row.status === 401 && triedBasic ? `Basic realm="${ISSUER}"` : null,
      )
      if (row.status === 405) assert.equal(response.headers.get('allow'), 'POST')
      assertNoLeak(text, [...secrets, ...CLIENT_SECRETS])
      assert.ok(fx.store.size() <= before, 'nothing was persisted')
    })
  }
})
