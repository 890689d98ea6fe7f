// Several signing algorithms at once: every algorithm discovery lists produces an ID token that
// jose verifies with the published JWKS (at_hash by that algorithm's hash), chosen per client by
// id_token_signed_response_alg; access tokens keep the OP default; rotation per algorithm keeps
// the old keys published; the non-default keys are made on first need; configuration errors
// name the field.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import { AuthkestraError } from '../../src/core/errors.ts'
import type { OpClientConfig, OpConfig } from '../../src/op/config.ts'
import { jwksEndpoint, metadata } from '../../src/op/endpoints/discovery.ts'
import { SIGNING_ALGS, type SigningAlg } from '../../src/op/signing-algs.ts'
import { ISSUER } from './helpers/op-fixture.ts'
import { type PolicyOp, policyOp } from './helpers/policy-op.ts'

const ops: PolicyOp[] = []
after(() => {
  for (const op of ops) op.close()
})
async function open(clients: readonly OpClientConfig[], extra: Partial<OpConfig> = {}) {
  const op = await policyOp(clients, extra)
  ops.push(op)
  return op
}

const client = (id: string, alg?: SigningAlg): OpClientConfig => ({
  client_id: id,
  client_secret: `${id}-secret-0123456789abcdefghijklmnopqrstuv`,
  redirect_uris: ['https://rp.example/callback'],
  ...(alg === undefined ? {} : { id_token_signed_response_alg: alg }),
})

/** The JWKS as the endpoint serves it. */
async function served(op: PolicyOp): Promise<JSONWebKeySet> {
  const response = await jwksEndpoint(op.runtime.keys)
  return JSON.parse(response.body as string) as JSONWebKeySet
}

/** OIDC Core §3.1.3.6: left half of the hash the JWS algorithm uses, base64url. */
function atHash(token: string, alg: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(token)
    .digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

async function verify(op: PolicyOp, jwt: string, alg: string, audience: string, typ: string) {
  const jwks = createLocalJWKSet(await served(op))
  return jwtVerify(jwt, jwks, {
    issuer: ISSUER,
    audience,
    typ,
    algorithms: [alg],
    currentDate: new Date(op.clock.now()),
  })
}

describe('signing algorithms', () => {
  it('every algorithm discovery lists signs a verifiable ID token for a client choosing it', async () => {
    const op = await open(
      SIGNING_ALGS.map((alg) => client(`c-${alg}`, alg)),
      { signingAlgs: [...SIGNING_ALGS] },
    )
    const listed = metadata(op.runtime.settings).id_token_signing_alg_values_supported as string[]
    assert.deepEqual([...listed].sort(), [...SIGNING_ALGS].sort())
    for (const alg of listed) {
      const body = await op.signIn(`c-${alg}`)
      const idToken = String(body.id_token)
      const header = decodeProtectedHeader(idToken)
      assert.equal(header.alg, alg)
      const { payload } = await verify(op, idToken, alg, `c-${alg}`, 'JWT')
      assert.equal(payload.at_hash, atHash(String(body.access_token), alg))
      const key = (await served(op)).keys.find((k) => k.kid === header.kid)
      assert.equal(key?.alg, alg)
      assert.equal(key?.use, 'sig')
      // Access tokens stay at the OP default (the first of signingAlgs).
      const access = String(body.access_token)
      assert.equal(decodeProtectedHeader(access).alg, 'ES256')
      await verify(op, access, 'ES256', ISSUER, 'at+jwt')
    }
  })

  it('a client without a preference gets the default: the first of signingAlgs', async () => {
    const op = await open([client('plain'), client('es', 'ES256')], {
      signingAlgs: ['PS256', 'ES256'],
    })
    const body = await op.signIn('plain')
    assert.equal(decodeProtectedHeader(String(body.id_token)).alg, 'PS256')
    assert.equal(decodeProtectedHeader(String(body.access_token)).alg, 'PS256')
    const es = await op.signIn('es')
    assert.equal(decodeProtectedHeader(String(es.id_token)).alg, 'ES256')
    // The OP's own verification of its tokens accepts the PS256 access token (userinfo path).
    const refreshed = await op.token('plain', {
      grant_type: 'refresh_token',
      refresh_token: String(body.refresh_token),
    })
    assert.equal(refreshed.status, 200)
    assert.equal(decodeProtectedHeader(String(refreshed.body.id_token)).alg, 'PS256')
  })

  it('by default: ES256 and RS256, the RS256 key made only when first needed', async () => {
    const op = await open([client('rs', 'RS256')])
    assert.deepEqual(op.runtime.settings.signingAlgs.all, ['ES256', 'RS256'])
    const atStart = await op.store.list('key')
    assert.deepEqual(
      atStart.map((k) => k.alg),
      ['ES256'],
      'start makes the default key only',
    )
    const jwks = await served(op)
    assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['ES256', 'RS256'])
    const body = await op.signIn('rs')
    const header = decodeProtectedHeader(String(body.id_token))
    assert.equal(header.alg, 'RS256')
    assert.ok(
      jwks.keys.some((k) => k.kid === header.kid),
      'the key served before it signed',
    )
  })

  it('signingAlg (deprecated) still means exactly one algorithm', async () => {
    const op = await open([client('a')], { signingAlg: 'EdDSA' })
    assert.deepEqual(metadata(op.runtime.settings).id_token_signing_alg_values_supported, ['EdDSA'])
    assert.equal(decodeProtectedHeader(String((await op.signIn('a')).id_token)).alg, 'EdDSA')
  })

  it('rotates one algorithm or all; retired keys stay published and keep verifying', async () => {
    const op = await open([client('es', 'ES256'), client('rs', 'RS256')])
    const before = { es: await op.signIn('es'), rs: await op.signIn('rs') }
    const kid = (b: Record<string, unknown>) => decodeProtectedHeader(String(b.id_token)).kid
    await op.runtime.keys.rotate('RS256')
    const afterRs = { es: await op.signIn('es'), rs: await op.signIn('rs') }
    assert.equal(kid(afterRs.es), kid(before.es), 'ES256 untouched by an RS256 rotation')
    assert.notEqual(kid(afterRs.rs), kid(before.rs))
    await verify(op, String(before.rs.id_token), 'RS256', 'rs', 'JWT')
    await op.runtime.keys.rotate()
    const afterAll = { es: await op.signIn('es'), rs: await op.signIn('rs') }
    assert.notEqual(kid(afterAll.es), kid(afterRs.es))
    assert.notEqual(kid(afterAll.rs), kid(afterRs.rs))
    const kids = (await served(op)).keys.map((k) => k.kid)
    for (const b of [before.es, before.rs, afterRs.rs, afterAll.es, afterAll.rs])
      assert.ok(kids.includes(kid(b)))
    for (const b of [before.es, before.rs, afterRs.rs]) {
      const alg = String(decodeProtectedHeader(String(b.id_token)).alg)
      await verify(op, String(b.id_token), alg, alg === 'ES256' ? 'es' : 'rs', 'JWT')
    }
    // Only the current keys keep private parts.
    const privateKeys = (await op.store.list('key')).filter((k) => k.privateJwk !== undefined)
    assert.deepEqual(
      privateKeys.map((k) => k.kid).sort(),
      [kid(afterAll.es), kid(afterAll.rs)].sort(),
    )
    await assert.rejects(op.runtime.keys.rotate('PS256'), /"PS256" is not one of/)
  })
})

describe('signing algorithms: configuration errors name the field', () => {
  const cases: [string, readonly OpClientConfig[], Partial<OpConfig>, RegExp][] = [
    [
      'a client alg the OP does not hold',
      [client('a', 'PS256')],
      {},
      /"clients\[0\]\.id_token_signed_response_alg" must be one of the OP's "signingAlgs": ES256, RS256/,
    ],
    [
      'alg none',
      [{ ...client('a'), id_token_signed_response_alg: 'none' as SigningAlg }],
      {},
      /"clients\[0\]\.id_token_signed_response_alg"/,
    ],
    [
      'a symmetric alg',
      [client('ok'), { ...client('a'), id_token_signed_response_alg: 'HS256' as SigningAlg }],
      {},
      /"clients\[1\]\.id_token_signed_response_alg"/,
    ],
    ['empty signingAlgs', [], { signingAlgs: [] }, /"signingAlgs" must be a non-empty array/],
    ['unknown alg', [], { signingAlgs: ['ES256', 'HS256' as SigningAlg] }, /"signingAlgs\[1\]"/],
    ['duplicate alg', [], { signingAlgs: ['ES256', 'ES256'] }, /"signingAlgs\[1\]" is a duplicate/],
    ['both names', [], { signingAlg: 'ES256', signingAlgs: ['ES256'] }, /cannot both be set/],
    ['unknown signingAlg', [], { signingAlg: 'ES512' as SigningAlg }, /"signingAlg" must be/],
  ]
  for (const [name, clients, extra, message] of cases) {
    it(name, async () => {
      await assert.rejects(policyOp(clients, extra), (err: unknown) => {
        assert.ok(err instanceof AuthkestraError)
        assert.equal(err.code, 'config_invalid')
        assert.match(err.message, message)
        return true
      })
    })
  }
})

describe('back-channel logout tokens', () => {
  it("are signed with the client's ID-token algorithm", async () => {
    const { createServer } = await import('node:http')
    const { createOp } = await import('../../src/op/create-op.ts')
    const { createMemoryOpStore } = await import('../../src/op/store/memory.ts')
    const { Browser } = await import('./helpers/browser.ts')
    const { signIn } = await import('./helpers/sign-in.ts')
    const received: string[] = []
    const receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '')
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const address = receiver.address() as { port: number }
    const store = createMemoryOpStore()
    try {
      const op = await createOp({
        issuer: 'http://127.0.0.1:9000',
        store,
        logger: { warn: () => {}, error: () => {} },
        signingAlgs: ['ES256', 'PS256'],
        clients: [
          {
            client_id: 'ps',
            redirect_uris: ['https://rp.example/cb'],
            backchannel_logout_uri: `http://127.0.0.1:${address.port}/bc`,
            id_token_signed_response_alg: 'PS256',
            skip_consent: true,
          },
        ],
        accounts: [{ username: 'alice', password: 'wonderland' }],
      })
      const tokens = await signIn(op, new Browser(op.handler), 'ps', 'https://rp.example/cb')
      assert.equal(decodeProtectedHeader(tokens.id_token).alg, 'PS256')
      const sub = String(JSON.parse(atob(tokens.id_token.split('.')[1] ?? '')).sub)
      await op.logoutUser(sub)
      await op.logoutDeliveriesSettled()
      assert.equal(received.length, 1)
      const logoutToken = received[0] ?? ''
      assert.equal(decodeProtectedHeader(logoutToken).alg, 'PS256')
      const jwks = (await (
        await op.handler(new Request('http://127.0.0.1:9000/jwks'))
      ).json()) as JSONWebKeySet
      await jwtVerify(logoutToken, createLocalJWKSet(jwks), {
        issuer: 'http://127.0.0.1:9000',
        audience: 'ps',
        typ: 'logout+jwt',
        algorithms: ['PS256'],
      })
    } finally {
      receiver.close()
      store.close()
    }
  })
})
