/**
 * `authkestra`: the engine. Configure providers once, mount one handler in any framework, read
 * sessions (or stateless JWTs), protect routes with guards.
 *
 * @example
 * ```ts
 * import { createAuthkestra } from 'authkestra'
 * const auth = createAuthkestra({ providers, secret: process.env.AUTH_SECRET!, session: {} })
 * ```
 * @module
 */

export type { HeaderReader, MessageResponse } from './core/http-message.ts'
export type {
  AuthkestraConfig,
  BaseConfig,
  JwtConfig,
  JwtModeOptions,
  LoginContext,
  NoRevocation,
  OnLogin,
  SessionConfig,
  SessionModeOptions,
} from './engine/config.ts'
export {
  type AuthkestraBase,
  createAuthkestra,
  type SessionAuthkestra,
  type StatelessAuthkestra,
} from './engine/create-authkestra.ts'
export { anyOf } from './engine/guards/any-of.ts'
export {
  type ApiKeyMatch,
  type ApiKeyOptions,
  apiKey,
  apiKeyHashes,
} from './engine/guards/api-key.ts'
export { type BasicOptions, basic } from './engine/guards/basic.ts'
export { type BearerGuard, type BearerPrincipal, bearer } from './engine/guards/bearer.ts'
export type { BearerDpopOptions } from './engine/guards/bearer-dpop.ts'
export type {
  AsymmetricAlgorithm,
  BearerBaseOptions,
  BearerDiscoveryOptions,
  BearerJwksOptions,
  BearerLogger,
  BearerOptions,
  BearerSecretOptions,
  HmacAlgorithm,
} from './engine/guards/bearer-options.ts'
export { type DevsigGuard, type DevsigPrincipal, devsig } from './engine/guards/devsig.ts'
export type { DevsigOptions } from './engine/guards/devsig-options.ts'
export type {
  ResourceMetadataEndpoint,
  ResourceMetadataOptions,
} from './engine/guards/resource-metadata.ts'
export {
  type SessionGuardOptions,
  session,
  session as sessionGuard,
} from './engine/guards/session.ts'
export {
  type Guard,
  type GuardRequest,
  type GuardResult,
  type PrincipalOf,
  refuse,
} from './engine/guards/types.ts'
export { type EngineRequest, engineRequestOf } from './engine/message.ts'
export type { AuthPage, PagesOptions, PagesTheme } from './engine/pages.ts'
export { createMemoryRevocationStore } from './engine/revocations/memory.ts'
export type { RevocationStore } from './engine/revocations/types.ts'
export type { Session } from './engine/sessions/manager.ts'
export { createMemorySessionStore } from './engine/sessions/memory.ts'
export type { SessionStore, StoredSession } from './engine/sessions/types.ts'
export type { SessionJwt } from './engine/stateless.ts'
export { defaultUserKey, type LoginSubject, type UserKeyOf } from './engine/user-key.ts'
