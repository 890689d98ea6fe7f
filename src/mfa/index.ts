/**
 * `authkestra/mfa`: second factors and passwordless sign-in as primitives without HTTP: TOTP
 * (RFC 6238) with `otpauth://` URIs and QR codes, passkeys (WebAuthn, via
 * `@simplewebauthn/server`), recovery codes, and the {@link CredentialStore} they live in.
 *
 * @example
 * ```ts
 * import { createMemoryCredentialStore, createMfa } from 'authkestra/mfa'
 * const mfa = createMfa({ store: createMemoryCredentialStore(), secret, issuer: 'Acme' })
 * const result = await mfa.verifyTotp('alice', '123456')
 * if (!result.ok) console.log(result.reason) // 'invalid_code' | 'rate_limited' | …
 * ```
 * @module
 */
export { decodeBase32, encodeBase32 } from './base32.ts'
export {
  type AccountFactors,
  createMfa,
  type FactorSummary,
  type Mfa,
  type MfaOptions,
  type TotpEnrollment,
} from './create-mfa.ts'
export { type PasskeyRp, type PasskeyUse, passkeyRpFor } from './passkeys.ts'
export { normalizeRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.ts'
export type { MfaFailed, MfaFailure, MfaResult } from './results.ts'
export { createMemoryCredentialStore } from './store/memory.ts'
export type { CredentialKind, CredentialStore, StoredCredential } from './store/types.ts'
export {
  generateTotpSecret,
  hotp,
  type TotpParams,
  type TotpUriOptions,
  totpCode,
  totpQrSvg,
  totpStep,
  totpUri,
  type VerifyTotpOptions,
  verifyTotp,
} from './totp.ts'
