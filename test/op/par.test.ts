// Pushed Authorization Requests (RFC 9126) at our OP: a client pushes what it would have put in
// the URL and gets a one-time, short-lived request_uri; the authorization endpoint then reads
// nothing but client_id and request_uri. Hostile: a request_uri reused, expired, for another
// client, malformed; pushes that are unauthenticated, carry request_uri, an unregistered
// redirect URI or a request object; a client that must push sending a plain request. Every
// refusal has its exact status and code, stores nothing and echoes nothing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { createDpopProof, generateDpopKey } from '../../src/dpop/index.ts'
import type { OpConfig } from '../../src/op/config.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'

const ISSUER = 'http://127.0.0.1:9000'
const PAR = `${ISSUER}/par`
const CB = 'https://app.example/cb'
const SECRET = 'conf-secret-0123456789abcdefghijklmn'
const VERIFIER = 'v'.repeat(43)
const PLANT = '<script>planted</script>'
const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`

async function challengeOf(verifier: string) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

async function world(patch: Partial<OpConfig> = {}) {
  const now = { value: Date.now() }
  const clock = { now: () => now.value }
  const store = createMemoryOpStore({ clock })
  const op = await createOp({
    issuer: ISSUER,
    store,
    clock,
    logger: { warn() {}, error() {} },
    dangerouslyAutoLogin: 'alice',
    clients: [
      { client_id: 'conf', client_secret: SECRET, redirect_uris: [CB] },
      { client_id: 'other', client_secret: SECRET, redirect_uris: [CB] },
      { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: [CB] },
      {
        client_id: 'strict',
        client_secret: SECRET,
        redirect_uris: [CB],
        require_pushed_authorization_requests: true,
      },
      {
        client_id: 'machine',
        client_secret: SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', sub: 'alice-sub', claims: {} }],
    ...patch,
  })
  const authorizationParams = async (extra: Record<string, string | undefined> = {}) => {
    const all: Record<string, string | undefined> = {
      response_type: 'code',
      redirect_uri: CB,
      scope: 'openid',
      state: 'st-1',
      code_challenge: await challengeOf(VERIFIER),
      code_challenge_method: 'S256',
      ...extra,
    }
    return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >
  }
  const push = async (
    clientId: string,
    extra: Record<string, string | undefined> = {},
    headers: Record<string, string> = {},
    method = 'POST',
  ) => {
    const form = await authorizationParams(extra)
    if (clientId === 'spa') form.client_id = 'spa'
    const response = await op.handler(
      new Request(PAR, {
        method,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(clientId === 'spa' ? {} : { authorization: basic(clientId, SECRET) }),
          ...headers,
        },
        ...(method === 'POST' ? { body: new URLSearchParams(form) } : {}),
      }),
    )
    const text = await response.text()
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: JSON.parse(text) as Record<string, unknown>,
    }
  }
  const authorize = async (query: Record<string, string>) => {
    const url = new URL(`${ISSUER}/authorize`)
    url.search = new URLSearchParams(query).toString()
    const response = await op.handler(new Request(url))
    return { status: response.status, location: response.headers.get('location'), response }
  }
  const redeem = async (code: string, clientId: string, headers: Record<string, string> = {}) => {
    const response = await op.handler(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(clientId === 'spa' ? {} : { authorization: basic(clientId, SECRET) }),
          ...headers,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: CB,
          code_verifier: VERIFIER,
          ...(clientId === 'spa' ? { client_id: 'spa' } : {}),
        }),
      }),
    )
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  return { op, store, now, push, authorize, redeem, authorizationParams }
}

describe('OP PAR (RFC 9126)', () => {
  it('is advertised in discovery', async () => {
    const w = await world()
    const meta = w.op.metadata()
    assert.equal(meta.pushed_authorization_request_endpoint, PAR)
    assert.equal(meta.require_pushed_authorization_requests, false)
    const strict = await world({ par: { required: true } })
    assert.equal(strict.op.metadata().require_pushed_authorization_requests, true)
  })

  it('pushes, redeems once with client_id + request_uri, and the code works', async () => {
    for (const client of ['conf', 'spa', 'strict']) {
      const w = await world()
      const pushed = await w.push(client)
      assert.equal(pushed.status, 201, pushed.text)
      assert.equal(pushed.headers.get('cache-control'), 'no-store')
      assert.match(String(pushed.body.request_uri), /^urn:ietf:params:oauth:request_uri:[\w-]{43}$/)
      assert.equal(pushed.body.expires_in, 60)
      const { status, location } = await w.authorize({
        client_id: client,
        request_uri: String(pushed.body.request_uri),
      })
      assert.equal(status, 303)
      const back = new URL(location ?? '')
      assert.equal(`${back.origin}${back.pathname}`, CB)
      assert.equal(back.searchParams.get('state'), 'st-1')
      assert.equal(back.searchParams.get('iss'), ISSUER)
      const tokens = await w.redeem(back.searchParams.get('code') ?? '', client)
      assert.equal(tokens.status, 200, `${client}: ${JSON.stringify(tokens.body)}`)
    }
  })

  it('reads nothing of the URL but client_id and request_uri', async () => {
    const w = await world()
    const pushed = await w.push('conf')
    const { location } = await w.authorize({
      client_id: 'conf',
      request_uri: String(pushed.body.request_uri),
      redirect_uri: 'https://evil.example/cb',
      state: 'attacker-state',
      scope: 'openid offline_access',
      code_challenge: 'a'.repeat(43),
    })
    const back = new URL(location ?? '')
    assert.equal(`${back.origin}${back.pathname}`, CB)
    assert.equal(back.searchParams.get('state'), 'st-1')
    const tokens = await w.redeem(back.searchParams.get('code') ?? '', 'conf')
    assert.equal(tokens.status, 200, 'the pushed code_challenge still holds')
    assert.equal(tokens.body.refresh_token, undefined, 'the pushed scope, not the URL one')
  })

  it('refuses a request_uri reused, expired, for another client or malformed: the OP page', async () => {
    const w = await world()
    const first = await w.push('conf')
    const uri = String(first.body.request_uri)
    assert.equal((await w.authorize({ client_id: 'conf', request_uri: uri })).status, 303)
    const cases: [string, () => Promise<Record<string, string>>][] = [
      ['reused', async () => ({ client_id: 'conf', request_uri: uri })],
      [
        'expired',
        async () => {
          const p = await w.push('conf')
          w.now.value += 61_000
          return { client_id: 'conf', request_uri: String(p.body.request_uri) }
        },
      ],
      [
        'pushed by another client',
        async () => ({
          client_id: 'other',
          request_uri: String((await w.push('conf')).body.request_uri),
        }),
      ],
      ['not ours', async () => ({ client_id: 'conf', request_uri: `https://x.example/${PLANT}` })],
      [
        'a reference of the wrong length',
        async () => ({
          client_id: 'conf',
          request_uri: `urn:ietf:params:oauth:request_uri:${PLANT}`,
        }),
      ],
      ['no client_id', async () => ({ request_uri: uri })],
    ]
    for (const [name, query] of cases) {
      const { status, location, response } = await w.authorize(await query())
      assert.equal(status, 400, name)
      assert.equal(location, null, `${name}: no redirect`)
      assert.ok(!(await response.text()).includes('planted'), `${name}: nothing echoed`)
    }
    // A request_uri tried by another client is spent: its own client cannot use it either.
    const stolen = String((await w.push('conf')).body.request_uri)
    assert.equal((await w.authorize({ client_id: 'other', request_uri: stolen })).status, 400)
    assert.equal((await w.authorize({ client_id: 'conf', request_uri: stolen })).status, 400)
  })

  it('refuses bad pushes with the exact error, stores nothing, echoes nothing', async () => {
    const w = await world()
    const cases: [string, () => ReturnType<typeof w.push>, number, string][] = [
      ['GET', () => w.push('conf', {}, {}, 'GET'), 405, 'invalid_request'],
      [
        'wrong secret',
        () => w.push('conf', {}, { authorization: basic('conf', `${PLANT}-wrong`) }),
        401,
        'invalid_client',
      ],
      [
        'no client authentication',
        () => w.push('conf', {}, { authorization: '' }),
        401,
        'invalid_client',
      ],
      [
        'request_uri pushed',
        () => w.push('conf', { request_uri: `urn:${PLANT}` }),
        400,
        'invalid_request',
      ],
      [
        'unregistered redirect_uri',
        () => w.push('conf', { redirect_uri: `https://evil.example/${PLANT}` }),
        400,
        'invalid_request',
      ],
      [
        'no redirect_uri',
        () => w.push('conf', { redirect_uri: undefined }),
        400,
        'invalid_request',
      ],
      [
        'a request object',
        () => w.push('conf', { request: 'e30.e30.' }),
        400,
        'request_not_supported',
      ],
      [
        'response_type=token',
        () => w.push('conf', { response_type: 'token' }),
        400,
        'unsupported_response_type',
      ],
      ['unknown scope', () => w.push('conf', { scope: `openid ${PLANT}` }), 400, 'invalid_scope'],
      ['no PKCE', () => w.push('conf', { code_challenge: undefined }), 400, 'invalid_request'],
      [
        'plain PKCE',
        () => w.push('conf', { code_challenge_method: 'plain' }),
        400,
        'invalid_request',
      ],
      ['a client without the code flow', () => w.push('machine'), 400, 'unauthorized_client'],
    ]
    for (const [name, run, status, error] of cases) {
      const size = w.store.size()
      const res = await run()
      assert.equal(res.status, status, `${name}: ${res.text}`)
      assert.equal(res.body.error, error, name)
      assert.equal(res.headers.get('cache-control'), 'no-store', name)
      assert.ok(!res.text.includes('planted'), `${name}: nothing echoed`)
      assert.equal(w.store.size(), size, `${name}: nothing stored`)
    }
  })

  it('a client that must push, or every client of an OP that requires it, cannot skip PAR', async () => {
    const check = async (w: Awaited<ReturnType<typeof world>>, client: string) => {
      const size = w.store.size()
      const { status, location } = await w.authorize({
        client_id: client,
        ...(await w.authorizationParams()),
      })
      assert.equal(status, 303)
      const back = new URL(location ?? '')
      assert.equal(back.searchParams.get('error'), 'invalid_request')
      assert.equal(back.searchParams.get('code'), null)
      assert.equal(back.searchParams.get('state'), 'st-1')
      assert.equal(w.store.size(), size, 'nothing stored')
    }
    await check(await world(), 'strict')
    const all = await world({ par: { required: true } })
    await check(all, 'conf')
    await check(all, 'spa')
    // The same clients get through with a pushed request.
    const pushed = await all.push('spa')
    assert.equal(
      (await all.authorize({ client_id: 'spa', request_uri: String(pushed.body.request_uri) }))
        .status,
      303,
    )
    // Without the requirement, a plain request of an ordinary client still works.
    const plain = await (await world()).authorize({
      client_id: 'conf',
      ...(await (await world()).authorizationParams()),
    })
    assert.ok(new URL(plain.location ?? '').searchParams.get('code'))
  })

  it('a DPoP proof at PAR binds the code to its key (RFC 9449 §10.1)', async () => {
    const w = await world()
    const key = await generateDpopKey()
    const proofFor = (url: string) => createDpopProof(key, { method: 'POST', url })
    const pushed = await w.push('spa', {}, { dpop: await proofFor(PAR) })
    assert.equal(pushed.status, 201, pushed.text)
    const { location } = await w.authorize({
      client_id: 'spa',
      request_uri: String(pushed.body.request_uri),
    })
    const code = new URL(location ?? '').searchParams.get('code') ?? ''
    const other = await generateDpopKey()
    const wrong = await w.redeem(code, 'spa', {
      dpop: await createDpopProof(other, { method: 'POST', url: `${ISSUER}/token` }),
    })
    assert.equal(wrong.status, 400)
    assert.equal(wrong.body.error, 'invalid_grant', 'the code is bound to the pushed key')
    const ok = await w.redeem(code, 'spa', { dpop: await proofFor(`${ISSUER}/token`) })
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.deepEqual(decodeJwt(String(ok.body.access_token)).cnf, { jkt: key.thumbprint })

    // A proof for another URI, or of a key other than dpop_jkt names, is refused at the push.
    const size = w.store.size()
    const elsewhere = await w.push('spa', {}, { dpop: await proofFor(`${ISSUER}/token`) })
    assert.deepEqual([elsewhere.status, elsewhere.body.error], [400, 'invalid_dpop_proof'])
    const mismatch = await w.push(
      'spa',
      { dpop_jkt: other.thumbprint },
      { dpop: await proofFor(PAR) },
    )
    assert.deepEqual([mismatch.status, mismatch.body.error], [400, 'invalid_request'])
    assert.equal(w.store.size(), size + 1, 'only the sound proof’s jti is remembered, no request')
  })

  it('checks its configuration', async () => {
    for (const [par, field] of [
      [{ requestUriTtlSeconds: 0 }, 'par.requestUriTtlSeconds'],
      [{ requestUriTtlSeconds: 601 }, 'par.requestUriTtlSeconds'],
      [{ required: 'yes' }, 'par.required'],
    ] as const) {
      await assert.rejects(world({ par: par as NonNullable<OpConfig['par']> }), (err: Error) =>
        err.message.includes(field),
      )
    }
    await assert.rejects(
      world({
        clients: [
          {
            client_id: 'x',
            client_secret: SECRET,
            redirect_uris: [CB],
            require_pushed_authorization_requests: 'yes' as unknown as boolean,
          },
        ],
      }),
      (err: Error) => err.message.includes('clients[0].require_pushed_authorization_requests'),
    )
    const short = await world({ par: { requestUriTtlSeconds: 10 } })
    assert.equal((await short.push('conf')).body.expires_in, 10)
  })
})
