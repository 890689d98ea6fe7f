/**
 * hCaptcha (docs.hcaptcha.com): siteverify takes `secret`, `response`, `remoteip` and `sitekey`
 * (which makes it refuse a token of another site key), and answers `success`, `error-codes`,
 * `challenge_ts`, `hostname`, `credit` and, on Enterprise, a risk `score`. Tokens live 120 s
 * and are used once (`already-seen-response`).
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { type CaptchaVerifierOptions, resolveCaptchaOptions } from './options.ts'
import type { CaptchaVerifier } from './types.ts'
import { createVerifier, remoteIpField } from './verify.ts'

/** Options of {@link hcaptcha}. */
export interface HcaptchaOptions extends CaptchaVerifierOptions {
  /** The site key the widget is rendered with; sent as `sitekey`. */
  readonly siteKey: string
  /**
   * hCaptcha Enterprise: the highest risk `score` accepted (0.0 no risk … 1.0 certain bot). With
   * it, an answer without a score is refused. Without it, the score is not looked at.
   */
  readonly maxScore?: number
}

/** hCaptcha's siteverify endpoint (the default `verifyUrl`).
 *
 * @example
 * ```ts
 * const verifier = hcaptcha({ secret, siteKey, hostnames, verifyUrl: HCAPTCHA_VERIFY_URL })
 * ```
 */
export const HCAPTCHA_VERIFY_URL = 'https://api.hcaptcha.com/siteverify'
const ORIGINS = ['https://hcaptcha.com', 'https://*.hcaptcha.com']

/**
 * A verifier of hCaptcha tokens (form field `h-captcha-response`).
 *
 * @example
 * ```ts
 * const verifier = hcaptcha({ secret, siteKey, hostnames: ['login.example.com'] })
 * const result = await verifier.verify(form.get('h-captcha-response'))
 * ```
 */
export function hcaptcha(options: HcaptchaOptions): CaptchaVerifier {
  const resolved = resolveCaptchaOptions(options, {
    name: 'hcaptcha',
    verifyUrl: HCAPTCHA_VERIFY_URL,
    tokenLifetimeSeconds: 120,
  })
  if (typeof options.siteKey !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(options.siteKey))
    throw new AuthkestraError(
      'config_invalid',
      'hcaptcha: "siteKey" must be the widget\'s site key',
    )
  const max = options.maxScore
  if (max !== undefined && (typeof max !== 'number' || !(max >= 0 && max <= 1)))
    throw new AuthkestraError('config_invalid', 'hcaptcha: "maxScore" must be from 0 to 1')
  const siteKey = options.siteKey
  return createVerifier(
    {
      expect: {
        provider: 'hcaptcha',
        hostnames: resolved.hostnames,
        action: undefined,
        score: max === undefined ? undefined : { max },
        maxAgeSeconds: resolved.maxAgeSeconds,
      },
      widget: {
        scriptUrl: () => 'https://js.hcaptcha.com/1/api.js',
        inlineScript: undefined,
        responseField: 'h-captcha-response',
        action: undefined,
        csp: { script: ORIGINS, frame: ORIGINS, connect: ORIGINS, style: ORIGINS },
      },
      maxTokenLength: 8192,
      form(token, verify) {
        const form = new URLSearchParams({
          secret: resolved.secret,
          response: token,
          sitekey: siteKey,
        })
        remoteIpField(form, verify.remoteIp)
        return form
      },
    },
    resolved,
  )
}
