/**
 * Google reCAPTCHA v3 (developers.google.com/recaptcha/docs/v3, /docs/verify): siteverify takes
 * `secret`, `response` and `remoteip`, and answers `success`, `score` (1.0 very likely human …
 * 0.0 very likely a bot), `action`, `challenge_ts`, `hostname` and `error-codes`. Tokens live two
 * minutes and verify once (`timeout-or-duplicate`).
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { type CaptchaVerifierOptions, resolveCaptchaOptions } from './options.ts'
import type { CaptchaVerifier } from './types.ts'
import { createVerifier, remoteIpField } from './verify.ts'

/** Options of {@link recaptchaV3}. */
export interface RecaptchaV3Options extends CaptchaVerifierOptions {
  /** The action `grecaptcha.execute` is called with (`A-Z a-z 0-9 _ /`); another is refused. */
  readonly action: string
  /** The lowest score accepted, 0 to 1 (default 0.5, Google's suggested start). */
  readonly minScore?: number
}

/** reCAPTCHA's siteverify endpoint (the default `verifyUrl`).
 *
 * @example
 * ```ts
 * const verifier = recaptchaV3({ secret, hostnames, action: 'login', verifyUrl: RECAPTCHA_VERIFY_URL })
 * ```
 */
export const RECAPTCHA_VERIFY_URL = 'https://www.google.com/recaptcha/api/siteverify'

/**
 * Asks for a token when the login form is submitted: the hidden `g-recaptcha-response` input
 * marked `data-recaptcha` carries the site key and action; its form is submitted with the token
 * (or without one when the API did not load: the server then refuses it).
 */
const SUBMIT_SCRIPT = `(function(){
document.querySelectorAll('input[data-recaptcha]').forEach(function(field){var form=field.form;if(!form)return;
form.addEventListener('submit',function(ev){ev.preventDefault();
if(typeof grecaptcha==='undefined'){form.submit();return}
grecaptcha.ready(function(){grecaptcha.execute(field.getAttribute('data-sitekey'),{action:field.getAttribute('data-action')}).then(function(t){field.value=t;form.submit()},function(){form.submit()})})})})})()`

/**
 * A verifier of reCAPTCHA v3 tokens (form field `g-recaptcha-response`).
 *
 * @example
 * ```ts
 * const verifier = recaptchaV3({ secret, hostnames: ['login.example.com'], action: 'login', minScore: 0.7 })
 * const result = await verifier.verify(form.get('g-recaptcha-response'), { remoteIp })
 * ```
 */
export function recaptchaV3(options: RecaptchaV3Options): CaptchaVerifier {
  const resolved = resolveCaptchaOptions(options, {
    name: 'recaptcha-v3',
    verifyUrl: RECAPTCHA_VERIFY_URL,
    tokenLifetimeSeconds: 120,
  })
  if (typeof options.action !== 'string' || !/^[A-Za-z0-9_/]{1,100}$/.test(options.action))
    throw new AuthkestraError(
      'config_invalid',
      'recaptcha-v3: "action" must be 1 to 100 of A-Z a-z 0-9 _ /',
    )
  const min = options.minScore ?? 0.5
  if (typeof min !== 'number' || !(min >= 0 && min <= 1))
    throw new AuthkestraError('config_invalid', 'recaptcha-v3: "minScore" must be from 0 to 1')
  return createVerifier(
    {
      expect: {
        provider: 'recaptcha-v3',
        hostnames: resolved.hostnames,
        action: options.action,
        score: { min },
        maxAgeSeconds: resolved.maxAgeSeconds,
      },
      widget: {
        scriptUrl: (siteKey) =>
          `https://www.google.com/recaptcha/api.js?render=${encodeURIComponent(siteKey)}`,
        inlineScript: SUBMIT_SCRIPT,
        responseField: 'g-recaptcha-response',
        action: options.action,
        csp: {
          script: ['https://www.google.com/recaptcha/', 'https://www.gstatic.com/recaptcha/'],
          frame: ['https://www.google.com/recaptcha/', 'https://recaptcha.google.com/recaptcha/'],
          connect: [],
          style: [],
        },
      },
      maxTokenLength: 8192,
      form(token, verify) {
        const form = new URLSearchParams({ secret: resolved.secret, response: token })
        remoteIpField(form, verify.remoteIp)
        return form
      },
    },
    resolved,
  )
}
