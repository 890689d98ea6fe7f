// The client's FAPI 2.0 profile (securityProfile: 'fapi2'): each rule refuses the config that
// breaks it, naming the field, all problems at once, when the flow is made; a sound config gets
// the profile's settings; the provider's metadata must offer private_key_jwt and DPoP; a bearer
// token response is refused.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { generateKeyPair } from 'jose'
import {
  applySecurityProfile,
  checkFapi2Metadata,
  checkSenderConstrained,
  FAPI2_CLIENT_RULES,
} from '../../../src/client/fapi2.ts'
import type { AuthorizationServerMetadata } from '../../../src/client/metadata.ts'
import { OAuth2Flow } from '../../../src/client/oauth2-flow.ts'
import type { ProviderConfig } from '../../../src/client/provider-config.ts'
import { AuthkestraError } from '../../../src/core/errors.ts'

let ps256: CryptoKey
let rs256: CryptoKey
before(async () => {
  ps256 = (await generateKeyPair('PS256')).privateKey
  rs256 = (await generateKeyPair('RS256')).privateKey
})

/** The bank's config with `patch` over it; an `undefined` in the patch removes the field. */
const bank = (patch: Readonly<Record<string, unknown>> = {}): ProviderConfig => {
  const config: Record<string, unknown> = {
    id: 'bank',
    issuer: 'https://bank.example',
    clientId: 'rp',
    redirectUri: 'https://rp.example/cb',
    clientPrivateKey: ps256,
    clientKeyId: 'k1',
    securityProfile: 'fapi2',
    ...patch,
  }
  for (const [key, value] of Object.entries(config)) if (value === undefined) delete config[key]
  return config as unknown as ProviderConfig
}

const refusal = (config: ProviderConfig): string => {
  try {
    new OAuth2Flow(config)
  } catch (err) {
    assert.ok(err instanceof AuthkestraError, String(err))
    assert.equal(err.code, 'config_invalid')
    return err.message
  }
  assert.fail('the config was accepted')
}

const META: AuthorizationServerMetadata = {
  issuer: 'https://bank.example',
  authorization_endpoint: 'https://bank.example/authorize',
  token_endpoint: 'https://bank.example/token',
  token_endpoint_auth_methods_supported: ['private_key_jwt'],
  dpop_signing_alg_values_supported: ['ES256', 'PS256'],
}

describe('client FAPI 2.0 profile', () => {
  it('refuses each config that cannot meet it, naming the field', () => {
    const cases: [string, () => Record<string, unknown>, RegExp][] = [
      [
        'a secret',
        () => ({ clientSecret: 's', clientPrivateKey: undefined }),
        /"clientSecret" is set/,
      ],
      ['no key', () => ({ clientPrivateKey: undefined }), /"clientPrivateKey" is required/],
      [
        'client_secret_basic',
        () => ({ clientAuthMethod: 'client_secret_basic' }),
        /"clientAuthMethod" is client_secret_basic/,
      ],
      ['an RS256 key', () => ({ clientPrivateKey: rs256 }), /"clientPrivateKey" signs RS256/],
      ['PAR off', () => ({ par: false }), /"par" is false/],
      ['DPoP off', () => ({ dpop: false }), /"dpop" is false/],
      ['RS256 proofs', () => ({ dpop: { alg: 'RS256' } }), /"dpop\.alg" is RS256/],
      ['PKCE off', () => ({ pkce: 'disabled-unsafe' }), /"pkce" is disabled/],
      ['no issuer', () => ({ issuer: undefined }), /"issuer" is required/],
      ['iss optional', () => ({ requireIssParameter: false }), /"requireIssParameter" is false/],
      ['RS256 ID tokens', () => ({ idTokenAlgorithms: ['ES256', 'RS256'] }), /lists RS256/],
      ['plain http', () => ({ allowInsecureHttp: true }), /"allowInsecureHttp" is true/],
      [
        'an http redirect',
        () => ({ redirectUri: 'http://rp.example/cb' }),
        /"redirectUri" is not https/,
      ],
    ]
    for (const [name, patch, message] of cases) assert.match(refusal(bank(patch())), message, name)
  })

  it('lists every problem at once; each rule passes a sound config', () => {
    const message = refusal(bank({ par: false, dpop: false }))
    assert.match(
      message,
      /^provider "bank" cannot meet the FAPI 2\.0 Security Profile: "par" is false; [^;]+; "dpop" is false; [^;]+$/,
    )
    assert.equal(FAPI2_CLIENT_RULES.length, 7)
    for (const rule of FAPI2_CLIENT_RULES) assert.deepEqual(rule(bank()), [], rule.name)
    assert.throws(
      () => new OAuth2Flow(bank({ securityProfile: 'fapi1' as 'fapi2' })),
      /"securityProfile" must be "fapi2"/,
    )
  })

  it('takes a loopback http redirect URI (development) and fills in the profile settings', () => {
    const effective = applySecurityProfile(bank({ redirectUri: 'http://127.0.0.1:3000/cb' }))
    assert.equal(effective.par, true)
    assert.equal(effective.dpop, true)
    assert.equal(effective.requireIssParameter, true)
    assert.equal(effective.clientAuthMethod, 'private_key_jwt')
    assert.deepEqual(effective.idTokenAlgorithms, ['PS256', 'ES256', 'EdDSA'])
    const kept = applySecurityProfile(
      bank({ dpop: { alg: 'EdDSA' }, idTokenAlgorithms: ['ES256'] }),
    )
    assert.deepEqual(kept.dpop, { alg: 'EdDSA' })
    assert.deepEqual(kept.idTokenAlgorithms, ['ES256'])
    const plain = bank({ securityProfile: undefined })
    assert.equal(applySecurityProfile(plain), plain, 'no profile: the config as given')
  })

  it('refuses a provider whose metadata lacks private_key_jwt or the DPoP algorithm', () => {
    const config = bank()
    checkFapi2Metadata(config, META)
    for (const [meta, message] of [
      [
        { ...META, token_endpoint_auth_methods_supported: ['client_secret_basic'] },
        /private_key_jwt/,
      ],
      [{ ...META, dpop_signing_alg_values_supported: undefined }, /does not advertise DPoP/],
      [{ ...META, dpop_signing_alg_values_supported: ['PS256'] }, /DPoP proofs in ES256/],
    ] as const) {
      assert.throws(
        () => checkFapi2Metadata(config, meta as AuthorizationServerMetadata),
        (err: unknown) =>
          err instanceof AuthkestraError &&
          err.code === 'discovery_invalid' &&
          message.test(err.message),
      )
    }
    checkFapi2Metadata(bank({ securityProfile: undefined }), {
      ...META,
      dpop_signing_alg_values_supported: undefined,
    })
  })

  it('refuses a bearer token response, and only under the profile', () => {
    const tokens = { accessToken: 'a', tokenType: 'Bearer' as const }
    assert.throws(
      () => checkSenderConstrained(bank(), tokens),
      (err: unknown) => err instanceof AuthkestraError && err.code === 'provider_bad_response',
    )
    checkSenderConstrained(bank({ securityProfile: undefined }), tokens)
  })
})
