/**
 * `authkestra/client`: the relying-party side. {@link OAuth2Flow} runs the authorization code
 * flow with PKCE, state and nonce; {@link sealFlowState}/{@link openFlowState} keep the flow state
 * in a cookie; discovery, JWKS and ID-token validation come with it.
 *
 * @example
 * ```ts
 * import { OAuth2Flow, sealFlowState, openFlowState } from 'authkestra/client'
 * ```
 * @module
 */
export type { CallbackInput } from './callback.ts'
export {
  CLIENT_ASSERTION_ALGS,
  type ClientAssertionAlg,
  type ClientPrivateJwk,
} from './client-assertion.ts'
export type { ClientCredentials } from './client-auth.ts'
export { ClientCredentialsFlow, type ClientCredentialsOptions } from './client-credentials.ts'
export {
  DEVICE_CODE_GRANT_TYPE,
  type DeviceAuthorization,
} from './device-authorization.ts'
export { DeviceFlow, type DeviceLoginResult, type DevicePollOptions } from './device-flow.ts'
export {
  createDevsigSigner,
  type DeviceAttestation,
  type DevsigRequest,
  type DevsigSigner,
  type EnrollDeviceOptions,
  enrollDevice,
} from './devsig.ts'
export { DiscoveryCache, type DiscoveryKind, wellKnownUrl } from './discovery.ts'
export type { ResourceInit } from './dpop.ts'
export type { ClientSecurityProfile } from './fapi2.ts'
export {
  FLOW_STATE_MAX_TTL_MS,
  type FlowState,
  type FlowStateSealDeps,
  openFlowState,
  sealFlowState,
} from './flow-state.ts'
export { type HttpOptions, resolveHttpOptions } from './http.ts'
export { SUPPORTED_ID_TOKEN_ALGS } from './id-token.ts'
export {
  type Claims,
  type Identity,
  oidcProfile,
  type Profile,
  type ProfileMapper,
  stringClaim,
} from './identity.ts'
export type { JwksTiming } from './jwks.ts'
export type { AuthorizationServerMetadata } from './metadata.ts'
export {
  type InitiateLoginOptions,
  type LoginResult,
  type LoginStart,
  OAuth2Flow,
  type OAuth2FlowOptions,
  type RefreshOptions,
} from './oauth2-flow.ts'
export {
  type PushDeps,
  type PushedAuthorizationRequest,
  pushAuthorizationRequest,
} from './par.ts'
export type {
  AuthorizedGet,
  ClientAuthMethod,
  ProviderConfig,
  ProviderQuirks,
} from './provider-config.ts'
export type { ResolvedProvider } from './resolve-provider.ts'
export { isSafeReturnTo, MAX_RETURN_TO_BYTES } from './return-to.ts'
export type { TokenTypeHint } from './revocation.ts'
export type { TokenSet } from './tokens.ts'
