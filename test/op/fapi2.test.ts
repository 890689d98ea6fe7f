// The FAPI 2.0 profile of the OP (createOp({ profile: 'fapi2' })): every rule refuses the
// configuration that breaks it, naming the field, and all problems come at once; a sound
// configuration gets the profile's defaults (discovery shows them); client assertions must name
// the issuer as a string `aud`; 10 s of clock skew is absorbed for assertions and DPoP proofs,
// and more is refused; token requests without a proof are refused and store nothing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AuthkestraError } from '../../src/core/errors.ts'
import { generateDpopKey } from '../../src/dpop/key.ts'
import { createDpopProof } from '../../src/dpop/proof.ts'
import type { OpClientConfig, OpConfig } from '../../src/op/config.ts'
import { createOp } from '../../src/op/create-op.ts'
import { applyFapi2Profile, FAPI2_RULES } from '../../src/op/fapi2.ts'
import { assertionWorld, ISSUER, TOKEN } from './helpers/assertion-world.ts'

const JWKS = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }
const BANK: OpClientConfig = {
  client_id: 'bank',
  jwks: JWKS,
  redirect_uris: ['https://bank.example/cb'],
}
const base = (patch: Partial<OpConfig> = {}, client: Partial<OpClientConfig> = {}): OpConfig => ({
  issuer: 'https://op.example',
  profile: 'fapi2',
  clients: [{ ...BANK, ...client }],
  ...patch,
})

const refusal = (config: OpConfig): string => {
  try {
    applyFapi2Profile(config)
  } catch (err) {
    assert.ok(err instanceof AuthkestraError)
    assert.equal(err.code, 'config_invalid')
    return err.message
  }
  assert.fail('the configuration was accepted')
}

describe('OP FAPI 2.0 profile: configurations that cannot meet it', () => {
  const cases: [string, OpConfig, RegExp][] = [
    [
      'a public client',
      base({}, { jwks: undefined, token_endpoint_auth_method: 'none' }),
      /clients\[0\] \("bank"\) is a public client/,
    ],
    [
      'a secret client',
      base({}, { jwks: undefined, client_secret: 's'.repeat(40) }),
      /authenticates with client_secret_basic; FAPI 2\.0 needs private_key_jwt/,
    ],
    [
      'client_secret_post',
      base(
        {},
        {
          jwks: undefined,
          client_secret: 's'.repeat(40),
          token_endpoint_auth_method: 'client_secret_post',
        },
      ),
      /authenticates with client_secret_post/,
    ],
    [
      'a client opting out of DPoP',
      base({}, { dpop_bound_access_tokens: false }),
      /dpop_bound_access_tokens is false/,
    ],
    ['PAR switched off', base({ par: { required: false } }), /"par\.required" is false/],
    [
      'a client opting out of PAR',
      base({}, { require_pushed_authorization_requests: false }),
      /require_pushed_authorization_requests is false/,
    ],
    ['plain PKCE', base({}, { pkce_plain: 'allow-unsafe' }), /pkce_plain is set/],
    ['RS256 signing', base({ signingAlgs: ['ES256', 'RS256'] }), /"signingAlgs" lists RS256/],
    ['the deprecated signingAlg RS256', base({ signingAlg: 'RS256' }), /"signingAlg" is RS256/],
    [
      'RS256 DPoP proofs',
      base({ dpop: { algorithms: ['RS256'] } }),
      /"dpop\.algorithms" lists RS256/,
    ],
    [
      'ES384 assertions',
      base({ clientAssertion: { algorithms: ['ES256', 'ES384'] } }),
      /"clientAssertion\.algorithms" lists ES384/,
    ],
    [
      "a client's RS256 ID tokens",
      base({}, { id_token_signed_response_alg: 'RS256' }),
      /id_token_signed_response_alg is RS256/,
    ],
    [
      "a client's RS256 assertions",
      base({}, { token_endpoint_auth_signing_alg: 'RS256' }),
      /token_endpoint_auth_signing_alg is RS256/,
    ],
    [
      'the device grant',
      base(
        {},
        { grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] },
      ),
      /lists the device code grant/,
    ],
    [
      'an http redirect URI, even on loopback',
      base({}, { redirect_uris: ['http://127.0.0.1:3000/cb'] }),
      /redirect_uris\[0\] is not https/,
    ],
    [
      'too little clock skew',
      base({ clientAssertion: { clockToleranceSeconds: 5 } }),
      /"clientAssertion\.clockToleranceSeconds" is 5/,
    ],
    [
      'too much clock skew',
      base({ dpop: { clockToleranceSeconds: 60 } }),
      /"dpop\.clockToleranceSeconds" is 60/,
    ],
  ]
  for (const [name, config, message] of cases) {
    it(`refuses ${name}`, () => {
      assert.match(refusal(config), message)
    })
  }

  it('has one rule per clause, each finding its case and nothing in a sound configuration', () => {
    assert.equal(FAPI2_RULES.length, 8)
    for (const rule of FAPI2_RULES) assert.deepEqual(rule(base()), [], rule.name)
  })

  it('lists every problem at once, and createOp refuses to start', async () => {
    const config = base(
      { signingAlgs: ['RS256'] },
      { jwks: undefined, token_endpoint_auth_method: 'none' },
    )
    const message = refusal(config)
    assert.match(message, /public client.*; "signingAlgs" lists RS256/)
    await assert.rejects(createOp(config), (err: unknown) => {
      assert.ok(err instanceof AuthkestraError)
      assert.equal(err.message, message)
      return true
    })
    await assert.rejects(createOp({ ...config, profile: 'fapi1' as 'fapi2' }), /"profile" must be/)
  })
})

/** An OP in the profile with one client holding the world's PS256, ES256 and EdDSA keys. */
const fapiWorld = () =>
  assertionWorld((byAlg) => ({
    profile: 'fapi2',
    clients: [
      {
        client_id: 'bank',
        jwks: {
          keys: (['PS256', 'ES256', 'EdDSA'] as const).map(
            (a) => byAlg(a).publicJwk as Record<string, unknown>,
          ),
        },
        redirect_uris: ['https://bank.example/cb'],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      },
    ],
  }))

describe('OP FAPI 2.0 profile: a running OP', () => {
  it('advertises the profile and fills in its defaults', async () => {
    const w = await fapiWorld()
    const meta = w.op.metadata()
    assert.equal(meta.require_pushed_authorization_requests, true)
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['private_key_jwt'])
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['ES256', 'PS256'])
    assert.deepEqual(meta.token_endpoint_auth_signing_alg_values_supported, [
      'PS256',
      'ES256',
      'EdDSA',
      'Ed25519',
    ])
    assert.equal(meta.device_authorization_endpoint, undefined)
    assert.ok(!(meta.grant_types_supported as string[]).some((g) => g.endsWith(':device_code')))
    const record = await w.store.get('client', 'bank')
    assert.equal(record?.dpopBoundAccessTokens, true)
    assert.equal(record?.refreshTokenRotation, 'none')
  })

  it('takes only the issuer, as a string, as the aud of a client assertion (§5.3.2.1)', async () => {
    const w = await fapiWorld()
    const key = await generateDpopKey()
    const proof = () => createDpopProof(key, { method: 'POST', url: TOKEN })
    const es = w.byAlg('ES256')
    for (const [name, aud] of [
      ['token endpoint', TOKEN],
      ['array with the issuer', [ISSUER]],
      ['issuer with a slash', `${ISSUER}/`],
    ] as const) {
      const res = await w.clientCredentials(
        await w.sign(es, 'bank', { claims: { aud } }),
        {},
        { dpop: await proof() },
      )
      assert.equal(res.status, 401, name)
      assert.equal(res.body.error, 'invalid_client', name)
      assert.doesNotMatch(res.text, /access_token/)
    }
    assert.match(w.warnings.at(-1) ?? '', /"aud" is not the issuer identifier as a string/)
    const ok = await w.clientCredentials(await w.sign(es, 'bank'), {}, { dpop: await proof() })
    assert.equal(ok.status, 200, ok.text)
    assert.equal(ok.body.token_type, 'DPoP')
  })

  it('absorbs 10 s of clock skew in assertions and proofs, and refuses more', async () => {
    const w = await fapiWorld()
    const key = await generateDpopKey()
    const ahead = (s: number) => ({ now: () => w.now.value + s * 1000 })
    const at = (s: number) => Math.floor(w.now.value / 1000) + s
    const es = w.byAlg('ES256')
    const ok = await w.clientCredentials(
      await w.sign(es, 'bank', { claims: { iat: at(9), nbf: at(9), exp: at(60) } }),
      {},
      { dpop: await createDpopProof(key, { method: 'POST', url: TOKEN }, ahead(9)) },
    )
    assert.equal(ok.status, 200, ok.text)
    const lateAssertion = await w.clientCredentials(
      await w.sign(es, 'bank', { claims: { iat: at(15), exp: at(60) } }),
      {},
      { dpop: await createDpopProof(key, { method: 'POST', url: TOKEN }) },
    )
    assert.equal(lateAssertion.status, 401)
    const lateProof = await w.clientCredentials(
      await w.sign(es, 'bank'),
      {},
      {
        dpop: await createDpopProof(key, { method: 'POST', url: TOKEN }, ahead(15)),
      },
    )
    assert.equal(lateProof.status, 400)
    assert.equal(lateProof.body.error, 'invalid_dpop_proof')
  })

  it('refuses a token request without a DPoP proof, storing only the used assertion id', async () => {
    const w = await fapiWorld()
    const before = w.store.size()
    const res = await w.clientCredentials(await w.sign(w.byAlg('PS256'), 'bank'))
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'invalid_dpop_proof')
    assert.equal(res.body.access_token, undefined)
    assert.equal(w.store.size(), before + 1, 'the jti of the assertion, nothing else')
  })
})
