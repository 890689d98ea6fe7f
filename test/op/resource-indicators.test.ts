// Resource Indicators (RFC 8707) at our OP: `resource` at /authorize (and so /par), at the token
// endpoint for the code, refresh, client-credentials and device grants. A token for a resource
// has it as `aud`, only the scopes it accepts and its lifetime; userinfo refuses it. Hostile: an
// unknown resource, a fragment, a relative URI, one not allowed for the client, one the grant
// never authorized, a refresh that widens — exact status and `invalid_target`, nothing stored,
// nothing of the attacker's value echoed.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import type { OpConfig } from '../../src/op/config.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'

const ISSUER = 'http://127.0.0.1:9000'
const CB = 'https://app.example/cb'
const SECRET = 'conf-secret-0123456789abcdefghijklmn'
const VERIFIER = 'v'.repeat(43)
const API = 'https://api.example/'
const BILLING = 'https://billing.example/v1'
const PLANT = 'planted-marker'
const basic = (id: string) => `Basic ${btoa(`${id}:${SECRET}`)}`

async function challengeOf(verifier: string) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

const form = (pairs: [string, string][]) => new URLSearchParams(pairs)

async function world(patch: Partial<OpConfig> = {}) {
  const clock = { now: () => Date.now() }
  const store = createMemoryOpStore({ clock })
  const grants = ['authorization_code', 'refresh_token'] as const
  const op = await createOp({
    issuer: ISSUER,
    store,
    clock,
    logger: { warn() {}, error() {} },
    dangerouslyAutoLogin: 'alice',
    scopes: ['read', 'write', 'pay'],
    resources: [
      { resource: API, scopes: ['read', 'write'], accessTokenTtl: 120 },
      { resource: BILLING, scopes: ['pay'] },
    ],
    clients: [
      {
        client_id: 'conf',
        client_secret: SECRET,
        redirect_uris: [CB],
        grant_types: [...grants],
        scope: 'read write pay',
        allowed_resources: [API, BILLING],
      },
      {
        client_id: 'narrow',
        client_secret: SECRET,
        redirect_uris: [CB],
        grant_types: [...grants],
        scope: 'read',
        allowed_resources: [API],
      },
      {
        client_id: 'machine',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
        scope: 'read pay',
        allowed_resources: [API, BILLING],
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', sub: 'alice-sub', claims: {} }],
    ...patch,
  })
  const authorize = async (clientId: string, extra: [string, string][] = [], scope = '') => {
    const url = new URL(`${ISSUER}/authorize`)
    url.search = form([
      ['client_id', clientId],
      ['response_type', 'code'],
      ['redirect_uri', CB],
      ['scope', scope || 'openid offline_access read write pay'],
      ['state', 'st-1'],
      ['code_challenge', await challengeOf(VERIFIER)],
      ['code_challenge_method', 'S256'],
      ...extra,
    ]).toString()
    const response = await op.handler(new Request(url))
    const location = response.headers.get('location') ?? ''
    return { status: response.status, location, back: location ? new URL(location) : undefined }
  }
  const token = async (clientId: string, pairs: [string, string][]) => {
    const response = await op.handler(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(clientId),
        },
        body: form(pairs),
      }),
    )
    const text = await response.text()
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> }
  }
  const redeem = (clientId: string, code: string, extra: [string, string][] = []) =>
    token(clientId, [
      ['grant_type', 'authorization_code'],
      ['code', code],
      ['redirect_uri', CB],
      ['code_verifier', VERIFIER],
      ...extra,
    ])
  const codeFor = async (clientId: string, resources: string[], scope = '') => {
    const { back } = await authorize(
      clientId,
      resources.map((r) => ['resource', r]),
      scope,
    )
    const code = back?.searchParams.get('code')
    assert.ok(code, `no code: ${back?.href}`)
    return code
  }
  return { op, store, authorize, token, redeem, codeFor }
}

const userinfo = (w: Awaited<ReturnType<typeof world>>, accessToken: string) =>
  w.op.handler(
    new Request(`${ISSUER}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } }),
  )

describe('OP resource indicators (RFC 8707)', () => {
  it('issues a token for the one authorized resource: aud, narrowed scopes, its TTL', async () => {
    const w = await world()
    const code = await w.codeFor('conf', [API])
    const tokens = await w.redeem('conf', code)
    assert.equal(tokens.status, 200, tokens.text)
    const claims = decodeJwt(String(tokens.body.access_token))
    assert.equal(claims.aud, API)
    assert.equal(claims.scope, 'read write', 'only the scopes the API accepts, no OIDC scopes')
    assert.equal(tokens.body.scope, 'read write')
    assert.equal(tokens.body.expires_in, 120)
    assert.equal(Number(claims.exp) - Number(claims.iat), 120)
    const idToken = decodeJwt(String(tokens.body.id_token))
    assert.equal(idToken.aud, 'conf', 'the ID token is still for the client')
    // RFC 8707 tokens are for the API, not the OP's userinfo.
    const info = await userinfo(w, String(tokens.body.access_token))
    assert.equal(info.status, 401)
    assert.match(info.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
    // Introspection reports the audience.
    const intro = await w.op.handler(
      new Request(`${ISSUER}/introspect`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic('conf'),
        },
        body: form([['token', String(tokens.body.access_token)]]),
      }),
    )
    const described = (await intro.json()) as Record<string, unknown>
    assert.equal(described.active, true)
    assert.equal(described.aud, API)
  })

  it('without resource the token is the OP own: userinfo accepts it', async () => {
    const w = await world()
    const tokens = await w.redeem('conf', await w.codeFor('conf', []))
    assert.equal(tokens.status, 200, tokens.text)
    assert.equal(decodeJwt(String(tokens.body.access_token)).aud, ISSUER)
    assert.equal((await userinfo(w, String(tokens.body.access_token))).status, 200)
  })

  it('several authorized: the token request must name one, then gets only that one', async () => {
    const w = await world()
    const code = await w.codeFor('conf', [API, BILLING])
    const before = w.store.size()
    const none = await w.redeem('conf', code)
    assert.equal(none.status, 400)
    assert.equal(none.body.error, 'invalid_target')
    assert.equal(w.store.size(), before, 'the code is not spent by a refused request')
    const billing = await w.redeem('conf', code, [['resource', BILLING]])
    assert.equal(billing.status, 200, billing.text)
    assert.equal(decodeJwt(String(billing.body.access_token)).aud, BILLING)
    assert.equal(billing.body.scope, 'pay')
    assert.equal(billing.body.expires_in, 600, 'the OP default TTL')
    // Refresh narrows to the other authorized resource; the family keeps both.
    const refreshed = await w.token('conf', [
      ['grant_type', 'refresh_token'],
      ['refresh_token', String(billing.body.refresh_token)],
      ['resource', API],
    ])
    assert.equal(refreshed.status, 200, refreshed.text)
    assert.equal(decodeJwt(String(refreshed.body.access_token)).aud, API)
    const again = await w.token('conf', [
      ['grant_type', 'refresh_token'],
      ['refresh_token', String(refreshed.body.refresh_token)],
      ['resource', BILLING],
    ])
    assert.equal(again.status, 200, again.text)
    assert.equal(decodeJwt(String(again.body.access_token)).aud, BILLING)
  })

  it('refuses at /authorize by redirect with invalid_target, storing and echoing nothing', async () => {
    const w = await world()
    const cases: [string, string, [string, string][]][] = [
      ['unknown resource', 'conf', [['resource', `https://evil.example/${PLANT}`]]],
      ['fragment', 'conf', [['resource', `${API}#${PLANT}`]]],
      ['relative URI', 'conf', [['resource', `/api/${PLANT}`]]],
      ['not allowed for the client', 'narrow', [['resource', BILLING]]],
      [
        'one good, one unknown',
        'conf',
        [
          ['resource', API],
          ['resource', `urn:${PLANT}`],
        ],
      ],
      ['too many', 'conf', Array.from({ length: 11 }, () => ['resource', API] as [string, string])],
    ]
    for (const [name, client, extra] of cases) {
      const before = w.store.size()
      const scope = client === 'narrow' ? 'openid read' : ''
      const { status, back, location } = await w.authorize(client, extra, scope)
      assert.equal(status, 303, name)
      assert.equal(`${back?.origin}${back?.pathname}`, CB, name)
      assert.equal(back?.searchParams.get('error'), 'invalid_target', name)
      assert.equal(back?.searchParams.get('state'), 'st-1', name)
      assert.equal(back?.searchParams.get('code'), null, name)
      assert.ok(!location.includes(PLANT), `${name}: the value is not echoed`)
      assert.equal(w.store.size(), before, `${name}: nothing persisted`)
    }
  })

  it('an unregistered redirect URI is still the OP page, never a redirect', async () => {
    const w = await world()
    const url = new URL(`${ISSUER}/authorize`)
    url.search = form([
      ['client_id', 'conf'],
      ['response_type', 'code'],
      ['redirect_uri', 'https://evil.example/cb'],
      ['scope', 'openid'],
      ['code_challenge', await challengeOf(VERIFIER)],
      ['code_challenge_method', 'S256'],
      ['resource', `https://evil.example/${PLANT}`],
    ]).toString()
    const response = await w.op.handler(new Request(url))
    assert.equal(response.status, 400)
    assert.equal(response.headers.get('location'), null)
    assert.ok(!(await response.text()).includes(PLANT))
  })

  it('refuses at /par with 400 invalid_target', async () => {
    const w = await world()
    const before = w.store.size()
    const response = await w.op.handler(
      new Request(`${ISSUER}/par`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic('narrow'),
        },
        body: form([
          ['response_type', 'code'],
          ['redirect_uri', CB],
          ['scope', 'openid'],
          ['code_challenge', await challengeOf(VERIFIER)],
          ['code_challenge_method', 'S256'],
          ['resource', `${BILLING}#${PLANT}`],
        ]),
      }),
    )
    const text = await response.text()
    assert.equal(response.status, 400)
    assert.equal((JSON.parse(text) as { error: string }).error, 'invalid_target')
    assert.ok(!text.includes(PLANT))
    assert.equal(w.store.size(), before)
  })

  it('refuses at the token endpoint: 400 invalid_target, code and refresh token not spent', async () => {
    const w = await world()
    const code = await w.codeFor('conf', [API])
    const hostile: [string, [string, string][]][] = [
      ['not authorized at /authorize', [['resource', BILLING]]],
      ['unknown', [['resource', `https://evil.example/${PLANT}`]]],
      ['fragment', [['resource', `${API}#${PLANT}`]]],
      ['relative', [['resource', PLANT]]],
    ]
    for (const [name, extra] of hostile) {
      const before = w.store.size()
      const refused = await w.redeem('conf', code, extra)
      assert.equal(refused.status, 400, name)
      assert.equal(refused.body.error, 'invalid_target', name)
      assert.ok(!refused.text.includes(PLANT), `${name}: not echoed`)
      assert.equal(w.store.size(), before, `${name}: nothing persisted`)
    }
    const tokens = await w.redeem('conf', code, [['resource', API]])
    assert.equal(tokens.status, 200, tokens.text)
    // A grant made without resources yields none later.
    const plain = await w.redeem('conf', await w.codeFor('conf', []), [['resource', API]])
    assert.equal(plain.status, 400)
    assert.equal(plain.body.error, 'invalid_target')
    // Refresh widening: BILLING was never authorized for this grant.
    const before = w.store.size()
    const widened = await w.token('conf', [
      ['grant_type', 'refresh_token'],
      ['refresh_token', String(tokens.body.refresh_token)],
      ['resource', BILLING],
    ])
    assert.equal(widened.status, 400)
    assert.equal(widened.body.error, 'invalid_target')
    assert.equal(w.store.size(), before, 'the refresh token is not rotated')
    const still = await w.token('conf', [
      ['grant_type', 'refresh_token'],
      ['refresh_token', String(tokens.body.refresh_token)],
    ])
    assert.equal(still.status, 200, still.text)
    assert.equal(decodeJwt(String(still.body.access_token)).aud, API)
  })

  it('a grant whose resource the client lost yields no token for it', async () => {
    const w = await world()
    const code = await w.codeFor('conf', [API])
    const client = await w.store.get('client', 'conf')
    assert.ok(client)
    await w.store.set('client', 'conf', { ...client, allowedResources: [BILLING] })
    const refused = await w.redeem('conf', code)
    assert.equal(refused.status, 400)
    assert.equal(refused.body.error, 'invalid_target')
  })

  it('client_credentials: a token for the named resource, scopes narrowed', async () => {
    const w = await world()
    const ok = await w.token('machine', [
      ['grant_type', 'client_credentials'],
      ['resource', BILLING],
    ])
    assert.equal(ok.status, 200, ok.text)
    assert.equal(decodeJwt(String(ok.body.access_token)).aud, BILLING)
    assert.equal(ok.body.scope, 'pay')
    const api = await w.token('machine', [
      ['grant_type', 'client_credentials'],
      ['scope', 'read'],
      ['resource', API],
    ])
    assert.equal(decodeJwt(String(api.body.access_token)).aud, API)
    assert.equal(api.body.expires_in, 120)
    for (const extra of [
      [
        ['resource', API],
        ['resource', BILLING],
      ],
      [['resource', `https://evil.example/${PLANT}`]],
    ] as [string, string][][]) {
      const refused = await w.token('machine', [['grant_type', 'client_credentials'], ...extra])
      assert.equal(refused.status, 400)
      assert.equal(refused.body.error, 'invalid_target')
      assert.ok(!refused.text.includes(PLANT))
    }
    const notAllowed = await w.token('narrow', [
      ['grant_type', 'client_credentials'],
      ['resource', API],
    ])
    assert.equal(notAllowed.status, 400, 'narrow may not use client_credentials at all')
  })

  it('device authorization: resource is checked there and bounds the grant', async () => {
    const w = await world()
    const device = (pairs: [string, string][]) =>
      w.op.handler(
        new Request(`${ISSUER}/device_authorization`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic('machine'),
          },
          body: form([['scope', 'read'], ...pairs]),
        }),
      )
    const before = w.store.size()
    const refused = await device([['resource', `${API}#${PLANT}`]])
    const text = await refused.text()
    assert.equal(refused.status, 400)
    assert.equal((JSON.parse(text) as { error: string }).error, 'invalid_target')
    assert.ok(!text.includes(PLANT))
    assert.equal(w.store.size(), before)
    const started = (await (await device([['resource', API]])).json()) as { device_code: string }
    const poll = (extra: [string, string][] = []) =>
      w.token('machine', [
        ['grant_type', 'urn:ietf:params:oauth:grant-type:device_code'],
        ['device_code', started.device_code],
        ...extra,
      ])
    const widened = await poll([['resource', BILLING]])
    assert.equal(widened.status, 400)
    assert.equal(widened.body.error, 'invalid_target')
    const tokens = await poll()
    assert.equal(tokens.status, 200, tokens.text)
    assert.equal(decodeJwt(String(tokens.body.access_token)).aud, API)
    assert.equal(tokens.body.scope, 'read')
  })
})
