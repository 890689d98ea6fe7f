// The bearer guard and DPoP (RFC 9449 §7): a bound token (cnf.jkt) passes only as
// `Authorization: DPoP` with a proof of its key over this request (ath included), once; it is
// refused as a bearer token with or without the dpop option; `required` refuses bearer tokens;
// nonces answer use_dpop_nonce with DPoP-Nonce; a replay cache that fails gives 503. Exact
// statuses, challenges and codes; no answer echoes the token. The last test takes a real DPoP
// token from our OP on loopback.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { describe, it } from 'node:test'
import { serve } from '../../../src/dev-idp/serve.ts'
import {
  createDpopProof,
  createMemoryReplayCache,
  type DpopKey,
  generateDpopKey,
} from '../../../src/dpop/index.ts'
import { bearer } from '../../../src/index.ts'
import { createOp } from '../../../src/op/create-op.ts'
import {
  AUD,
  assertRefusal,
  clock,
  goodClaims,
  ISS,
  JWKS_URI,
  localIssuer,
  principal,
  sign,
} from './helpers.ts'

const URL_ = `${AUD}/orders`
const ALGS = 'algs="ES256 ES384 PS256 RS256 EdDSA"'
const silent = { warn() {} }

/** `null`: no dpop option at all. */
async function setup(dpop: Parameters<typeof bearer>[0]['dpop'] | null = {}) {
  const issuer = await localIssuer()
  const key = await generateDpopKey()
  const guard = bearer({
    jwksUri: JWKS_URI,
    issuer: ISS,
    audience: AUD,
    fetch: issuer.fetch,
    clock,
    logger: silent,
    ...(dpop === null ? {} : { dpop }),
  })
  const bound = await sign(issuer.key, { ...goodClaims(), cnf: { jkt: key.thumbprint } })
  const plain = await sign(issuer.key, goodClaims())
  return { issuer, key, guard, bound, plain }
}

const proofFor = (
  key: DpopKey,
  accessToken?: string,
  extra: { url?: string; method?: string; nonce?: string } = {},
) =>
  createDpopProof(
    key,
    {
      method: extra.method ?? 'GET',
      url: extra.url ?? URL_,
      ...(accessToken === undefined ? {} : { accessToken }),
      ...(extra.nonce === undefined ? {} : { nonce: extra.nonce }),
    },
    clock,
  )

const dpopRequest = (token: string, proof?: string, url = URL_) =>
  new Request(url, {
    headers: { authorization: `DPoP ${token}`, ...(proof === undefined ? {} : { dpop: proof }) },
  })

describe('bearer guard with DPoP (RFC 9449 §7)', () => {
  it('accepts a bound token with a proof of its key, once; the principal names the key', async () => {
    const { guard, key, bound } = await setup()
    const proof = await proofFor(key, bound)
    const who = principal(await guard(dpopRequest(bound, proof)))
    assert.equal(who.subject, 'user-1')
    assert.equal(who.senderKey, key.thumbprint)
    await assertRefusal(await guard(dpopRequest(bound, proof)), {
      status: 401,
      challenge: `DPoP realm="authkestra", error="invalid_dpop_proof", ${ALGS}`,
      error: 'invalid_dpop_proof',
      secret: bound,
    })
  })

  it('refuses a bound token as Bearer, with or without the dpop option', async () => {
    for (const dpop of [null, {}]) {
      const { guard, bound } = await setup(dpop)
      await assertRefusal(
        await guard(new Request(URL_, { headers: { authorization: `Bearer ${bound}` } })),
        {
          status: 401,
          challenge: 'Bearer realm="authkestra", error="invalid_token"',
          error: 'invalid_token',
          secret: bound,
        },
      )
    }
  })

  it('refuses a proof of another key, for another URL or method, without ath, or none at all', async () => {
    const { guard, key, bound } = await setup()
    const thief = await generateDpopKey()
    const cases: [string, string | undefined][] = [
      ['another key', await proofFor(thief, bound)],
      ['another URL', await proofFor(key, bound, { url: `${AUD}/admin` })],
      ['another method', await proofFor(key, bound, { method: 'POST' })],
      ['no ath', await proofFor(key)],
      ['ath of another token', await proofFor(key, 'other-token')],
      ['no proof', undefined],
    ]
    for (const [name, proof] of cases) {
      const body = await assertRefusal(await guard(dpopRequest(bound, proof)), {
        status: 401,
        challenge: `DPoP realm="authkestra", error="invalid_dpop_proof", ${ALGS}`,
        error: 'invalid_dpop_proof',
        secret: bound,
      })
      assert.equal(typeof body.error_description, 'string', name)
    }
  })

  it('a plain bearer token sent with the DPoP scheme is invalid_token; `required` refuses bearer tokens', async () => {
    const { guard, key, plain } = await setup()
    await assertRefusal(await guard(dpopRequest(plain, await proofFor(key, plain))), {
      status: 401,
      challenge: `DPoP realm="authkestra", error="invalid_token", ${ALGS}`,
      error: 'invalid_token',
    })
    assert.ok(
      (await guard(new Request(URL_, { headers: { authorization: `Bearer ${plain}` } }))).ok,
      'bearer tokens still pass without `required`',
    )
    const strict = await setup({ required: true })
    await assertRefusal(
      await strict.guard(
        new Request(URL_, { headers: { authorization: `Bearer ${strict.plain}` } }),
      ),
      {
        status: 401,
        challenge: `DPoP realm="authkestra", error="invalid_token", ${ALGS}`,
        error: 'invalid_token',
      },
    )
  })

  it('no token: one challenge per scheme accepted', async () => {
    const both = await setup()
    await assertRefusal(await both.guard(new Request(URL_)), {
      status: 401,
      challenge: `Bearer realm="authkestra", DPoP realm="authkestra", ${ALGS}`,
      error: 'unauthorized',
    })
    const strict = await setup({ required: true, algorithms: ['ES256'] })
    await assertRefusal(await strict.guard(new Request(URL_)), {
      status: 401,
      challenge: 'DPoP realm="authkestra", algs="ES256"',
      error: 'unauthorized',
    })
    const off = await setup(null)
    await assertRefusal(await off.guard(dpopRequest(off.bound)), {
      status: 401,
      challenge: 'Bearer realm="authkestra"',
      error: 'unauthorized',
    })
  })

  it('nonces: use_dpop_nonce with DPoP-Nonce, then the retry passes', async () => {
    const { guard, key, bound } = await setup({ nonce: { secret: 'x'.repeat(32) } })
    const first = await guard(dpopRequest(bound, await proofFor(key, bound)))
    assert.equal(first.ok, false)
    if (first.ok) return
    const nonce = first.response.headers.get('dpop-nonce') ?? ''
    assert.match(nonce, /^[A-Za-z0-9_-]{32}$/)
    await assertRefusal(first, {
      status: 401,
      challenge: `DPoP realm="authkestra", error="use_dpop_nonce", ${ALGS}`,
      error: 'use_dpop_nonce',
    })
    assert.ok((await guard(dpopRequest(bound, await proofFor(key, bound, { nonce })))).ok)
  })

  it('a replay cache that fails: 503, never a pass', async () => {
    const { guard, key, bound } = await setup({
      replay: {
        use: async () => {
          throw new Error('redis down')
        },
      },
    })
    await assertRefusal(await guard(dpopRequest(bound, await proofFor(key, bound))), {
      status: 503,
      challenge: null,
      error: 'temporarily_unavailable',
    })
  })

  it('a shared replay cache sees a proof replayed at another instance; a proxy URL is honoured', async () => {
    const replay = createMemoryReplayCache({ clock })
    const a = await setup({ replay, url: () => 'https://public.example/api/orders?x=1' })
    const guardB = bearer({
      jwksUri: JWKS_URI,
      issuer: ISS,
      audience: AUD,
      fetch: a.issuer.fetch,
      clock,
      logger: silent,
      dpop: { replay, url: () => 'https://public.example/api/orders' },
    })
    const proof = await proofFor(a.key, a.bound, { url: 'https://public.example/api/orders' })
    assert.ok((await a.guard(dpopRequest(a.bound, proof))).ok)
    assert.equal((await guardB(dpopRequest(a.bound, proof))).ok, false)
  })

  it('refuses bad dpop options, naming the field', () => {
    const base = { secret: 's'.repeat(32), issuer: ISS, audience: AUD }
    assert.throws(
      () => bearer({ ...base, dpop: { algorithms: ['HS256' as never] } }),
      /dpop\.algorithms/,
    )
    assert.throws(() => bearer({ ...base, dpop: { proofMaxAgeSeconds: 0 } }), /proofMaxAgeSeconds/)
    assert.throws(() => bearer({ ...base, dpop: { nonce: { secret: 'short' } } }), /32 bytes/)
    assert.throws(() => bearer({ ...base, dpop: { replay: {} as never } }), /dpop\.replay/)
  })

  it('a DPoP token from our OP on loopback passes the guard with a proof, and only with it', async () => {
    let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
    const server: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
    const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      const op = await createOp({
        issuer,
        logger: { warn() {}, error() {} },
        clients: [
          {
            client_id: 'svc',
            client_secret: 'svc-secret-0123456789abcdefghijklmnop',
            redirect_uris: [],
            grant_types: ['client_credentials'],
            dpop_bound_access_tokens: true,
          },
        ],
      })
      handler = op.handler
      const key = await generateDpopKey({ alg: 'EdDSA' })
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${btoa('svc:svc-secret-0123456789abcdefghijklmnop')}`,
          'content-type': 'application/x-www-form-urlencoded',
          dpop: await createDpopProof(key, { method: 'POST', url: `${issuer}/token` }),
        },
        body: 'grant_type=client_credentials',
      })
      const body = (await response.json()) as { access_token: string; token_type: string }
      assert.equal(body.token_type, 'DPoP')
      const guard = bearer({ issuer, audience: issuer, logger: silent, dpop: { required: true } })
      const api = 'http://127.0.0.1:1/orders'
      const proof = await createDpopProof(key, {
        method: 'GET',
        url: api,
        accessToken: body.access_token,
      })
      assert.equal(
        principal(await guard(dpopRequest(body.access_token, proof, api))).subject,
        'svc',
      )
      const asBearer = await guard(
        new Request(api, { headers: { authorization: `Bearer ${body.access_token}` } }),
      )
      assert.equal(asBearer.ok, false)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
