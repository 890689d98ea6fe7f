import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { Op } from '../../src/op/create-op.ts'
import type { createMemoryOpStore } from '../../src/op/store/memory.ts'
import { authorizationUrl, Browser } from './helpers/browser.ts'
import { ISSUER, testOp, WEB_REDIRECT } from './helpers/op-setup.ts'

let op: Op
let store: ReturnType<typeof createMemoryOpStore>

before(async () => {
  ;({ op, store } = await testOp())
})

async function codes(): Promise<number> {
  // codes are stored under their hash; count them through the store's live records
  return store.size()
}

describe('authorization endpoint: requests that cannot be redirected get the OP page', () => {
  const cases: [string, Record<string, string | undefined>][] = [
    ['unknown client', { client_id: 'nobody', redirect_uri: WEB_REDIRECT }],
    ['missing client_id', { client_id: undefined, redirect_uri: WEB_REDIRECT }],
    ['missing redirect_uri', { client_id: 'web', redirect_uri: undefined }],
    ['unregistered redirect_uri', { client_id: 'web', redirect_uri: 'https://evil.example/cb' }],
    ['redirect_uri with a trailing slash', { client_id: 'web', redirect_uri: `${WEB_REDIRECT}/` }],
    ['redirect_uri with a query added', { client_id: 'web', redirect_uri: `${WEB_REDIRECT}?x=1` }],
    [
      'redirect_uri on another port (web client)',
      { client_id: 'spa', redirect_uri: 'http://localhost:3001/cb' },
    ],
    [
      'redirect_uri in another case',
      { client_id: 'web', redirect_uri: WEB_REDIRECT.toUpperCase() },
    ],
  ]
  for (const [label, params] of cases) {
    it(`${label} → 400 page, no Location, nothing stored`, async () => {
      const before = await codes()
      const { url } = await authorizationUrl(ISSUER, params)
      const response = await op.handler(new Request(url))
      assert.equal(response.status, 400)
      assert.equal(response.headers.get('location'), null)
      assert.match(response.headers.get('content-type') ?? '', /text\/html/)
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/)
      assert.equal(await codes(), before)
    })
  }

  it('a duplicated client_id or redirect_uri → 400 page', async () => {
    for (const name of ['client_id', 'redirect_uri']) {
      const { url } = await authorizationUrl(ISSUER, {
        client_id: 'web',
        redirect_uri: WEB_REDIRECT,
      })
      url.searchParams.append(name, url.searchParams.get(name) ?? '')
      const response = await op.handler(new Request(url))
      assert.equal(response.status, 400)
      assert.equal(response.headers.get('location'), null)
    }
  })

  it('the error page escapes what it shows', async () => {
    const { url } = await authorizationUrl(ISSUER, { client_id: 'web', redirect_uri: WEB_REDIRECT })
    url.searchParams.append('client_id', '<script>alert(1)</script>')
    const body = await (await op.handler(new Request(url))).text()
    assert.ok(!body.includes('<script>'))
  })
})

describe('authorization endpoint: errors go back to the client with error, state and iss', () => {
  const long = 'x'.repeat(5000)
  const cases: [string, Record<string, string | undefined>, string][] = [
    ['missing response_type', { response_type: undefined }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    [
      'response_type=code id_token',
      { response_type: 'code id_token' },
      'unsupported_response_type',
    ],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
    ['response_mode=form_post', { response_mode: 'form_post' }, 'invalid_request'],
    ['a request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
    ['unknown scope', { scope: 'openid admin' }, 'invalid_scope'],
    ['no scope', { scope: undefined }, 'invalid_scope'],
    ['scope not allowed for the client', { scope: 'openid api:read' }, 'invalid_scope'],
    ['missing code_challenge', { code_challenge: undefined }, 'invalid_request'],
    [
      'plain method without opt-in',
      { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) },
      'invalid_request',
    ],
    ['method absent (defaults to plain)', { code_challenge_method: undefined }, 'invalid_request'],
    ['unknown method', { code_challenge_method: 'S512' }, 'invalid_request'],
    ['padded challenge', { code_challenge: `${'a'.repeat(43)}=` }, 'invalid_request'],
    ['42-character challenge', { code_challenge: 'a'.repeat(42) }, 'invalid_request'],
    [
      'challenge with illegal characters',
      { code_challenge: `${'a'.repeat(42)}+` },
      'invalid_request',
    ],
    ['unknown prompt', { prompt: 'select_account' }, 'invalid_request'],
    ['prompt none with login', { prompt: 'none login' }, 'invalid_request'],
    ['non-numeric max_age', { max_age: 'soon' }, 'invalid_request'],
    ['oversized nonce', { nonce: long }, 'invalid_request'],
    ['oversized scope', { scope: long }, 'invalid_request'],
    ['prompt=none without a session', { prompt: 'none' }, 'login_required'],
  ]
  for (const [label, params, error] of cases) {
    it(`${label} → ${error}`, async () => {
      const before = await codes()
      const { url, state } = await authorizationUrl(ISSUER, {
        client_id: 'web',
        redirect_uri: WEB_REDIRECT,
        ...params,
      })
      const response = await op.handler(new Request(url))
      assert.equal(response.status, 303)
      const location = new URL(response.headers.get('location') ?? '')
      assert.equal(`${location.origin}${location.pathname}`, WEB_REDIRECT)
      assert.equal(location.searchParams.get('error'), error)
      assert.equal(location.searchParams.get('state'), state)
      assert.equal(location.searchParams.get('iss'), ISSUER)
      assert.equal(location.searchParams.get('code'), null)
      assert.equal(await codes(), before, 'nothing stored')
      assert.ok(!location.href.includes('x'.repeat(100)), 'oversized values are not echoed')
    })
  }

  it('a duplicated state → invalid_request without echoing either value', async () => {
    const { url } = await authorizationUrl(ISSUER, { client_id: 'web', redirect_uri: WEB_REDIRECT })
    url.searchParams.append('state', 'second')
    const location = new URL((await op.handler(new Request(url))).headers.get('location') ?? '')
    assert.equal(location.searchParams.get('error'), 'invalid_request')
    assert.equal(location.searchParams.get('state'), null)
    assert.equal(location.searchParams.get('iss'), ISSUER)
  })

  it('duplicated code_challenge or scope → invalid_request', async () => {
    for (const name of ['code_challenge', 'scope', 'nonce', 'response_type']) {
      const { url } = await authorizationUrl(ISSUER, {
        client_id: 'web',
        redirect_uri: WEB_REDIRECT,
      })
      url.searchParams.append(name, url.searchParams.get(name) ?? 'x')
      const location = new URL((await op.handler(new Request(url))).headers.get('location') ?? '')
      assert.equal(location.searchParams.get('error'), 'invalid_request', name)
    }
  })
})

describe('authorization endpoint: accepted requests', () => {
  it('starts an interaction bound to the browser (GET and POST)', async () => {
    const { url } = await authorizationUrl(ISSUER, { client_id: 'web', redirect_uri: WEB_REDIRECT })
    const get = await op.handler(new Request(url))
    assert.equal(get.status, 303)
    assert.match(
      get.headers.get('location') ?? '',
      /^http:\/\/127\.0\.0\.1:9000\/interaction\/[A-Za-z0-9_-]{22}$/,
    )
    const cookie = get.headers.getSetCookie()[0] ?? ''
    assert.match(
      cookie,
      // The record sealed in the cookie (a compact JWE, `dir`), nothing stored (sealed.ts).
      /^ak_op_interaction=eyJ[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}; Path=\/interaction\/([A-Za-z0-9_-]{22}); Max-Age=600; HttpOnly; SameSite=Lax$/,
    )
    const post = await op.handler(
      new Request(`${ISSUER}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: url.searchParams.toString(),
      }),
    )
    assert.equal(post.status, 303)
    assert.match(post.headers.get('location') ?? '', /\/interaction\//)
  })

  it('accepts plain PKCE from a client that opted in, and any loopback port for a native client', async () => {
    const legacy = await authorizationUrl(ISSUER, {
      client_id: 'legacy',
      redirect_uri: WEB_REDIRECT,
      code_challenge_method: 'plain',
      code_challenge: 'p'.repeat(43),
    })
    assert.match(
      (await op.handler(new Request(legacy.url))).headers.get('location') ?? '',
      /\/interaction\//,
    )
    const native = await authorizationUrl(ISSUER, {
      client_id: 'cli',
      redirect_uri: 'http://127.0.0.1:53122/callback',
    })
    assert.match(
      (await op.handler(new Request(native.url))).headers.get('location') ?? '',
      /\/interaction\//,
    )
    const nativeWrongPath = await authorizationUrl(ISSUER, {
      client_id: 'cli',
      redirect_uri: 'http://127.0.0.1:53122/other',
    })
    assert.equal((await op.handler(new Request(nativeWrongPath.url))).status, 400)
  })

  it('refuses other methods and non-form bodies', async () => {
    const put = await op.handler(new Request(`${ISSUER}/authorize`, { method: 'PUT' }))
    assert.equal(put.status, 405)
    const jsonBody = await op.handler(
      new Request(`${ISSUER}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    )
    assert.equal(jsonBody.status, 400)
  })
})

describe('browser helper sanity', () => {
  it('keeps cookies per path', async () => {
    const browser = new Browser(op.handler)
    const { url } = await authorizationUrl(ISSUER, { client_id: 'web', redirect_uri: WEB_REDIRECT })
    await browser.get(url)
    assert.ok(browser.cookies.has('ak_op_interaction'))
  })
})
