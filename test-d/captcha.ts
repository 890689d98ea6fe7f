// Compile-only assertions on the public types of authkestra/captcha and createOp({ captcha }).
// `npm run typecheck` compiles this file; nothing runs it.
import {
  type CaptchaReason,
  type CaptchaResult,
  type CaptchaVerifier,
  hcaptcha,
  recaptchaV3,
  turnstile,
} from '../src/captcha/index.ts'
import type { OpCaptchaOptions, OpConfig } from '../src/op/index.ts'

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(): T => true as T

// verify resolves to a result, never throws a type: `ok` narrows to the pass or the failure
declare const verifier: CaptchaVerifier
declare const result: Awaited<ReturnType<CaptchaVerifier['verify']>>
assertType<Equals<typeof result, CaptchaResult>>()
if (result.ok) {
  assertType<Equals<typeof result.hostname, string>>()
  // @ts-expect-error a pass has no reason
  result.reason
} else {
  assertType<Equals<typeof result.reason, CaptchaReason>>()
}

// reasons are a closed union
// @ts-expect-error not a reason
const notAReason: CaptchaReason = 'captcha_whatever'

// each provider's required options: an action for Turnstile and reCAPTCHA, a site key for hCaptcha
// @ts-expect-error action is required
turnstile({ secret: 's', hostnames: ['h'] })
// @ts-expect-error siteKey is required
hcaptcha({ secret: 's', hostnames: ['h'] })
// @ts-expect-error hostnames is required (or 'any-unsafe')
recaptchaV3({ secret: 's', action: 'login' })
// @ts-expect-error turning the hostname check off is spelled out
turnstile({ secret: 's', hostnames: false, action: 'login' })

// createOp's captcha: 'always' or a number of failures
const always: OpCaptchaOptions = { verifier, siteKey: 'k', when: 'always' }
const after: OpConfig['captcha'] = { verifier, siteKey: 'k', when: { afterFailures: 2 } }
// @ts-expect-error no other policy
const never: OpCaptchaOptions = { verifier, siteKey: 'k', when: 'never' }

export { after, always, never, notAReason }
