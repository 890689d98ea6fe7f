/**
 * Discovery (OIDC Discovery 1.0 §3, RFC 8414 §2) and the JWKS (RFC 7517 §5). The metadata lists
 * only what the OP enforces: S256 only, `iss` on every authorization response, query mode only.
 *
 * @module
 */

import { ACR_VALUES } from '../acr.ts'
import type { OpResponse } from '../http/message.ts'
import { json } from '../http/responses.ts'
import type { KeyManager } from '../keys.ts'
import type { OpSettings } from '../setup.ts'
import { DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT } from '../store/types.ts'
import { SUPPORTED_CLAIMS } from '../tokens/claims.ts'

/** A list of accepted algorithms as advertised: `Ed25519` (RFC 9864's name) beside `EdDSA`. */
const withEd25519 = (algs: readonly string[]): string[] =>
  algs.flatMap((a) => (a === 'EdDSA' ? ['EdDSA', 'Ed25519'] : [a]))

/** The metadata document. */
export function metadata(settings: OpSettings): Record<string, unknown> {
  const fapi2 = settings.profile === 'fapi2'
  // FAPI 2.0 (§5.3.2.1): confidential clients with private_key_jwt only, no device grant.
  const methods = fapi2
    ? ['private_key_jwt']
    : ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']
  // OIDC Discovery §3, RFC 8414 §2: the algorithms private_key_jwt assertions may use.
  const assertionAlgs = withEd25519(settings.clientAssertion.algorithms)
  return {
    issuer: settings.issuer,
    authorization_endpoint: settings.urls.authorization,
    token_endpoint: settings.urls.token,
    userinfo_endpoint: settings.urls.userinfo,
    jwks_uri: settings.urls.jwks,
    revocation_endpoint: settings.urls.revocation,
    introspection_endpoint: settings.urls.introspection,
    end_session_endpoint: settings.urls.endSession,
    ...(fapi2 ? {} : { device_authorization_endpoint: settings.urls.deviceAuthorization }),
    pushed_authorization_request_endpoint: settings.urls.par,
    require_pushed_authorization_requests: settings.par.required,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: true,
    frontchannel_logout_session_supported: true,
    scopes_supported: [...settings.scopes],
    claims_supported: [...SUPPORTED_CLAIMS, 'acr', 'amr', 'auth_time'],
    acr_values_supported: [...ACR_VALUES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      ...(fapi2 ? [] : [DEVICE_CODE_GRANT]),
      TOKEN_EXCHANGE_GRANT,
      ...settings.customGrants.keys(),
    ],
    subject_types_supported: ['public'],
    // Every algorithm the OP holds a key for; a client picks one (id_token_signed_response_alg).
    id_token_signing_alg_values_supported: [...settings.signingAlgs.all],
    token_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_methods_supported: methods.filter((m) => m !== 'none'),
    token_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    // RFC 9449 §5.1: proofs are accepted at the token endpoint and at userinfo.
    dpop_signing_alg_values_supported: withEd25519(settings.dpop.algorithms),
    prompt_values_supported: ['none', 'login', 'consent'],
    // Only `id_token.acr` of a `claims` request is acted on (OIDC Core §5.5.1.1).
    claims_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    // Not registered metadata: this OP's device-bound request signatures (docs/devsig.md).
    ...(settings.devsig
      ? {
          devsig_challenge_endpoint: settings.urls.devsigChallenge,
          devsig_enrollment_endpoint: settings.urls.devsigEnroll,
          devsig_signing_alg_values_supported: [...settings.devsig.algorithms],
        }
      : {}),
  }
}

/** `GET` the discovery document (cacheable for 5 minutes). */
export function discoveryEndpoint(settings: OpSettings): OpResponse {
  return json(metadata(settings), 200, { 'cache-control': 'public, max-age=300' }, true)
}

/** `GET` the public keys (cacheable for 5 minutes; rotation keeps old keys published). */
export async function jwksEndpoint(keys: KeyManager): Promise<OpResponse> {
  return json(
    await keys.publicJwks(),
    200,
    {
      'content-type': 'application/jwk-set+json',
      'cache-control': 'public, max-age=300',
    },
    true,
  )
}
