// Custom grants (RFC 6749 §4.5) on our OP: an app-defined grant_type whose handler sees the
// authenticated client and the parameters, and whose result is issued through the built-in
// issuing code. Client authentication always comes first; the OP enforces scope ceilings,
// OpenID scopes only for accounts, refresh only for refresh-registered clients; a handler that
// throws or returns nonsense is a 500 with nothing issued; refusals carry the exact error.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import type { CustomGrantRequest, CustomGrantResult, OpConfig } from '../../src/op/config.ts'
import { createOp } from '../../src/op/create-op.ts'
import { GrantError } from '../../src/op/errors.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'

const ISSUER = 'http://127.0.0.1:9000'
const GRANT = 'urn:example:params:oauth:grant-type:partner-assertion'
const SVC = { id: 'svc', secret: 'svc-secret-0123456789abcdefghijklmnop' }
const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`
const MARKER = 'presented-assertion-4d1f0c'

type Handler = (request: CustomGrantRequest) => CustomGrantResult | Promise<CustomGrantResult>

async function world(
  handler: Handler = (r) => ({ sub: `partner:${r.param('assertion')}`, scopes: ['orders:read'] }),
  patch: Partial<OpConfig> = {},
) {
  const logs: string[] = []
  const calls: CustomGrantRequest[] = []
  const store = createMemoryOpStore()
  const op = await createOp({
    issuer: ISSUER,
    store,
    scopes: ['orders:read', 'orders:write'],
    logger: { warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
    clients: [
      {
        client_id: SVC.id,
        client_secret: SVC.secret,
        redirect_uris: [],
        grant_types: [GRANT, 'refresh_token'],
        scope: 'orders:read',
      },
      {
        client_id: 'plain',
        client_secret: 'plain-secret-0123456789abcdefghijklmno',
        redirect_uris: [],
        grant_types: ['client_credentials'],
        scope: 'orders:read',
      },
      { client_id: 'public', redirect_uris: [], grant_types: [GRANT] },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', sub: 'alice-sub' }],
    grants: {
      [GRANT]: (request) => {
        calls.push(request)
        return handler(request)
      },
    },
    ...patch,
  })
  const token = async (
    form: Record<string, string | string[]>,
    auth: string | null = basic(SVC.id, SVC.secret),
  ) => {
    const body = new URLSearchParams()
    for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x)
    const response = await op.handler(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(auth === null ? {} : { authorization: auth }),
        },
        body,
      }),
    )
    const text = await response.text()
    return {
      status: response.status,
      text,
      body: JSON.parse(text) as Record<string, unknown>,
      cacheControl: response.headers.get('cache-control'),
    }
  }
  const jwks = async () =>
    createLocalJWKSet(await (await op.handler(new Request(`${ISSUER}/jwks`))).json())
  return { op, token, logs, calls, store, jwks }
}

/** The store holds nothing more than before: nothing was issued. */
const sameStore = (store: ReturnType<typeof createMemoryOpStore>, before: number) =>
  assert.equal(store.size(), before, 'nothing persisted')

describe('OP custom grants (RFC 6749 §4.5)', () => {
  it('issues an access token through the built-in path: signed, at+jwt, the handler’s sub and scopes, the client’s client_id', async () => {
    const { token, calls, jwks } = await world()
    const { status, body, cacheControl } = await token({
      grant_type: GRANT,
      assertion: 'acme',
      scope: 'orders:read orders:read',
    })
    assert.equal(status, 200)
    assert.equal(cacheControl, 'no-store')
    assert.equal(body.token_type, 'Bearer')
    assert.equal(body.scope, 'orders:read')
    assert.equal(body.expires_in, 600)
    assert.equal(body.id_token, undefined)
    assert.equal(body.refresh_token, undefined)
    const access = String(body.access_token)
    assert.equal(decodeProtectedHeader(access).typ, 'at+jwt')
    const { payload } = await jwtVerify(access, await jwks(), {
      issuer: ISSUER,
      audience: ISSUER,
      typ: 'at+jwt',
    })
    assert.equal(payload.sub, 'partner:acme')
    assert.equal(payload.client_id, 'svc')
    assert.equal(payload.scope, 'orders:read')
    const [call] = calls
    assert.equal(call?.grantType, GRANT)
    assert.deepEqual(call?.client, { clientId: 'svc', confidential: true, scopes: ['orders:read'] })
    assert.deepEqual(call?.requestedScopes, ['orders:read'])
  })

  it('for an account: an ID token with openid, a refresh token with offline_access, and the refresh token then rotates as any other', async () => {
    const { token, jwks } = await world(() => ({
      sub: 'alice-sub',
      scopes: ['openid', 'offline_access', 'orders:read'],
      account: true,
      authTime: Math.floor(Date.now() / 1000) - 30,
    }))
    const first = await token({ grant_type: GRANT, assertion: 'x' })
    assert.equal(first.status, 200, first.text)
    const id = await jwtVerify(String(first.body.id_token), await jwks(), {
      issuer: ISSUER,
      audience: 'svc',
    })
    assert.equal(id.payload.sub, 'alice-sub')
    assert.ok(Number(id.payload.auth_time) <= Math.floor(Date.now() / 1000) - 30)
    assert.equal(typeof first.body.refresh_token, 'string')
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: String(first.body.refresh_token),
    })
    assert.equal(refreshed.status, 200, refreshed.text)
    assert.equal(decodeJwt(String(refreshed.body.access_token)).sub, 'alice-sub')
    assert.notEqual(refreshed.body.refresh_token, first.body.refresh_token)
  })

  it('no refresh token for a client not registered for refresh_token, even with offline_access', async () => {
    const { token } = await world(
      () => ({ sub: 'alice-sub', scopes: ['openid', 'offline_access'], account: true }),
      {
        clients: [
          { client_id: SVC.id, client_secret: SVC.secret, redirect_uris: [], grant_types: [GRANT] },
        ],
      },
    )
    const { status, body } = await token({ grant_type: GRANT })
    assert.equal(status, 200)
    assert.equal(body.refresh_token, undefined)
    assert.equal(typeof body.id_token, 'string')
  })

  it('authenticates the client before the handler runs: a wrong secret is 401 invalid_client and the handler is never called', async () => {
    const { token, calls, store } = await world()
    const before = store.size()
    const wrong = await token(
      { grant_type: GRANT, assertion: MARKER },
      basic(SVC.id, 'not-the-secret'),
    )
    assert.equal(wrong.status, 401)
    assert.equal(wrong.body.error, 'invalid_client')
    const none = await token({ grant_type: GRANT, assertion: MARKER, client_id: 'svc' }, null)
    assert.equal(none.status, 401)
    assert.equal(none.body.error, 'invalid_client')
    assert.equal(calls.length, 0)
    assert.ok(!wrong.text.includes(MARKER) && !none.text.includes(MARKER), 'nothing echoed')
    sameStore(store, before)
  })

  it('a client not registered for the grant: 400 unauthorized_client, handler not called', async () => {
    const { token, calls } = await world()
    const { status, body } = await token(
      { grant_type: GRANT },
      basic('plain', 'plain-secret-0123456789abcdefghijklmno'),
    )
    assert.equal(status, 400)
    assert.equal(body.error, 'unauthorized_client')
    assert.equal(calls.length, 0)
  })

  it('an unknown grant type: 400 unsupported_grant_type', async () => {
    const { token } = await world()
    const { status, body } = await token({ grant_type: 'urn:example:other' })
    assert.equal(status, 400)
    assert.equal(body.error, 'unsupported_grant_type')
  })

  it('public clients: refused unless the grant opts in with publicClients', async () => {
    const refused = await world()
    const r = await refused.token({ grant_type: GRANT, client_id: 'public' }, null)
    assert.equal(r.status, 400)
    assert.equal(r.body.error, 'unauthorized_client')
    assert.equal(refused.calls.length, 0)
    const allowed = await world(undefined, {
      grants: {
        [GRANT]: {
          handler: (request) => ({ sub: `device:${request.client.clientId}`, scopes: [] }),
          publicClients: true,
        },
      },
    })
    const a = await allowed.token({ grant_type: GRANT, client_id: 'public' }, null)
    assert.equal(a.status, 200, a.text)
    assert.equal(decodeJwt(String(a.body.access_token)).sub, 'device:public')
  })

  it('a GrantError reaches the client with its code and description; a description with forbidden characters is replaced', async () => {
    const { token } = await world((r) => {
      throw new GrantError(
        'invalid_grant',
        r.param('assertion') === 'quote' ? 'bad "quoted" text' : 'the assertion expired',
      )
    })
    const plain = await token({ grant_type: GRANT, assertion: 'x' })
    assert.equal(plain.status, 400)
    assert.deepEqual(plain.body, {
      error: 'invalid_grant',
      error_description: 'the assertion expired',
    })
    const quoted = await token({ grant_type: GRANT, assertion: 'quote' })
    assert.equal(quoted.body.error_description, 'the grant was refused')
    assert.throws(() => new GrantError('invalid_client' as 'invalid_grant', 'x'), TypeError)
  })

  it('a handler that throws: 500 server_error, logged, nothing issued, nothing echoed', async () => {
    const { token, logs, store } = await world((r) => {
      throw new Error(`database down while checking ${r.param('assertion')}`)
    })
    const before = store.size()
    const { status, body, text } = await token({ grant_type: GRANT, assertion: MARKER })
    assert.equal(status, 500)
    assert.equal(body.error, 'server_error')
    assert.equal(body.access_token, undefined)
    assert.ok(!text.includes(MARKER))
    assert.ok(logs.some((l) => l.startsWith('error') && l.includes(GRANT)))
    sameStore(store, before)
  })

  it('malformed results are 500 server_error and issue nothing', async () => {
    const bad: unknown[] = [
      undefined,
      { sub: '', scopes: [] },
      { sub: 'a b', scopes: [] },
      { sub: 'x', scopes: 'orders:read' },
      { sub: 'x', scopes: ['bad"scope'] },
      { sub: 'x', scopes: [], account: 'yes' },
      { sub: 'x', scopes: [], authTime: Math.floor(Date.now() / 1000) + 3600 },
    ]
    for (const result of bad) {
      const { token, store } = await world(() => result as CustomGrantResult)
      const before = store.size()
      const { status, body } = await token({ grant_type: GRANT })
      assert.equal(status, 500, JSON.stringify(result))
      assert.equal(body.error, 'server_error')
      sameStore(store, before)
    }
  })

  it('the OP enforces the ceilings: scopes beyond the client’s, unknown scopes, OpenID scopes without an account → 400 invalid_scope', async () => {
    for (const scopes of [['orders:write'], ['unknown:scope'], ['openid'], ['offline_access']]) {
      const { token, store } = await world(() => ({ sub: 'partner', scopes }))
      const before = store.size()
      const { status, body } = await token({ grant_type: GRANT })
      assert.equal(status, 400, scopes.join(' '))
      assert.equal(body.error, 'invalid_scope')
      sameStore(store, before)
    }
  })

  it('an account that does not exist: 400 invalid_grant', async () => {
    const { token } = await world(() => ({ sub: 'nobody', scopes: ['openid'], account: true }))
    const { status, body } = await token({ grant_type: GRANT })
    assert.equal(status, 400)
    assert.equal(body.error, 'invalid_grant')
  })

  it('malformed parameters are refused: a repeated parameter the handler reads, a malformed scope (before the handler)', async () => {
    const { token, calls, store } = await world()
    const before = store.size()
    const twice = await token({ grant_type: GRANT, assertion: [MARKER, MARKER] })
    assert.equal(twice.status, 400)
    assert.equal(twice.body.error, 'invalid_request')
    assert.ok(!twice.text.includes(MARKER))
    const scope = await token({ grant_type: GRANT, scope: 'a\\b' })
    assert.equal(scope.status, 400)
    assert.equal(scope.body.error, 'invalid_scope')
    assert.equal(calls.length, 1, 'only the first request reached the handler')
    sameStore(store, before)
  })

  it('discovery lists the custom grant type', async () => {
    const { op } = await world()
    assert.ok((op.metadata().grant_types_supported as string[]).includes(GRANT))
  })

  it('config: a key that is not an absolute URI, a built-in name, a missing handler, a client listing an unknown grant', async () => {
    const cases: [Partial<OpConfig>, RegExp][] = [
      [{ grants: { 'partner-assertion': () => ({ sub: 'x', scopes: [] }) } }, /absolute URI/],
      [{ grants: { client_credentials: () => ({ sub: 'x', scopes: [] }) } }, /absolute URI/],
      [
        {
          grants: {
            'urn:ietf:params:oauth:grant-type:device_code': () => ({ sub: 'x', scopes: [] }),
          },
        },
        /built-in grant/,
      ],
      [{ grants: { [GRANT]: 'yes' as never } }, /must be a function/],
      [{ grants: {} }, /"clients\[0\]\.grant_types" may only list/],
    ]
    for (const [patch, message] of cases) {
      await assert.rejects(world(undefined, patch), message)
    }
  })
})
