/**
 * The shapes every bot-check verifier shares: the result (a pass, or a failure with a stable
 * reason), what a verification takes, and what a login page needs to show the provider's widget.
 *
 * @module
 */

/** The providers Authkestra verifies tokens of. */
export type CaptchaProvider = 'turnstile' | 'hcaptcha' | 'recaptcha-v3'

/**
 * Why a token was refused; stable, documented in `docs/captcha.md`:
 * - `captcha_missing`: no token (empty field).
 * - `captcha_invalid`: not a token (too long, bad characters) or the provider refused it.
 * - `captcha_replayed`: used before: seen by `useOnce`, or the provider says it is a duplicate
 *   (`timeout-or-duplicate`, `already-seen-response`).
 * - `captcha_hostname`: solved on a host outside the allow-list (or the provider named none).
 * - `captcha_action`: solved for another action (or the provider named none).
 * - `captcha_score`: the score is below the minimum (above the maximum risk, hCaptcha), or absent.
 * - `captcha_stale`: solved longer ago than allowed (or no `challenge_ts`).
 * - `captcha_unavailable`: siteverify could not be asked or gave no usable answer (network error,
 *   timeout, non-200, not JSON, too large, no `success`), or the replay store failed.
 * - `captcha_misconfigured`: the provider says the secret or site key is wrong.
 */
export type CaptchaReason =
  | 'captcha_missing'
  | 'captcha_invalid'
  | 'captcha_replayed'
  | 'captcha_hostname'
  | 'captcha_action'
  | 'captcha_score'
  | 'captcha_stale'
  | 'captcha_unavailable'
  | 'captcha_misconfigured'

/** What siteverify said of a token that passed every check. */
export interface CaptchaPass {
  readonly ok: true
  readonly provider: CaptchaProvider
  /** The host the challenge was solved on. */
  readonly hostname: string
  /** When the challenge was solved (ms since the epoch). */
  readonly challengeTs: number
  /** Turnstile and reCAPTCHA v3: the action it was solved for. */
  readonly action?: string | undefined
  /** reCAPTCHA v3 (1.0 human … 0.0 bot), hCaptcha Enterprise (risk: 0.0 low … 1.0 high). */
  readonly score?: number | undefined
  /** Turnstile: the customer data the widget carried (`data-cdata`). */
  readonly cdata?: string | undefined
  /** hCaptcha: whether the solve counted for credit. */
  readonly credit?: boolean | undefined
}

/** A refused token: a stable reason, for operators the provider's codes; never the token. */
export interface CaptchaFailure {
  readonly ok: false
  readonly provider: CaptchaProvider
  readonly reason: CaptchaReason
  /** The provider's `error-codes` (empty when the failure is ours). */
  readonly providerCodes: readonly string[]
  /** A sentence for logs; it never holds the token, the secret or the body of an answer. */
  readonly detail: string
}

/** The outcome of {@link CaptchaVerifier.verify}: never an exception. */
export type CaptchaResult = CaptchaPass | CaptchaFailure

/** Context of one verification. */
export interface CaptchaVerifyOptions {
  /** The user's IP address, sent as `remoteip` (recommended by every provider). */
  readonly remoteIp?: string | undefined
  /**
   * Turnstile: a UUID naming this verification, so that retrying it (same key) is not taken
   * for a reuse of the token.
   */
  readonly idempotencyKey?: string | undefined
  /** Cancels the call (on top of the verifier's own timeout). */
  readonly signal?: AbortSignal | undefined
}

/** What a page needs to show the provider's widget, and what its CSP must then allow. */
export interface CaptchaWidget {
  /** The provider's script for a site key (`<script src async defer>`). */
  scriptUrl(siteKey: string): string
  /**
   * A constant inline script the page must also run (reCAPTCHA v3: it asks for a token when the
   * form is submitted); the page's CSP allows it by its hash. Reads the site key and the action
   * from the form's `data-sitekey` and `data-action`, so no value is ever written into it.
   */
  readonly inlineScript: string | undefined
  /** The form field the widget fills with the token. */
  readonly responseField: string
  /** The action the widget is rendered with (Turnstile, reCAPTCHA v3). */
  readonly action: string | undefined
  /** Origins (or path prefixes) the page's CSP must allow, by directive. */
  readonly csp: {
    readonly script: readonly string[]
    readonly frame: readonly string[]
    readonly connect: readonly string[]
    readonly style: readonly string[]
  }
}

/** A verifier of one provider's tokens, made by `turnstile`, `hcaptcha` or `recaptchaV3`. */
export interface CaptchaVerifier {
  readonly provider: CaptchaProvider
  /** How a page shows this provider's widget. */
  readonly widget: CaptchaWidget
  /** Verifies a token posted by a form: every check, in order; fails closed, never throws. */
  verify(token: unknown, options?: CaptchaVerifyOptions): Promise<CaptchaResult>
}

/**
 * Remembers a token's use: true the first time, false while remembered (`OpStore.useOnce` has
 * this shape). Keyed by the SHA-256 of the token, never the token.
 */
export type UseOnce = (id: string, ttlSeconds: number) => Promise<boolean>
