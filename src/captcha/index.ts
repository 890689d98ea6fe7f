/**
 * `authkestra/captcha`: server-side verification of bot-check tokens (Cloudflare Turnstile,
 * hCaptcha, Google reCAPTCHA v3) over each provider's siteverify API, failing closed with a
 * stable reason. Imports only `authkestra/core`; the OP's login page uses it (`createOp({ captcha })`).
 *
 * @example
 * ```ts
 * import { turnstile } from 'authkestra/captcha'
 * const verifier = turnstile({ secret, hostnames: ['login.example.com'], action: 'login' })
 * const result = await verifier.verify(token)
 * ```
 * @module
 */
export { HCAPTCHA_VERIFY_URL, type HcaptchaOptions, hcaptcha } from './hcaptcha.ts'
export type { CaptchaVerifierOptions } from './options.ts'
export { RECAPTCHA_VERIFY_URL, type RecaptchaV3Options, recaptchaV3 } from './recaptcha.ts'
export { TURNSTILE_VERIFY_URL, type TurnstileOptions, turnstile } from './turnstile.ts'
export type {
  CaptchaFailure,
  CaptchaPass,
  CaptchaProvider,
  CaptchaReason,
  CaptchaResult,
  CaptchaVerifier,
  CaptchaVerifyOptions,
  CaptchaWidget,
  UseOnce,
} from './types.ts'
