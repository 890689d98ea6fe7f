// DPoP (RFC 9449) at our OP: a proof at the token endpoint binds the access token (cnf.jkt,
// token_type DPoP) and, for a public client, the refresh token; userinfo then wants the DPoP
// scheme with a proof of that key over the request (ath). Hostile: a bound token as Bearer, a
// proof of another key, a replayed proof, a proof for another URI, dpop_jkt mismatch, a client
// registered for DPoP sending none, nonces. Every refusal has its exact status and code, the
// store gains nothing from it, and nothing of the input comes back.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { createDpopProof, type DpopKey, generateDpopKey } from '../../src/dpop/index.ts'
import type { OpConfig } from '../../src/op/config.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'

const ISSUER = 'http://127.0.0.1:9000'
const TOKEN = `${ISSUER}/token`
const USERINFO = `${ISSUER}/userinfo`
const CB = 'https://app.example/cb'
const SECRET = 'conf-secret-0123456789abcdefghijklmn'
const VERIFIER = 'v'.repeat(43)

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
      {
        client_id: 'spa',
        token_endpoint_auth_method: 'none',
        redirect_uris: [CB],
        grant_types: ['authorization_code', 'refresh_token'],
      },
      {
        client_id: 'conf',
        client_secret: SECRET,
        redirect_uris: [CB],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        dpop_bound_access_tokens: true,
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', sub: 'alice-sub', claims: {} }],
    ...patch,
  })
  const proof = (
    key: DpopKey,
    extra: { url?: string; method?: string; accessToken?: string; nonce?: string } = {},
  ) =>
    createDpopProof(
      key,
      {
        method: extra.method ?? 'POST',
        url: extra.url ?? TOKEN,
        ...(extra.accessToken === undefined ? {} : { accessToken: extra.accessToken }),
        ...(extra.nonce === undefined ? {} : { nonce: extra.nonce }),
      },
      clock,
    )
  const token = async (form: Record<string, string>, headers: Record<string, string> = {}) => {
    const response = await op.handler(
      new Request(TOKEN, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form),
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
  const code = async (clientId: string, extra: Record<string, string> = {}) => {
    const url = new URL(`${ISSUER}/authorize`)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: CB,
      scope: 'openid offline_access',
      code_challenge: await challengeOf(VERIFIER),
      code_challenge_method: 'S256',
      ...extra,
    }).toString()
    const response = await op.handler(new Request(url))
    const location = new URL(response.headers.get('location') ?? '')
    return { code: location.searchParams.get('code') ?? '', location }
  }
  const redeem = (c: string, clientId: string, headers: Record<string, string> = {}) =>
    token(
      {
        grant_type: 'authorization_code',
        code: c,
        redirect_uri: CB,
        code_verifier: VERIFIER,
        ...(clientId === 'spa' ? { client_id: 'spa' } : {}),
      },
      clientId === 'conf'
        ? { authorization: `Basic ${btoa(`conf:${SECRET}`)}`, ...headers }
        : headers,
    )
  const userinfo = async (authorization: string, headers: Record<string, string> = {}) => {
    const response = await op.handler(
      new Request(USERINFO, { headers: { authorization, ...headers } }),
    )
    const text = await response.text()
    return { status: response.status, headers: response.headers, text }
  }
  return { op, store, now, proof, token, code, redeem, userinfo }
}

describe('OP DPoP (RFC 9449)', () => {
  it('binds the access token (cnf.jkt, token_type DPoP) and a public client refresh token to the key', async () => {
    const w = await world()
    const key = await generateDpopKey()
    const { code } = await w.code('spa')
    const res = await w.redeem(code, 'spa', { dpop: await w.proof(key) })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.token_type, 'DPoP')
    const access = String(res.body.access_token)
    assert.deepEqual(decodeJwt(access).cnf, { jkt: key.thumbprint })

    // Userinfo with the DPoP scheme and a proof over this request.
    const ok = await w.userinfo(`DPoP ${access}`, {
      dpop: await w.proof(key, { method: 'GET', url: USERINFO, accessToken: access }),
    })
    assert.equal(ok.status, 200, ok.text)
    assert.equal(JSON.parse(ok.text).sub, 'alice-sub')

    // The refresh token works only with a proof of the same key, and stays bound.
    const refreshForm = {
      grant_type: 'refresh_token',
      client_id: 'spa',
      refresh_token: String(res.body.refresh_token),
    }
    const bare = await w.token(refreshForm)
    assert.equal(bare.status, 400)
    assert.equal(bare.body.error, 'invalid_dpop_proof')
    const other = await w.token(refreshForm, { dpop: await w.proof(await generateDpopKey()) })
    assert.equal(other.status, 400)
    assert.equal(other.body.error, 'invalid_grant')
    const again = await w.token(refreshForm, { dpop: await w.proof(key) })
    assert.equal(again.status, 200, again.text)
    assert.equal(again.body.token_type, 'DPoP')
    const next = await w.token(
      { ...refreshForm, refresh_token: String(again.body.refresh_token) },
      { dpop: await w.proof(await generateDpopKey()) },
    )
    assert.equal(next.body.error, 'invalid_grant', 'the rotated refresh token is bound too')
  })

  it('introspection reports a bound token as DPoP with its cnf', async () => {
    const w = await world()
    const key = await generateDpopKey()
    const issued = await w.token(
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${btoa(`conf:${SECRET}`)}`, dpop: await w.proof(key) },
    )
    assert.equal(issued.status, 200, issued.text)
    const response = await w.op.handler(
      new Request(`${ISSUER}/introspect`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa(`conf:${SECRET}`)}`,
        },
        body: new URLSearchParams({ token: String(issued.body.access_token) }),
      }),
    )
    const body = (await response.json()) as Record<string, unknown>
    assert.equal(body.active, true)
    assert.equal(body.token_type, 'DPoP')
    assert.deepEqual(body.cnf, { jkt: key.thumbprint })
  })

  it('a bound token as Bearer, with another key, without a proof, with a replayed proof: 401 at userinfo', async () => {
    const w = await world()
    const key = await generateDpopKey()
    const { code } = await w.code('spa')
    const access = String(
      (await w.redeem(code, 'spa', { dpop: await w.proof(key) })).body.access_token,
    )
    const asBearer = await w.userinfo(`Bearer ${access}`)
    assert.equal(asBearer.status, 401)
    assert.match(
      asBearer.headers.get('www-authenticate') ?? '',
      // A bound token is answered in the scheme it needs (RFC 9449 §7.1), whatever it came in.
      /^DPoP realm="[^"]+", error="invalid_token", algs="[^"]+"$/,
    )

    const noProof = await w.userinfo(`DPoP ${access}`)
    assert.equal(noProof.status, 401)
    assert.match(
      noProof.headers.get('www-authenticate') ?? '',
      /^DPoP realm="[^"]+", error="invalid_dpop_proof", algs="ES256 /,
    )

    const thief = await generateDpopKey()
    const stolen = await w.userinfo(`DPoP ${access}`, {
      dpop: await w.proof(thief, { method: 'GET', url: USERINFO, accessToken: access }),
    })
    assert.equal(stolen.status, 401)
    assert.equal(JSON.parse(stolen.text).error, 'invalid_dpop_proof')

    const wrongUri = await w.userinfo(`DPoP ${access}`, {
      dpop: await w.proof(key, { method: 'GET', url: `${ISSUER}/other`, accessToken: access }),
    })
    assert.equal(JSON.parse(wrongUri.text).error, 'invalid_dpop_proof')
    const noAth = await w.userinfo(`DPoP ${access}`, {
      dpop: await w.proof(key, { method: 'GET', url: USERINFO }),
    })
    assert.equal(JSON.parse(noAth.text).error, 'invalid_dpop_proof')

    const once = await w.proof(key, { method: 'GET', url: USERINFO, accessToken: access })
    assert.equal((await w.userinfo(`DPoP ${access}`, { dpop: once })).status, 200)
    const replayed = await w.userinfo(`DPoP ${access}`, { dpop: once })
    assert.equal(replayed.status, 401)
    assert.equal(JSON.parse(replayed.text).error, 'invalid_dpop_proof')

    // A plain bearer token sent as DPoP is refused too.
    const plain = await w.code('spa')
    const bearer = String((await w.redeem(plain.code, 'spa')).body.access_token)
    const downgraded = await w.userinfo(`DPoP ${bearer}`, {
      dpop: await w.proof(key, { method: 'GET', url: USERINFO, accessToken: bearer }),
    })
    assert.equal(downgraded.status, 401)
    assert.equal(JSON.parse(downgraded.text).error, 'invalid_token')
  })

  it('refused proofs at the token endpoint: exact code, the code not spent, nothing echoed', async () => {
    const w = await world()
    const key = await generateDpopKey()
    const { code } = await w.code('spa')
    const cases: [string, string][] = [
      ['malformed', 'not-a-jwt<script>'],
      ['for another URI', await w.proof(key, { url: `${ISSUER}/userinfo` })],
      ['for another method', await w.proof(key, { method: 'GET' })],
      ['two headers', `${await w.proof(key)}, ${await w.proof(key)}`],
    ]
    for (const [name, dpop] of cases) {
      const size = w.store.size()
      const res = await w.redeem(code, 'spa', { dpop })
      assert.equal(res.status, 400, name)
      assert.equal(res.body.error, 'invalid_dpop_proof', name)
      assert.ok(!res.text.includes('<script>'), name)
      assert.equal(w.store.size(), size, `${name}: nothing stored`)
    }
    const used = await w.proof(key)
    const ok = await w.redeem(code, 'spa', { dpop: used })
    assert.equal(ok.status, 200, 'the code survived every refused proof')
    const second = await w.code('spa')
    const replay = await w.redeem(second.code, 'spa', { dpop: used })
    assert.equal(replay.body.error, 'invalid_dpop_proof')
    const stale = await w.proof(key)
    w.now.value += 120_000
    assert.equal(
      (await w.redeem(second.code, 'spa', { dpop: stale })).body.error,
      'invalid_dpop_proof',
    )
  })

  it('dpop_jkt binds the code to a key (RFC 9449 §10); a malformed one is refused at authorize', async () => {
    const w = await world()
    const key = await generateDpopKey()
    const bound = await w.code('spa', { dpop_jkt: key.thumbprint })
    const withoutProof = await w.redeem(bound.code, 'spa')
    assert.equal(withoutProof.status, 400)
    assert.equal(withoutProof.body.error, 'invalid_grant')
    const bound2 = await w.code('spa', { dpop_jkt: key.thumbprint })
    const otherKey = await w.redeem(bound2.code, 'spa', {
      dpop: await w.proof(await generateDpopKey()),
    })
    assert.equal(otherKey.body.error, 'invalid_grant')
    const bound3 = await w.code('spa', { dpop_jkt: key.thumbprint })
    assert.equal((await w.redeem(bound3.code, 'spa', { dpop: await w.proof(key) })).status, 200)
    const bad = await w.code('spa', { dpop_jkt: 'short' })
    assert.equal(bad.location.searchParams.get('error'), 'invalid_request')
    assert.equal(bad.location.searchParams.get('code'), null)
  })

  it('a client registered with dpop_bound_access_tokens must send a proof', async () => {
    const w = await world()
    const basic = { authorization: `Basic ${btoa(`conf:${SECRET}`)}` }
    const res = await w.token({ grant_type: 'client_credentials' }, basic)
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'invalid_dpop_proof')
    const key = await generateDpopKey()
    const ok = await w.token(
      { grant_type: 'client_credentials' },
      { ...basic, dpop: await w.proof(key) },
    )
    assert.equal(ok.body.token_type, 'DPoP')
    // A confidential client's refresh token is bound by its authentication, not to the key.
    const { code } = await w.code('conf')
    const tokens = await w.redeem(code, 'conf', { dpop: await w.proof(key) })
    const refreshed = await w.token(
      { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) },
      { ...basic, dpop: await w.proof(await generateDpopKey()) },
    )
    assert.equal(refreshed.status, 200, refreshed.text)
  })

  it('nonce required: use_dpop_nonce with DPoP-Nonce, then the retry passes; discovery lists the algs', async () => {
    const w = await world({ dpop: { nonce: 'required', nonceSecret: 'n'.repeat(32) } })
    const key = await generateDpopKey()
    const { code } = await w.code('spa')
    const first = await w.redeem(code, 'spa', { dpop: await w.proof(key) })
    assert.equal(first.status, 400)
    assert.equal(first.body.error, 'use_dpop_nonce')
    const nonce = first.headers.get('dpop-nonce') ?? ''
    assert.match(nonce, /^[A-Za-z0-9_-]{32}$/)
    const retry = await w.redeem(code, 'spa', { dpop: await w.proof(key, { nonce }) })
    assert.equal(retry.status, 200, retry.text)
    assert.equal(retry.headers.get('dpop-nonce'), nonce)
    const access = String(retry.body.access_token)
    const ui = await w.userinfo(`DPoP ${access}`, {
      dpop: await w.proof(key, { method: 'GET', url: USERINFO, accessToken: access }),
    })
    assert.equal(ui.status, 401)
    assert.match(ui.headers.get('www-authenticate') ?? '', /error="use_dpop_nonce"/)
    assert.equal(ui.headers.get('dpop-nonce'), nonce)
    const metadata = (await (
      await w.op.handler(new Request(`${ISSUER}/.well-known/openid-configuration`))
    ).json()) as Record<string, unknown>
    assert.deepEqual(metadata.dpop_signing_alg_values_supported, [
      'ES256',
      'PS256',
      'EdDSA',
      'Ed25519',
      'RS256',
      'ES384',
    ])
  })

  it('refuses bad dpop configuration, naming the field', async () => {
    await assert.rejects(world({ dpop: { algorithms: ['HS256' as never] } }), /dpop\.algorithms/)
    await assert.rejects(
      world({ dpop: { nonce: 'required', nonceSecret: 'short' } }),
      /nonceSecret/,
    )
    await assert.rejects(world({ dpop: { proofMaxAgeSeconds: 1 } }), /proofMaxAgeSeconds/)
  })
})
