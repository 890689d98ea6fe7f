/**
 * Cloudflare Turnstile (developers.cloudflare.com/turnstile): tokens of at most 2048 characters
 * that live 300 s and are used once; siteverify takes `secret`, `response`, `remoteip` and
 * `idempotency_key`, and answers `success`, `error-codes`, `challenge_ts`, `hostname`, `action`
 * and `cdata`.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { type CaptchaVerifierOptions, resolveCaptchaOptions } from './options.ts'
import type { CaptchaVerifier } from './types.ts'
import { createVerifier, remoteIpField } from './verify.ts'

/** Options of {@link turnstile}. */
export interface TurnstileOptions extends CaptchaVerifierOptions {
  /**
   * The widget's action (`data-action`, at most 32 of `A-Z a-z 0-9 _ -`); a token solved for
   * another action is refused.
   */
  readonly action: string
}

/** Turnstile's siteverify endpoint (the default `verifyUrl`).
 *
 * @example
 * ```ts
 * const verifier = turnstile({ secret, hostnames, action: 'login', verifyUrl: TURNSTILE_VERIFY_URL })
 * ```
 */
export const TURNSTILE_VERIFY_URL = 'https://challenges.cloudflare.com/turnstile/v0/siteverify'
const ORIGIN = 'https://challenges.cloudflare.com'

/**
 * A verifier of Cloudflare Turnstile tokens (form field `cf-turnstile-response`).
 *
 * @example
 * ```ts
 * const verifier = turnstile({ secret: process.env.TURNSTILE_SECRET ?? '', hostnames: ['login.example.com'], action: 'login' })
 * const result = await verifier.verify(form.get('cf-turnstile-response'), { remoteIp })
 * if (!result.ok) console.warn(result.reason)
 * ```
 */
export function turnstile(options: TurnstileOptions): CaptchaVerifier {
  const resolved = resolveCaptchaOptions(options, {
    name: 'turnstile',
    verifyUrl: TURNSTILE_VERIFY_URL,
    tokenLifetimeSeconds: 300,
  })
  if (typeof options.action !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(options.action))
    throw new AuthkestraError(
      'config_invalid',
      'turnstile: "action" must be 1 to 32 of A-Z a-z 0-9 _ -',
    )
  return createVerifier(
    {
      expect: {
        provider: 'turnstile',
        hostnames: resolved.hostnames,
        action: options.action,
        score: undefined,
        maxAgeSeconds: resolved.maxAgeSeconds,
      },
      widget: {
        scriptUrl: () => `${ORIGIN}/turnstile/v0/api.js`,
        inlineScript: undefined,
        responseField: 'cf-turnstile-response',
        action: options.action,
        csp: { script: [ORIGIN], frame: [ORIGIN], connect: [], style: [] },
      },
      maxTokenLength: 2048,
      form(token, verify) {
        const form = new URLSearchParams({ secret: resolved.secret, response: token })
        remoteIpField(form, verify.remoteIp)
        const key = verify.idempotencyKey
        if (key !== undefined && /^[0-9a-f-]{36}$/i.test(key)) form.set('idempotency_key', key)
        return form
      },
    },
    resolved,
  )
}
