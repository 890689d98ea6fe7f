// Token Exchange (RFC 8693) on our OP: a confidential API trades a user's access token (or
// refresh or ID token, or a trusted issuer's JWT) for a token to call another API, as the
// policy allows; delegation with act (nested for chains) and may_act; scope narrowing only; a
// foreign, expired or revoked subject; no policy, a denying policy; every decision logged; the
// exchanged token dies with the original grant. Exact status and error for each refusal.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { OpConfig, TokenExchangeRequest } from '../../src/op/config.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createMemoryOpStore } from '../../src/op/store/memory.ts'

const ISSUER = 'http://127.0.0.1:9000'
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const AT = 'urn:ietf:params:oauth:token-type:access_token'
const API = { id: 'api', secret: 'api-secret-0123456789abcdefghijklmnop' }
const OTHER = { id: 'other', secret: 'other-secret-0123456789abcdefghijklm' }
const basic = (c: { id: string; secret: string }) => `Basic ${btoa(`${c.id}:${c.secret}`)}`

async function world(patch: Partial<OpConfig> = {}) {
  const now = { value: Date.now() }
  const clock = { now: () => now.value }
  const logs: string[] = []
  const asked: TokenExchangeRequest[] = []
  const op = await createOp({
    issuer: ISSUER,
    store: createMemoryOpStore({ clock }),
    clock,
    scopes: ['orders:read', 'orders:write'],
    logger: {
      warn: (m) => logs.push(`warn ${m}`),
      error: (m) => logs.push(`error ${m}`),
      info: (m) => logs.push(`info ${m}`),
    },
    dangerouslyAutoLogin: 'alice',
    clients: [
      {
        client_id: 'web',
        client_secret: 'web-secret-0123456789abcdefghijklmnop',
        redirect_uris: ['https://app.example/cb'],
        grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
        scope: 'orders:read orders:write',
      },
      {
        client_id: API.id,
        client_secret: API.secret,
        redirect_uris: [],
        grant_types: [GRANT, 'client_credentials'],
        scope: 'orders:read',
      },
      {
        client_id: OTHER.id,
        client_secret: OTHER.secret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
      },
      { client_id: 'public', redirect_uris: [], grant_types: [GRANT] },
    ],
    accounts: [{ username: 'alice', password: 'wonderland', sub: 'alice-sub' }],
    tokenExchange: {
      policy: (request) => {
        asked.push(request)
        return request.audience.includes('https://forbidden.example')
          ? { allow: false, reason: 'not to that API' }
          : { allow: true }
      },
    },
    ...patch,
  })
  const token = async (form: Record<string, string | string[]>, auth = basic(API)) => {
    const body = new URLSearchParams()
    for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x)
    const response = await op.handler(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
        body,
      }),
    )
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  /** alice's tokens for client web, through the code flow (auto-login). */
  const userTokens = async (scope = 'openid orders:read orders:write offline_access') => {
    const verifier = 'v'.repeat(43)
    const challenge = btoa(
      String.fromCharCode(
        ...new Uint8Array(
          await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
        ),
      ),
    )
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
    const url = new URL(`${ISSUER}/authorize`)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'web',
      redirect_uri: 'https://app.example/cb',
      scope,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString()
    const code =
      new URL((await op.handler(new Request(url))).headers.get('location') ?? '').searchParams.get(
        'code',
      ) ?? ''
    const { body } = await token(
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'https://app.example/cb',
        code_verifier: verifier,
      },
      `Basic ${btoa('web:web-secret-0123456789abcdefghijklmnop')}`,
    )
    return body as { access_token: string; refresh_token: string; id_token: string }
  }
  return { op, token, userTokens, logs, asked, now }
}

describe('OP token exchange (RFC 8693)', () => {
  it("trades a user's access token for one to another API: sub kept, client_id the API, aud the target, scope narrowed", async () => {
    const { token, userTokens, logs, asked } = await world()
    const user = await userTokens()
    const { status, body } = await token({
      grant_type: GRANT,
      subject_token: user.access_token,
      subject_token_type: AT,
      audience: 'https://billing.example',
      scope: 'orders:read',
    })
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.issued_token_type, AT)
    assert.equal(body.token_type, 'Bearer')
    assert.equal(body.scope, 'orders:read')
    const claims = decodeJwt(String(body.access_token))
    assert.equal(claims.sub, 'alice-sub')
    assert.equal(claims.client_id, 'api')
    assert.equal(claims.aud, 'https://billing.example')
    assert.equal(claims.act, undefined)
    assert.equal(asked[0]?.subject.clientId, 'web')
    assert.deepEqual(asked[0]?.audience, ['https://billing.example'])
    assert.ok(
      logs.some((l) =>
        /^info token exchange allowed \(client "api", subject "alice-sub"\) for https:\/\/billing\.example$/.test(
          l,
        ),
      ),
    )
  })

  it('delegation: act names the actor, nesting the subject’s own act; may_act is honoured', async () => {
    const { token, userTokens } = await world()
    const user = await userTokens()
    const actorToken = String((await token({ grant_type: 'client_credentials' })).body.access_token)
    const first = await token({
      grant_type: GRANT,
      subject_token: user.access_token,
      subject_token_type: AT,
      actor_token: actorToken,
      actor_token_type: AT,
    })
    assert.equal(first.status, 200, JSON.stringify(first.body))
    const firstClaims = decodeJwt(String(first.body.access_token))
    assert.deepEqual(firstClaims.act, { sub: 'api' })
    // The exchanged token exchanged again, by the same actor: a chain.
    const second = await token({
      grant_type: GRANT,
      subject_token: String(first.body.access_token),
      subject_token_type: AT,
      actor_token: actorToken,
      actor_token_type: AT,
    })
    // Its aud is this OP's (no target), so it verifies as ours: the chain nests.
    assert.equal(second.status, 200, JSON.stringify(second.body))
    assert.deepEqual(decodeJwt(String(second.body.access_token)).act, {
      sub: 'api',
      act: { sub: 'api' },
    })
  })

  it('a refresh token and an ID token of ours are subjects too (the refresh token not spent)', async () => {
    const { token, userTokens } = await world()
    const user = await userTokens()
    for (const [subject, type] of [
      [user.refresh_token, 'urn:ietf:params:oauth:token-type:refresh_token'],
      [user.id_token, 'urn:ietf:params:oauth:token-type:id_token'],
    ] as const) {
      const { status, body } = await token({
        grant_type: GRANT,
        subject_token: subject,
        subject_token_type: type,
        audience: 'https://billing.example',
      })
      assert.equal(status, 200, `${type}: ${JSON.stringify(body)}`)
      assert.equal(decodeJwt(String(body.access_token)).sub, 'alice-sub')
    }
    const refreshed = await token(
      { grant_type: 'refresh_token', refresh_token: user.refresh_token },
      `Basic ${btoa('web:web-secret-0123456789abcdefghijklmnop')}`,
    )
    assert.equal(refreshed.status, 200, 'the refresh token still works for its client')
  })

  it('a trusted issuer’s JWT is a subject; an untrusted one, or one for another audience, is not', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }
    const { token } = await world({
      tokenExchange: {
        policy: () => ({ allow: true }),
        trustedIssuers: [{ issuer: 'https://partner.example', jwks: { keys: [jwk] } }],
      },
    })
    const jwt = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey)
    const ok = await token({
      grant_type: GRANT,
      subject_token: await jwt({
        iss: 'https://partner.example',
        sub: 'p-user',
        aud: ISSUER,
        scope: 'orders:read',
      }),
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    })
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.equal(decodeJwt(String(ok.body.access_token)).sub, 'p-user')
    for (const claims of [
      { iss: 'https://evil.example', sub: 'x', aud: ISSUER },
      { iss: 'https://partner.example', sub: 'x', aud: 'https://someone-else.example' },
    ]) {
      const refused = await token({
        grant_type: GRANT,
        subject_token: await jwt(claims),
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      })
      assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_request'])
    }
  })

  it('the exchanged token dies with the grant it came from', async () => {
    const { op, token, userTokens } = await world()
    const user = await userTokens()
    const exchanged = await token({
      grant_type: GRANT,
      subject_token: user.access_token,
      subject_token_type: AT,
    })
    const introspect = async () =>
      (
        await op.handler(
          new Request(`${ISSUER}/introspect`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: basic(API),
            },
            body: new URLSearchParams({ token: String(exchanged.body.access_token) }),
          }),
        )
      ).json() as Promise<{ active: boolean }>
    assert.equal((await introspect()).active, true)
    await op.handler(
      new Request(`${ISSUER}/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa('web:web-secret-0123456789abcdefghijklmnop')}`,
        },
        body: new URLSearchParams({ token: user.refresh_token }),
      }),
    )
    assert.equal((await introspect()).active, false)
  })

  const refusals: {
    name: string
    form: (t: { access_token: string }) => Record<string, string | string[]>
    auth?: string
    status: number
    error: string
    log?: RegExp
  }[] = [
    {
      name: 'no subject_token',
      form: () => ({ grant_type: GRANT, subject_token_type: AT }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'an actor_token without its type',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: t.access_token,
        subject_token_type: AT,
        actor_token: t.access_token,
      }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'a refresh token asked for',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: t.access_token,
        subject_token_type: AT,
        requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
      }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'a forged subject token',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: `${t.access_token.slice(0, -4)}AAAA`,
        subject_token_type: AT,
      }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'an access token declared as an ID token',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: t.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'scope widening',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: t.access_token,
        subject_token_type: AT,
        scope: 'orders:read admin',
      }),
      status: 400,
      error: 'invalid_scope',
    },
    {
      name: 'a resource with a fragment',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: t.access_token,
        subject_token_type: AT,
        resource: 'https://api.example/#x',
      }),
      status: 400,
      error: 'invalid_target',
    },
    {
      name: 'a target the policy refuses',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: t.access_token,
        subject_token_type: AT,
        audience: ['https://ok.example', 'https://forbidden.example'],
      }),
      status: 400,
      error: 'invalid_target',
      log: /^warn token exchange refused \(client "api", subject "alice-sub"\): not to that API$/,
    },
    {
      name: 'a client not registered for the grant',
      form: (t) => ({ grant_type: GRANT, subject_token: t.access_token, subject_token_type: AT }),
      auth: basic(OTHER),
      status: 400,
      error: 'unauthorized_client',
    },
    {
      name: 'a public client',
      form: (t) => ({
        grant_type: GRANT,
        subject_token: t.access_token,
        subject_token_type: AT,
        client_id: 'public',
      }),
      auth: '',
      status: 400,
      error: 'unauthorized_client',
    },
  ]
  for (const row of refusals) {
    it(`refuses ${row.name}: ${row.status} ${row.error}, nothing issued or echoed`, async () => {
      const { token, userTokens, logs } = await world()
      const user = await userTokens()
      const { status, body } = await token(row.form(user), row.auth ?? basic(API))
      assert.deepEqual([status, body.error], [row.status, row.error], JSON.stringify(body))
      assert.equal(body.access_token, undefined)
      assert.ok(!String(body.error_description).includes(user.access_token.slice(0, 20)))
      if (row.log)
        assert.ok(
          logs.some((l) => row.log?.test(l)),
          logs.join('\n'),
        )
    })
  }

  it('refuses every exchange without a policy, and an expired subject', async () => {
    const { token, userTokens, logs } = await world({ tokenExchange: {} })
    const user = await userTokens()
    const refused = await token({
      grant_type: GRANT,
      subject_token: user.access_token,
      subject_token_type: AT,
    })
    assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_request'])
    assert.ok(logs.some((l) => /no tokenExchange.policy/.test(l)))
    const withPolicy = await world()
    const again = await withPolicy.userTokens()
    withPolicy.now.value += 700_000 // past exp and its 5 s leeway
    const expired = await withPolicy.token({
      grant_type: GRANT,
      subject_token: again.access_token,
      subject_token_type: AT,
    })
    assert.deepEqual([expired.status, expired.body.error], [400, 'invalid_request'])
  })

  it('advertises the grant type in discovery, and refuses bad trustedIssuers at start', async () => {
    const { op } = await world()
    assert.ok((op.metadata().grant_types_supported as string[]).includes(GRANT))
    await assert.rejects(
      world({
        tokenExchange: {
          trustedIssuers: [
            { issuer: 'https://p.example', jwks: { keys: [{ kty: 'EC', d: 'secret' }] } },
          ],
        },
      }),
      /private key/,
    )
    await assert.rejects(
      world({
        tokenExchange: { trustedIssuers: [{ issuer: ISSUER, jwks: { keys: [{ kty: 'EC' }] } }] },
      }),
      /is this OP/,
    )
  })
})
