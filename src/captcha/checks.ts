/**
 * The checks of a bot-check token, in the order {@link verifyToken} runs them; each is a small
 * named function that answers a failure or `undefined`. References: Cloudflare Turnstile "Validate
 * the token" (developers.cloudflare.com/turnstile/get-started/server-side-validation), hCaptcha
 * "Verify the User Response Server Side" (docs.hcaptcha.com/#verify-the-user-response-server-side),
 * reCAPTCHA "Verifying the user's response" and "reCAPTCHA v3" (developers.google.com/recaptcha).
 *
 * @module
 */
import type { SiteverifyAnswer } from './siteverify.ts'
import type { CaptchaFailure, CaptchaProvider, CaptchaReason } from './types.ts'

/** What a passing answer must show, resolved from a verifier's options. */
export interface Expectations {
  readonly provider: CaptchaProvider
  /** Lower-cased hosts the widget may be solved on, or every host (`'any-unsafe'`). */
  readonly hostnames: ReadonlySet<string> | 'any-unsafe'
  /** The action the widget was rendered with, when the provider reports one. */
  readonly action: string | undefined
  /** `min`: reCAPTCHA's score (1.0 human); `max`: hCaptcha Enterprise's risk score. */
  readonly score: { readonly min: number } | { readonly max: number } | undefined
  /** How old `challenge_ts` may be, seconds. */
  readonly maxAgeSeconds: number
}

/** Seconds `challenge_ts` may lie ahead of our clock (the provider's clock is not ours). */
const FUTURE_SKEW_SECONDS = 5

/** A failure result; `detail` must never hold a token, a secret or an answer's body. */
export function failure(
  provider: CaptchaProvider,
  reason: CaptchaReason,
  detail: string,
  providerCodes: readonly string[] = [],
): CaptchaFailure {
  return { ok: false, provider, reason, providerCodes, detail }
}

/**
 * Before any network call: a token is a non-empty string of printable ASCII, at most `maxLength`
 * characters (Turnstile documents 2048; a form can post anything at all).
 */
export function checkTokenSyntax(
  token: unknown,
  maxLength: number,
  provider: CaptchaProvider,
): CaptchaFailure | undefined {
  if (token === undefined || token === null || token === '')
    return failure(provider, 'captcha_missing', 'no token was posted')
  if (typeof token !== 'string') return failure(provider, 'captcha_invalid', 'token is not text')
  if (token.length > maxLength)
    return failure(provider, 'captcha_invalid', `token is longer than ${maxLength} characters`)
  if (!/^[\x21-\x7e]+$/.test(token))
    return failure(provider, 'captcha_invalid', 'token has characters no token has')
  return undefined
}

/** The transport worked: HTTP 200, a bounded JSON object (see `postSiteverify`). */
export function checkTransport(
  answer: SiteverifyAnswer,
  provider: CaptchaProvider,
): CaptchaFailure | undefined {
  return answer.ok ? undefined : failure(provider, 'captcha_unavailable', answer.detail)
}

/** Codes that mean our configuration is wrong, not the user's token. */
const MISCONFIGURED = new Set([
  'missing-input-secret',
  'invalid-input-secret',
  'sitekey-secret-mismatch',
  'invalid-sitekey',
  'missing-sitekey',
])
const REPLAYED = new Set(['timeout-or-duplicate', 'already-seen-response'])
const STALE = new Set(['expired-input-response'])
const UNAVAILABLE = new Set(['internal-error'])

/**
 * `success` is exactly `true` and `error-codes` (when present) is empty; otherwise the codes are
 * mapped to a reason, the most telling first: our configuration, the provider itself, a reuse,
 * an expiry, and anything else (`invalid-input-response`, `bad-request`, unknown) is invalid.
 */
export function checkSuccess(
  body: Readonly<Record<string, unknown>>,
  provider: CaptchaProvider,
): CaptchaFailure | undefined {
  const raw = body['error-codes']
  const codes = Array.isArray(raw)
    ? raw.filter((c): c is string => typeof c === 'string' && /^[a-z0-9-]{1,64}$/.test(c))
    : []
  if (typeof body.success !== 'boolean' || (raw !== undefined && !Array.isArray(raw)))
    return failure(provider, 'captcha_unavailable', 'siteverify answered without "success"')
  if (body.success === true && codes.length === 0 && (!Array.isArray(raw) || raw.length === 0))
    return undefined
  const reason: CaptchaReason = codes.some((c) => MISCONFIGURED.has(c))
    ? 'captcha_misconfigured'
    : codes.some((c) => UNAVAILABLE.has(c))
      ? 'captcha_unavailable'
      : codes.some((c) => REPLAYED.has(c))
        ? 'captcha_replayed'
        : codes.some((c) => STALE.has(c))
          ? 'captcha_stale'
          : 'captcha_invalid'
  const list = codes.length === 0 ? 'no error code' : codes.join(', ')
  return failure(provider, reason, `siteverify refused the token (${list})`, codes)
}

/** `hostname` is one of the allowed hosts (every provider: "the hostname of the site"). */
export function checkHostname(
  body: Readonly<Record<string, unknown>>,
  expect: Expectations,
): CaptchaFailure | undefined {
  if (expect.hostnames === 'any-unsafe') return undefined
  const host = body.hostname
  if (typeof host !== 'string' || !expect.hostnames.has(host.toLowerCase()))
    return failure(expect.provider, 'captcha_hostname', 'token was solved on another host')
  return undefined
}

/** `action` equals the expected one (Turnstile; reCAPTCHA v3: "verify that action matches"). */
export function checkAction(
  body: Readonly<Record<string, unknown>>,
  expect: Expectations,
): CaptchaFailure | undefined {
  if (expect.action === undefined) return undefined
  if (body.action !== expect.action)
    return failure(expect.provider, 'captcha_action', 'token was solved for another action')
  return undefined
}

/**
 * reCAPTCHA v3: `score` (0.0 bot … 1.0 human) at least the minimum; hCaptcha Enterprise, when a
 * maximum is configured: its risk `score` (0.0 … 1.0, higher is riskier) at most it.
 */
export function checkScore(
  body: Readonly<Record<string, unknown>>,
  expect: Expectations,
): CaptchaFailure | undefined {
  const want = expect.score
  if (want === undefined) return undefined
  const score = body.score
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1)
    return failure(expect.provider, 'captcha_score', 'siteverify gave no score')
  if ('min' in want ? score < want.min : score > want.max)
    return failure(expect.provider, 'captcha_score', `score ${score} is not enough`)
  return undefined
}

/**
 * `challenge_ts` (ISO 8601) is at most `maxAgeSeconds` old (Turnstile tokens live 300 s,
 * reCAPTCHA's and hCaptcha's 120 s) and not ahead of our clock by more than a few seconds.
 */
export function checkFreshness(
  body: Readonly<Record<string, unknown>>,
  expect: Expectations,
  nowMs: number,
): CaptchaFailure | undefined {
  const ts = typeof body.challenge_ts === 'string' ? Date.parse(body.challenge_ts) : Number.NaN
  if (!Number.isFinite(ts))
    return failure(expect.provider, 'captcha_stale', 'siteverify gave no challenge time')
  const age = (nowMs - ts) / 1000
  if (age > expect.maxAgeSeconds)
    return failure(
      expect.provider,
      'captcha_stale',
      `challenge was solved ${Math.floor(age)} s ago`,
    )
  if (age < -FUTURE_SKEW_SECONDS)
    return failure(expect.provider, 'captcha_stale', 'challenge time is in the future')
  return undefined
}
