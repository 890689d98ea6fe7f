/**
 * Authorization server metadata (RFC 8414 / OpenID Connect Discovery 1.0): the subset the client
 * reads, with wire names unchanged.
 *
 * @module
 */

/** What a discovery document says about an authorization server. */
export interface AuthorizationServerMetadata {
  readonly issuer: string
  readonly authorization_endpoint: string
  readonly token_endpoint: string
  readonly userinfo_endpoint?: string
  readonly revocation_endpoint?: string
  /** RP-Initiated Logout 1.0 §2.1. */
  readonly end_session_endpoint?: string
  /** RFC 8628 §4. */
  readonly device_authorization_endpoint?: string
  readonly jwks_uri?: string
  /** RFC 9126 §5. */
  readonly pushed_authorization_request_endpoint?: string
  /** RFC 9126 §5: the server accepts authorization requests only through PAR. */
  readonly require_pushed_authorization_requests?: boolean
  readonly scopes_supported?: readonly string[]
  readonly code_challenge_methods_supported?: readonly string[]
  readonly token_endpoint_auth_methods_supported?: readonly string[]
  readonly id_token_signing_alg_values_supported?: readonly string[]
  readonly authorization_response_iss_parameter_supported?: boolean
  readonly [key: string]: unknown
}
