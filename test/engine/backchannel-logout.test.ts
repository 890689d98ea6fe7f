// The engine's back-channel logout receiver (POST /auth/backchannel-logout/:provider) against a
// loopback provider that publishes its JWKS: a valid logout token ends the sessions of that
// provider login (sid) or user (sub), and every hostile token or request is 400 invalid_request
// (404 for a provider not set up for it), ends nothing, and echoes nothing.
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import {
  createAuthkestra,
  createMemorySessionStore,
  type SessionAuthkestra,
  type StoredSession,
} from '../../src/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import {
  type LocalProviderServer,
  startLocalProviderServer,
} from '../providers/helpers/local-provider-server.ts'
import { APP, SECRET } from './helpers/setup.ts'

const EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const CLIENT_ID = 'app'
const store = createMemorySessionStore()
let provider: LocalProviderServer
let auth: SessionAuthkestra<unknown>
let privateKey: CryptoKey
let otherKey: CryptoKey

before(async () => {
  const pair = await generateKeyPair('ES256')
  privateKey = pair.privateKey
  otherKey = (await generateKeyPair('ES256')).privateKey
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
  provider = await startLocalProviderServer((request) => {
    if (request.path === '/.well-known/openid-configuration')
      return {
        json: {
          issuer: provider.origin,
          authorization_endpoint: `${provider.origin}/authorize`,
          token_endpoint: `${provider.origin}/token`,
          jwks_uri: `${provider.origin}/jwks`,
          id_token_signing_alg_values_supported: ['ES256'],
          backchannel_logout_supported: true,
        },
      }
    if (request.path === '/jwks') return { json: { keys: [jwk] } }
    return { status: 404, json: { error: 'not_found' } }
  })
  const registration = {
    issuer: provider.origin,
    clientId: CLIENT_ID,
    clientSecret: 'app-secret-0123456789abcdef',
  }
  auth = createAuthkestra<unknown>({
    providers: [
      oidc({
        ...registration,
        id: 'op',
        redirectUri: `${APP}/auth/callback/op`,
        backchannelLogout: true,
      }),
      oidc({ ...registration, id: 'plain', redirectUri: `${APP}/auth/callback/plain` }),
      oidc({
        ...registration,
        id: 'fc',
        redirectUri: `${APP}/auth/callback/fc`,
        frontchannelLogout: true,
      }),
    ],
    secret: SECRET,
    session: { store },
  })
})

after(async () => {
  store.close()
  await provider.close()
})

const stored = (subject: string, providerSid?: string): StoredSession => ({
  user: { subject },
  provider: 'op',
  subject,
  createdAt: Date.now(),
  expiresAt: Date.now() + 3_600_000,
  lastSeenAt: Date.now(),
  userKey: `key-${subject}`,
  ...(providerSid === undefined ? {} : { providerSid }),
})

beforeEach(async () => {
  await store.set('alice-1', stored('alice', 'sid-1'), 600)
  await store.set('alice-2', stored('alice', 'sid-2'), 600)
  await store.set('bob-1', stored('bob', 'sid-3'), 600)
})

async function alive(): Promise<string[]> {
  const ids = ['alice-1', 'alice-2', 'bob-1']
  const found = await Promise.all(ids.map((id) => store.get(id)))
  return ids.filter((_, i) => found[i] !== undefined)
}

/** A logout token as the provider would sign it, with `patch` applied (undefined deletes). */
async function token(
  patch: Record<string, unknown> = {},
  options: { typ?: string; key?: CryptoKey; alg?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: provider.origin,
    aud: CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: crypto.randomUUID(),
    sub: 'alice',
    sid: 'sid-1',
    events: { [EVENT]: {} },
    ...patch,
  }
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k]
  return new SignJWT(claims)
    .setProtectedHeader({
      alg: options.alg ?? 'ES256',
      kid: 'k1',
      ...(options.typ === '' ? {} : { typ: options.typ ?? 'logout+jwt' }),
    })
    .sign(options.key ?? privateKey)
}

function post(
  body: string,
  type = 'application/x-www-form-urlencoded',
  path = '/auth/backchannel-logout/op',
) {
  return auth.handler(
    new Request(`${APP}${path}`, { method: 'POST', headers: { 'content-type': type }, body }),
  )
}

const form = (logoutToken: string) => new URLSearchParams({ logout_token: logoutToken }).toString()

describe('back-channel logout receiver', () => {
  it('ends the sessions of the provider login named by sid: 200, no-store, empty', async () => {
    const response = await post(form(await token()))
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(await response.text(), '')
    assert.deepEqual(await alive(), ['alice-2', 'bob-1'])
  })

  it('ends every session of the user when the token names only sub', async () => {
    assert.equal((await post(form(await token({ sid: undefined })))).status, 200)
    assert.deepEqual(await alive(), ['bob-1'])
  })

  it('accepts an untyped token (typ is RECOMMENDED, not required)', async () => {
    assert.equal((await post(form(await token({}, { typ: '' })))).status, 200)
  })

  it('refuses a replayed jti (the first use still counts)', async () => {
    const once = await token({ sid: 'sid-2' })
    assert.equal((await post(form(once))).status, 200)
    await store.set('alice-2', stored('alice', 'sid-2'), 600)
    const again = await post(form(once))
    assert.equal(again.status, 400)
    assert.deepEqual(await alive(), ['alice-1', 'alice-2', 'bob-1'], 'the replay ended nothing')
  })

  const now = () => Math.floor(Date.now() / 1000)
  const hostile: [string, () => Promise<string>][] = [
    ['a nonce (an ID token posing as a logout token)', () => token({ nonce: 'n' })],
    ['no events', () => token({ events: undefined })],
    ['events without the back-channel member', () => token({ events: { 'urn:other': {} } })],
    ['the event as a string', () => token({ events: { [EVENT]: 'yes' } })],
    ['events as an array', () => token({ events: [EVENT] })],
    ['neither sub nor sid', () => token({ sub: undefined, sid: undefined })],
    ['no jti', () => token({ jti: undefined })],
    ['another audience', () => token({ aud: 'someone-else' })],
    ['an untrusted extra audience', () => token({ aud: [CLIENT_ID, 'someone-else'] })],
    ['another issuer', () => token({ iss: 'https://evil.example' })],
    ['an expired token', () => token({ iat: now() - 400, exp: now() - 200 })],
    ['an iat in the future', () => token({ iat: now() + 600, exp: now() + 900 })],
    ['an old iat', () => token({ iat: now() - 3600, exp: now() + 60 })],
    ['no exp', () => token({ exp: undefined })],
    ['typ at+jwt', () => token({}, { typ: 'at+jwt' })],
    ['another signer', () => token({}, { key: otherKey })],
    [
      'alg none',
      async () => {
        const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
        const t = now()
        return `${enc({ alg: 'none', typ: 'logout+jwt' })}.${enc({ iss: provider.origin, aud: CLIENT_ID, iat: t, exp: t + 60, jti: 'j', sid: 'sid-1', events: { [EVENT]: {} } })}.`
      },
    ],
    ['a tampered signature', async () => `${(await token()).slice(0, -6)}AAAAAA`],
    ['garbage', async () => 'not.a.jwt'],
  ]
  for (const [what, make] of hostile) {
    it(`refuses ${what}: 400 invalid_request, nothing ended, nothing echoed`, async () => {
      const bad = await make()
      const response = await post(form(bad))
      assert.equal(response.status, 400)
      const text = await response.text()
      assert.equal(JSON.parse(text).error, 'invalid_request')
      assert.ok(!text.includes(bad.slice(0, 20)), 'the token is not echoed')
      assert.deepEqual(await alive(), ['alice-1', 'alice-2', 'bob-1'])
    })
  }

  it('refuses malformed requests with 400, and unknown or not-set-up providers with 404', async () => {
    const good = await token()
    const cases: [string, Promise<Response>, number][] = [
      ['JSON body', post(JSON.stringify({ logout_token: good }), 'application/json'), 400],
      ['two tokens', post(`${form(good)}&${form(good)}`), 400],
      ['no token', post('x=1'), 400],
      ['a body over 16 KiB', post(form(`${good}${'A'.repeat(17_000)}`)), 400],
      [
        'a provider without back-channel logout',
        post(form(good), undefined, '/auth/backchannel-logout/plain'),
        404,
      ],
      ['an unknown provider', post(form(good), undefined, '/auth/backchannel-logout/nope'), 404],
    ]
    for (const [what, pending, status] of cases) {
      assert.equal((await pending).status, status, what)
    }
    const get = await auth.handler(new Request(`${APP}/auth/backchannel-logout/op`))
    assert.equal(get.status, 404)
    assert.deepEqual(await alive(), ['alice-1', 'alice-2', 'bob-1'])
  })
})

describe('back-channel logout config', () => {
  it('needs a revocation store in stateless mode', () => {
    assert.throws(
      () =>
        createAuthkestra({
          providers: [
            oidc({
              id: 'op',
              issuer: 'https://id.example',
              clientId: 'x',
              redirectUri: `${APP}/auth/callback/op`,
              backchannelLogout: true,
            }),
          ],
          secret: SECRET,
          jwt: { revocations: 'none-logout-keeps-tokens-valid-until-exp' },
        }),
      (err: Error & { code?: string }) =>
        err.code === 'config_invalid' &&
        /needs a revocation store \("jwt\.revocations"\) in stateless mode/.test(err.message),
    )
  })
})

describe('front-channel logout receiver', () => {
  const get = (query: string, path = '/auth/frontchannel-logout/fc') =>
    auth.handler(new Request(`${APP}${path}?${query}`, { headers: { accept: 'application/json' } }))
  const fcSession = { ...stored('carol', 'sid-fc'), provider: 'fc' }

  it('ends the sessions of the provider login named by sid; only the provider may frame the answer', async () => {
    await store.set('carol-1', fcSession, 600)
    const response = await get(
      new URLSearchParams({ iss: provider.origin, sid: 'sid-fc' }).toString(),
    )
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(
      response.headers.get('content-security-policy'),
      `default-src 'none'; frame-ancestors ${provider.origin}`,
    )
    assert.equal(await store.get('carol-1'), undefined)
    assert.deepEqual(await alive(), ['alice-1', 'alice-2', 'bob-1'], 'other providers untouched')
  })

  for (const [what, query, status] of [
    ['another issuer', `iss=${encodeURIComponent('https://evil.example')}&sid=sid-fc`, 400],
    ['no sid', `iss=${encodeURIComponent('ISSUER')}`, 400],
    ['no iss', 'sid=sid-fc', 400],
    ['two sids', `iss=${encodeURIComponent('ISSUER')}&sid=sid-fc&sid=other`, 400],
  ] as const) {
    it(`refuses ${what} (${status}), ending nothing`, async () => {
      await store.set('carol-1', fcSession, 600)
      const response = await get(query.replace('ISSUER', provider.origin))
      assert.equal(response.status, status)
      assert.equal(((await response.json()) as { error: string }).error, 'callback_invalid')
      assert.ok(await store.get('carol-1'))
    })
  }

  it('is 404 for a provider not set up for it', async () => {
    const response = await get(`iss=${provider.origin}&sid=sid-1`, '/auth/frontchannel-logout/op')
    assert.equal(response.status, 404)
    assert.deepEqual(await alive(), ['alice-1', 'alice-2', 'bob-1'])
  })
})
