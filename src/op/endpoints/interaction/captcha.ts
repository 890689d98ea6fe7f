/**
 * A bot check (Turnstile, hCaptcha or reCAPTCHA v3, from `authkestra/captcha`) on the built-in
 * login page: when {@link captchaRequired} says so, the page shows the provider's widget (its
 * script and frame origins, and nothing else, added to the page's CSP) and the POST must carry a
 * token that verifies before the password is looked at. A missing or refused token is a failed
 * attempt. Passkey sign-ins, which no password guesser can use, need none.
 *
 * @module
 */
import type { CaptchaVerifier, CaptchaWidget } from '../../../captcha/types.ts'
import { encodeBase64url } from '../../../core/base64url.ts'
import { defaultCrypto } from '../../../core/crypto/index.ts'
import { configError } from '../../config.ts'
import { escapeHtml } from '../../http/html.ts'
import type { OpRequest } from '../../http/message.ts'
import type { Params } from '../../http/params.ts'
import type { CspSources } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type { InteractionRecord } from '../../store/types.ts'

/** `createOp({ captcha })`: a bot check on the built-in login page. */
export interface OpCaptchaOptions {
  /** A verifier from `authkestra/captcha` (`turnstile`, `hcaptcha`, `recaptchaV3`). */
  readonly verifier: CaptchaVerifier
  /** The widget's public site key (rendered as `data-sitekey`). */
  readonly siteKey: string
  /**
   * `'always'` (the default), or only once `afterFailures` (1 to 20) failed sign-ins were counted
   * in this interaction or, across interactions, for the client's address (`passwordPerIp`).
   */
  readonly when?: 'always' | { readonly afterFailures: number }
}

/** {@link OpCaptchaOptions} checked. `afterFailures: 0` is `'always'`. */
export interface ResolvedCaptcha {
  readonly verifier: CaptchaVerifier
  readonly siteKey: string
  readonly afterFailures: number
}

/** What a bot check is decided on. */
export interface CaptchaSignals {
  /** Failed sign-ins in this interaction so far. */
  readonly failedLogins: number
  /**
   * Failed passwords the client's address has counted under `passwordPerIp` now (they drain one
   * per emission interval): a bot that opens a new interaction per guess is still seen.
   */
  readonly addressFailures: number
}

/** The message a refused or missing token shows: the same whatever the reason. */
export const CAPTCHA_FAILED =
  'Please complete the check that you are not a robot, then sign in again.'

/** Checks `createOp({ captcha })` at start (`config_invalid`, naming the field). */
export function resolveCaptcha(
  options: OpCaptchaOptions | undefined,
  interactionUrl: string | undefined,
): ResolvedCaptcha | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null)
    throw configError('"captcha" must be { verifier, siteKey, when }')
  if (interactionUrl !== undefined)
    throw configError(
      '"captcha" guards the built-in login page; with "interactionUrl" check tokens in your own page',
    )
  const { verifier, siteKey, when = 'always' } = options
  if (
    typeof verifier?.verify !== 'function' ||
    typeof verifier.widget?.scriptUrl !== 'function' ||
    typeof verifier.widget.responseField !== 'string'
  )
    throw configError('"captcha.verifier" must be made by authkestra/captcha')
  if (typeof siteKey !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(siteKey))
    throw configError('"captcha.siteKey" must be the widget\'s site key')
  if (when === 'always') return { verifier, siteKey, afterFailures: 0 }
  const n = typeof when === 'object' && when !== null ? when.afterFailures : undefined
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 20)
    throw configError('"captcha.when" must be "always" or { afterFailures: 1 to 20 }')
  return { verifier, siteKey, afterFailures: n }
}

/**
 * Whether the next sign-in attempt needs a bot check: always, or once the signals show enough
 * failures (for now, the interaction's own count).
 */
export function captchaRequired(
  captcha: ResolvedCaptcha | undefined,
  signals: CaptchaSignals,
): captcha is ResolvedCaptcha {
  return (
    captcha !== undefined &&
    Math.max(signals.failedLogins, signals.addressFailures) >= captcha.afterFailures
  )
}

/** The signals of an interaction, and of the client's address when the request is known. */
export async function signalsOf(
  record: InteractionRecord,
  deps: Pick<OpRuntime, 'limits' | 'clientAddress' | 'captcha'>,
  request: OpRequest | undefined,
): Promise<CaptchaSignals> {
  const failedLogins = record.failedLogins ?? 0
  // Cheap first: `always`, or the interaction's own count, decides without the store.
  const afterFailures = deps.captcha?.afterFailures ?? 0
  if (request === undefined || failedLogins >= afterFailures)
    return { failedLogins, addressFailures: 0 }
  const addressFailures = await deps.limits.spent('passwordPerIp', deps.clientAddress(request))
  return { failedLogins, addressFailures }
}

/** The widget's markup inside the login form, and what the page's CSP must then allow. */
export interface LoginCaptcha {
  readonly html: string
  readonly csp: CspSources & { readonly frame: readonly string[] }
  /** Hashes of the provider's constant inline script (reCAPTCHA v3), for `script-src`. */
  readonly scriptHashes: readonly string[]
}

const hashes = new WeakMap<CaptchaWidget, Promise<string>>()

/** The CSP source of an inline script: `sha256-` and its base64 digest. */
function scriptHash(widget: CaptchaWidget, script: string): Promise<string> {
  let hash = hashes.get(widget)
  if (!hash) {
    hash = defaultCrypto.sha256(script).then((digest) => {
      const b64 = encodeBase64url(digest).replace(/-/g, '+').replace(/_/g, '/')
      return `sha256-${b64}${'='.repeat((4 - (b64.length % 4)) % 4)}`
    })
    hashes.set(widget, hash)
  }
  return hash
}

/** The widget for the login page of `record`, when its next attempt needs one. */
export async function loginCaptcha(
  record: InteractionRecord,
  deps: OpRuntime,
  request: OpRequest | undefined,
): Promise<LoginCaptcha | undefined> {
  const captcha = deps.captcha
  if (!captchaRequired(captcha, await signalsOf(record, deps, request))) return undefined
  const { widget, provider } = captcha.verifier
  const key = escapeHtml(captcha.siteKey)
  const action = widget.action === undefined ? '' : ` data-action="${escapeHtml(widget.action)}"`
  const script = `<script src="${escapeHtml(widget.scriptUrl(captcha.siteKey))}" async defer></script>`
  const element =
    provider === 'recaptcha-v3'
      ? `<input type="hidden" name="${widget.responseField}" value="" data-recaptcha data-sitekey="${key}"${action}>`
      : `<div class="${provider === 'turnstile' ? 'cf-turnstile' : 'h-captcha'}" data-sitekey="${key}"${action}></div>`
  const inline = widget.inlineScript
  return {
    html: `${element}\n${script}${inline === undefined ? '' : `<script>${inline}</script>`}`,
    csp: widget.csp,
    scriptHashes: inline === undefined ? [] : [await scriptHash(widget, inline)],
  }
}

/**
 * Before the password: true when no check is needed or the posted token verifies. The reason of
 * a refusal goes to the log (never the token); the user sees {@link CAPTCHA_FAILED}.
 */
export async function captchaPassed(
  request: OpRequest,
  record: InteractionRecord,
  params: Params,
  deps: OpRuntime,
): Promise<boolean> {
  const captcha = deps.captcha
  if (!captchaRequired(captcha, await signalsOf(record, deps, request))) return true
  const posted = params.raw.getAll(captcha.verifier.widget.responseField)
  const token = posted.length > 1 ? posted : posted[0]
  const result = await captcha.verifier.verify(token, { remoteIp: deps.clientAddress(request) })
  if (result.ok) return true
  deps.logger.warn(`login bot check refused: ${result.reason} (${result.detail})`)
  return false
}
