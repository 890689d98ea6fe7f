// private_key_jwt (RFC 7523 §2.2, §3; OIDC Core §9) at our OP: a sound assertion per algorithm
// authenticates at the token, introspection, revocation and device authorization endpoints;
// every hostile assertion is the same 401 invalid_client, issues nothing, stores nothing (the
// replay cache included) and echoes nothing; a replayed jti is refused the second time only.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeJwt, SignJWT } from 'jose'
import {
  ALGS,
  assertionWorld,
  ISSUER,
  JWT_BEARER,
  makeKey,
  nowSeconds,
  TOKEN,
  WEB_SECRET,
} from './helpers/assertion-world.ts'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const MARK = '<script>x</script>'

describe('OP private_key_jwt', () => {
  for (const alg of ALGS) {
    it(`authenticates a client_credentials request signed with ${alg}`, async () => {
      const w = await assertionWorld()
      const res = await w.clientCredentials(await w.sign(w.byAlg(alg), 'pk'))
      assert.equal(res.status, 200, res.text)
      assert.equal(decodeJwt(String(res.body.access_token)).client_id, 'pk')
    })
  }

  it('takes Ed25519 (RFC 9864, what openid-client sends) as EdDSA, and not where EdDSA is off', async () => {
    const w = await assertionWorld()
    const ed = w.byAlg('EdDSA')
    const res = await w.clientCredentials(await w.sign(ed, 'pk', { header: { alg: 'Ed25519' } }))
    assert.equal(res.status, 200, res.text)
    const strict = await assertionWorld({ clientAssertion: { algorithms: ['ES256'] } })
    const off = await strict.clientCredentials(
      await strict.sign(ed, 'pk', { header: { alg: 'Ed25519' } }),
    )
    assert.equal(off.status, 401)
    assert.equal(strict.warnings.at(-1), 'client assertion refused: "alg" is not allowed')
  })

  it('accepts the token endpoint URL and an array as aud, no kid with a single fitting key, a body client_id that matches', async () => {
    const w = await assertionWorld()
    const es = w.byAlg('ES256')
    for (const [name, assertion, extra] of [
      ['aud = token endpoint', await w.sign(es, 'pk', { claims: { aud: TOKEN } }), {}],
      ['aud array', await w.sign(es, 'pk', { claims: { aud: ['https://x.example', ISSUER] } }), {}],
      ['no kid', await w.sign(es, 'pk-es', { header: { kid: undefined } }), {}],
      ['no iat', await w.sign(es, 'pk', { omit: ['iat'] }), {}],
      ['client_id', await w.sign(es, 'pk'), { client_id: 'pk' }],
    ] as const) {
      const res = await w.clientCredentials(assertion, extra)
      assert.equal(res.status, 200, `${name}: ${res.text}`)
    }
  })

  it('authenticates at introspection, revocation and device authorization', async () => {
    const w = await assertionWorld()
    const key = w.byAlg('EdDSA')
    const issued = await w.clientCredentials(await w.sign(key, 'pk'))
    const token = String(issued.body.access_token)
    const auth = async () => ({
      client_assertion_type: JWT_BEARER,
      client_assertion: await w.sign(key, 'pk'),
    })
    const introspected = await w.post('/introspect', { token, ...(await auth()) })
    assert.equal(introspected.status, 200, introspected.text)
    assert.equal(introspected.body.active, true)
    const device = await w.post('/device_authorization', { scope: 'openid', ...(await auth()) })
    assert.equal(device.status, 200, device.text)
    assert.equal(typeof device.body.device_code, 'string')
    const revoked = await w.post('/revoke', { token, ...(await auth()) })
    assert.equal(revoked.status, 200, revoked.text)
    const after = await w.post('/introspect', { token, ...(await auth()) })
    assert.equal(after.body.active, false)
    const refused = await w.post('/introspect', {
      token,
      ...(await auth()),
      client_assertion: 'x.y.z',
    })
    assert.equal(refused.status, 401)
    assert.equal(refused.body.error, 'invalid_client')
  })

  it('the authorization code and refresh grants work with assertions', async () => {
    const w = await assertionWorld()
    const key = w.byAlg('PS256')
    const verifier = 'v'.repeat(43)
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
    const url = new URL(`${ISSUER}/authorize`)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'pk',
      redirect_uri: 'https://app.example/cb',
      scope: 'openid offline_access',
      code_challenge: Buffer.from(digest).toString('base64url'),
      code_challenge_method: 'S256',
    }).toString()
    const location = new URL((await w.op.handler(new Request(url))).headers.get('location') ?? '')
    const code = location.searchParams.get('code') ?? ''
    const auth = async () => ({
      client_assertion_type: JWT_BEARER,
      client_assertion: await w.sign(key, 'pk'),
    })
    const tokens = await w.post('/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://app.example/cb',
      code_verifier: verifier,
      ...(await auth()),
    })
    assert.equal(tokens.status, 200, tokens.text)
    const refreshed = await w.post('/token', {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.body.refresh_token),
      ...(await auth()),
    })
    assert.equal(refreshed.status, 200, refreshed.text)
  })

  it('a replayed assertion: the first use succeeds, the second is invalid_client', async () => {
    const w = await assertionWorld()
    const assertion = await w.sign(w.byAlg('ES256'), 'pk')
    assert.equal((await w.clientCredentials(assertion)).status, 200)
    const size = w.store.size()
    const again = await w.clientCredentials(assertion)
    assert.equal(again.status, 401)
    assert.equal(again.body.error, 'invalid_client')
    assert.equal(again.body.access_token, undefined)
    assert.equal(w.store.size(), size, 'nothing stored by the replay')
    // The same jti from another client is its own (keyed by client).
    const jti = String(decodeJwt(assertion).jti)
    const other = await w.sign(w.byAlg('ES256'), 'pk-es', { claims: { jti } })
    assert.equal((await w.clientCredentials(other)).status, 200)
  })

  it('hostile assertions: 401 invalid_client, no token, nothing stored, nothing echoed', async () => {
    const w = await assertionWorld()
    const es = w.byAlg('ES256')
    const t = nowSeconds(w.now)
    const stranger = await makeKey('ES256', 'es256')
    const publicAsSecret = new TextEncoder().encode(JSON.stringify(es.publicJwk))
    const sound = () => w.sign(es, 'pk', { claims: { jti: MARK } })
    const unsigned = `${b64({ alg: 'none' })}.${b64({ iss: 'pk', sub: 'pk', aud: ISSUER, jti: MARK, exp: t + 60 })}.`
    const hs256 = await new SignJWT({ iss: 'pk', sub: 'pk', aud: ISSUER, jti: MARK, exp: t + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: 'es256' })
      .sign(publicAsSecret)
    const cases: [string, string, Record<string, string>?, Record<string, string>?][] = [
      ['wrong aud', await w.sign(es, 'pk', { claims: { aud: 'https://evil.example', jti: MARK } })],
      ['aud = another endpoint', await w.sign(es, 'pk', { claims: { aud: `${ISSUER}/userinfo` } })],
      ['too long-lived', await w.sign(es, 'pk', { claims: { exp: t + 600, jti: MARK } })],
      [
        'too long-lived, no iat',
        await w.sign(es, 'pk', { claims: { exp: t + 600 }, omit: ['iat'] }),
      ],
      ['wrong iss', await w.sign(es, 'pk', { claims: { iss: MARK } })],
      ['wrong sub', await w.sign(es, 'pk', { claims: { sub: 'pk-es' } })],
      ['a secret client as iss/sub', await w.sign(es, 'web')],
      ['unknown client', await w.sign(es, MARK)],
      ['unknown kid', await w.sign(es, 'pk', { header: { kid: MARK } })],
      ['alg none', unsigned],
      ['HS256 with the public key', hs256],
      ['expired', await w.sign(es, 'pk', { claims: { iat: t - 120, exp: t - 60, jti: MARK } })],
      ['nbf in the future', await w.sign(es, 'pk', { claims: { nbf: t + 120, jti: MARK } })],
      ['iat in the future', await w.sign(es, 'pk', { claims: { iat: t + 120, exp: t + 180 } })],
      ['signed by another key', await w.sign(stranger, 'pk')],
      ['no exp', await w.sign(es, 'pk', { omit: ['exp'] })],
      ['no jti', await w.sign(es, 'pk', { omit: ['jti'] })],
      ['kid of another alg', await w.sign(es, 'pk', { header: { kid: 'ps256' } })],
      [
        'alg not the registered one',
        await w.sign(w.byAlg('PS256'), 'pk-es', { header: { kid: 'es256' } }),
      ],
      ['not a JWS', MARK],
      [
        'tampered payload',
        (await sound()).replace(
          /\.[^.]+\./,
          `.${b64({ iss: 'pk', sub: 'pk', aud: ISSUER, jti: MARK, exp: t + 60 })}.`,
        ),
      ],
      ['a client_secret alongside', await sound(), { client_secret: WEB_SECRET }],
      [
        'Basic alongside',
        await sound(),
        {},
        { authorization: `Basic ${btoa(`web:${WEB_SECRET}`)}` },
      ],
      [
        'wrong assertion type',
        await sound(),
        { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' },
      ],
      ['no assertion type', await sound(), { client_assertion_type: '' }],
      ['body client_id differs', await sound(), { client_id: 'pk-es' }],
    ]
    const reasons: Record<string, string> = {
      'wrong aud': '"aud" is not this OP',
      'aud = another endpoint': '"aud" is not this OP',
      'too long-lived': 'lifetime too long',
      'too long-lived, no iat': 'lifetime too long',
      'wrong iss': '"iss" and "sub" differ',
      'wrong sub': '"iss" and "sub" differ',
      'a secret client as iss/sub': 'no private_key_jwt client of that id',
      'unknown client': 'no private_key_jwt client of that id',
      'unknown kid': 'unknown "kid"',
      'alg none': '"alg" is not allowed',
      'HS256 with the public key': '"alg" is not allowed',
      expired: 'expired',
      'nbf in the future': '"nbf" is ahead',
      'iat in the future': '"iat" is ahead',
      'signed by another key': 'bad signature',
      'no exp': '"exp" is missing',
      'no jti': '"jti" is missing',
      'kid of another alg': 'unknown "kid"',
      'alg not the registered one': '"alg" is not the registered signing alg',
      'not a JWS': 'not a compact JWS',
      'tampered payload': 'bad signature',
      'a client_secret alongside': 'a client_secret beside the assertion',
      'Basic alongside': 'an Authorization header beside the assertion',
      'wrong assertion type': 'client_assertion_type is not the JWT-bearer URN',
      'no assertion type': 'client_assertion_type is not the JWT-bearer URN',
      'body client_id differs': 'body client_id differs from "iss"',
    }
    for (const [name, assertion, extra = {}, headers = {}] of cases) {
      const size = w.store.size()
      const res = await w.clientCredentials(assertion, extra, headers)
      assert.equal(res.status, 401, `${name}: ${res.text}`)
      assert.equal(res.body.error, 'invalid_client', name)
      assert.equal(res.body.access_token, undefined, name)
      assert.ok(!res.text.includes('<script>') && !res.text.includes(assertion), `${name}: echoed`)
      assert.equal(w.store.size(), size, `${name}: nothing stored`)
      assert.equal(w.warnings.at(-1), `client assertion refused: ${reasons[name]}`, name)
    }
    assert.ok(w.warnings.length >= cases.length)
    for (const line of w.warnings)
      assert.ok(!line.includes('<script>') && !line.includes('eyJ'), line)
    // The sound assertion still works: no refusal above spent its jti.
    assert.equal((await w.clientCredentials(await w.sign(es, 'pk'))).status, 200)
  })

  it('a private_key_jwt client cannot fall back to a secret or to none', async () => {
    const w = await assertionWorld()
    const post = await w.post('/token', {
      grant_type: 'client_credentials',
      client_id: 'pk',
      client_secret: 'x'.repeat(32),
    })
    assert.equal(post.status, 401)
    assert.equal(post.body.error, 'invalid_client')
    const bare = await w.post('/token', { grant_type: 'client_credentials', client_id: 'pk' })
    assert.equal(bare.status, 401)
    assert.equal(bare.body.error, 'invalid_client')
  })
})
