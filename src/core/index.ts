/**
 * `authkestra/core`: PKCE, random tokens, base64url, the crypto seam, key derivation, the clock,
 * and the error type. Imports nothing else of Authkestra and runs on any Web-standard runtime.
 *
 * @example
 * ```ts
 * import { Pkce } from 'authkestra/core'
 * const pkce = await Pkce.generate()
 * ```
 * @module
 */
export { decodeBase64url, encodeBase64url, isBase64url } from './base64url.ts'
export { addressBucket, type ClientIpResolver, createClientIpResolver } from './client-ip.ts'
export { type Clock, systemClock } from './clock.ts'
export { type CookieScope, readCookie, serializeCookie } from './cookies.ts'
export {
  type BinaryInput,
  type CryptoBackend,
  defaultCrypto,
  type ScryptParams,
  webCrypto,
} from './crypto/index.ts'
export {
  AuthkestraError,
  type AuthkestraErrorCode,
  type AuthkestraErrorOptions,
  isAuthkestraError,
} from './errors.ts'
export {
  createKeyring,
  type DerivedKey,
  type Keyring,
  MIN_SECRET_BYTES,
  type Secret,
} from './keyring.ts'
export { consoleLogger, type Logger, type LogLevel } from './logger.ts'
export { hashPassword, verifyPassword } from './password.ts'
export {
  Pkce,
  type PkceGenerateOptions,
  type PkceMethod,
  type PkcePair,
  type PkceVerifyOptions,
} from './pkce.ts'
export { randomToken } from './random.ts'
export {
  checkRateLimitRule,
  createMemoryRateLimitStore,
  decisionAfter,
  type GcraStep,
  gcraStep,
  type MemoryRateLimitOptions,
  type RateLimitDecision,
  type RateLimitRule,
  type RateLimitStore,
} from './rate-limit.ts'
