/**
 * `authkestra/op`: the embedded OpenID Provider: discovery, JWKS, authorization with PKCE
 * required, login and consent pages, token (authorization code, refresh with rotation, client
 * credentials), userinfo, revocation and introspection, over an {@link OpStore}.
 *
 * @example
 * ```ts
 * import { createOp } from 'authkestra/op'
 * const op = await createOp({ issuer: 'http://127.0.0.1:9000', clients: [...], accounts: [...] })
 * ```
 * @module
 */

export type { ClientAssertionAlgorithm } from './client-keys.ts'
export type {
  CustomGrant,
  CustomGrantHandler,
  CustomGrantRequest,
  CustomGrantResult,
  OpAccount,
  OpAccountConfig,
  OpClientAssertionOptions,
  OpClientConfig,
  OpConfig,
  OpLogger,
  OpRefreshTokenOptions,
  OpTtl,
} from './config.ts'
export {
  createOp,
  type InteractionDetails,
  type InteractionResult,
  type Op,
  type OpRequestInfo,
} from './create-op.ts'
export type { OpDevsigOptions } from './devsig.ts'
export type { OpCaptchaOptions } from './endpoints/interaction/captcha.ts'
export { GrantError, type GrantErrorCode } from './errors.ts'
export { FAPI2_ALGORITHMS, type OpProfile } from './fapi2.ts'
export type { OpLimitName, OpLimitSetting, OpRateLimitOptions } from './limits.ts'
export type { RefreshRotation } from './refresh-policy.ts'
export type { OpResource } from './resources.ts'
export { SIGNING_ALGS, type SigningAlg } from './signing-algs.ts'
export { createMemoryOpStore } from './store/memory.ts'
export type {
  AccountRecord,
  AuthorizationRequest,
  ClientRecord,
  CodeRecord,
  ConsumableKind,
  Consumed,
  GrantBinding,
  InteractionRecord,
  ListableKind,
  OpRecordKind,
  OpRecords,
  OpSetOptions,
  OpStore,
  RefreshRecord,
  SealKeyRecord,
  SessionRecord,
  SigningKeyRecord,
} from './store/types.ts'
