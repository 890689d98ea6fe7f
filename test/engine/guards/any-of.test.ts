// anyOf: first principal wins; the refusal of the first guard shown a credential; otherwise one
// 401 with every challenge. Also foreign guards (marked by their challenge) and nesting.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { anyOf, apiKey, basic, bearer, type Guard, refuse } from '../../../src/index.ts'
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
} from './helpers.ts'

const KEY = 'ak_test_6c1f0e2d9b8a7c6d5e4f3a2b1c0d9e8f'
let issuer: LocalIssuer
let token: string
let expired: string
before(async () => {
  issuer = await localIssuer()
  token = await sign(issuer.key, goodClaims())
  expired = await sign(issuer.key, { ...goodClaims(), exp: NOW - 3600 })
})

const tokenGuard = () =>
  bearer({
    jwksUri: JWKS_URI,
    issuer: ISS,
    audience: AUD,
    realm: 'api',
    fetch: issuer.fetch,
    clock,
  })
const keyGuard = () =>
  apiKey({ verify: async (key) => (key === KEY ? { kind: 'service' as const } : null) })

const BOTH = 'Bearer realm="api", ApiKey header="x-api-key"'

describe('anyOf', () => {
  const rows: {
    name: string
    headers: () => Record<string, string>
    ok?: 'bearer' | 'key'
    refusal?: { status: number; challenge: string; error: string }
  }[] = [
    { name: 'a valid token', headers: () => ({ authorization: `Bearer ${token}` }), ok: 'bearer' },
    { name: 'a valid key', headers: () => ({ 'x-api-key': KEY }), ok: 'key' },
    {
      name: 'an expired token and a valid key',
      headers: () => ({ authorization: `Bearer ${expired}`, 'x-api-key': KEY }),
      ok: 'key',
    },
    {
      name: 'no credentials',
      headers: () => ({}),
      refusal: { status: 401, challenge: BOTH, error: 'unauthorized' },
    },
    {
      name: 'an expired token',
      headers: () => ({ authorization: `Bearer ${expired}` }),
      refusal: {
        status: 401,
        challenge: 'Bearer realm="api", error="invalid_token"',
        error: 'invalid_token',
      },
    },
    {
      name: 'a wrong key',
      headers: () => ({ 'x-api-key': 'nope' }),
      refusal: { status: 401, challenge: 'ApiKey header="x-api-key"', error: 'invalid_api_key' },
    },
    {
      name: 'an expired token and a wrong key (the first guard shown a credential answers)',
      headers: () => ({ authorization: `Bearer ${expired}`, 'x-api-key': 'nope' }),
      refusal: {
        status: 401,
        challenge: 'Bearer realm="api", error="invalid_token"',
        error: 'invalid_token',
      },
    },
  ]
  for (const row of rows) {
    it(`${row.name} → ${row.ok ? `ok (${row.ok})` : `${row.refusal?.status} ${row.refusal?.error}`}`, async () => {
      const guard = anyOf(tokenGuard(), keyGuard())
      const result = await guard(request(row.headers()))
      if (row.ok === 'bearer') {
        const who = principal(result)
        assert.ok('subject' in who && who.subject === 'user-1')
      } else if (row.ok === 'key') {
        assert.deepEqual(principal(result), { kind: 'service' })
      } else if (row.refusal) {
        await assertRefusal(result, { ...row.refusal, secret: expired })
      }
    })
  }

  it('lists every distinct challenge once, in guard order', async () => {
    const guard = anyOf(
      keyGuard(),
      tokenGuard(),
      basic({ realm: 'ops', verify: async () => null }),
      tokenGuard(),
    )
    await assertRefusal(await guard(request()), {
      status: 401,
      challenge:
        'ApiKey header="x-api-key", Bearer realm="api", Basic realm="ops", charset="UTF-8"',
      error: 'unauthorized',
    })
  })

  it('nests: an inner "no credentials" stays one for the outer anyOf', async () => {
    const guard = anyOf(anyOf(tokenGuard()), keyGuard())
    await assertRefusal(await guard(request({ 'x-api-key': 'nope' })), {
      status: 401,
      challenge: 'ApiKey header="x-api-key"',
      error: 'invalid_api_key',
    })
    await assertRefusal(await guard(request()), {
      status: 401,
      challenge: BOTH,
      error: 'unauthorized',
    })
  })

  it('reads foreign refusals by their challenge: no error attribute means no credentials', async () => {
    const noSession: Guard<{ user: string }> = async () =>
      refuse(401, 'Session realm="app"', 'unauthorized', 'sign in first')
    const badSession: Guard<{ user: string }> = async () =>
      refuse(401, 'Session realm="app", error="expired"', 'expired', 'sign in again')
    await assertRefusal(await anyOf(noSession, keyGuard())(request()), {
      status: 401,
      challenge: 'Session realm="app", ApiKey header="x-api-key"',
      error: 'unauthorized',
    })
    await assertRefusal(await anyOf(keyGuard(), badSession)(request()), {
      status: 401,
      challenge: 'Session realm="app", error="expired"',
      error: 'expired',
    })
  })

  it('answers a key outage of the bearer guard with its 503 when no other guard accepts', async () => {
    const down = bearer({
      jwksUri: JWKS_URI,
      issuer: ISS,
      audience: AUD,
      fetch: (async () => new Response('', { status: 500 })) as typeof fetch,
      clock,
    })
    const guard = anyOf(keyGuard(), down)
    await assertRefusal(await guard(request({ authorization: `Bearer ${token}` })), {
      status: 503,
      challenge: null,
      error: 'temporarily_unavailable',
      secret: token,
    })
    assert.ok((await guard(request({ authorization: `Bearer ${token}`, 'x-api-key': KEY }))).ok)
  })

  it('stops at the first guard that accepts', async () => {
    let later = 0
    const counting: Guard<{ n: number }> = async () => {
      later++
      return { ok: true, principal: { n: 1 } }
    }
    await anyOf(keyGuard(), counting)(request({ 'x-api-key': KEY }))
    assert.equal(later, 0)
  })

  it('throws config_invalid without guards', () => {
    assert.throws(() => (anyOf as (...g: unknown[]) => unknown)(), code('config_invalid'))
    assert.throws(() => (anyOf as (...g: unknown[]) => unknown)('x'), code('config_invalid'))
  })
})
