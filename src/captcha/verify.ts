/**
 * The verification every provider shares: the token's syntax, a local replay check, one
 * siteverify call, then the checks of `checks.ts` in order. It fails closed: whatever goes wrong
 * (including a bug or a throwing `useOnce`) is a failure result, never an exception a caller
 * could mistake for a pass.
 *
 * @module
 */
import { encodeBase64url } from '../core/base64url.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import {
  checkAction,
  checkFreshness,
  checkHostname,
  checkScore,
  checkSuccess,
  checkTokenSyntax,
  checkTransport,
  type Expectations,
  failure,
} from './checks.ts'
import type { ResolvedCaptchaOptions } from './options.ts'
import { postSiteverify } from './siteverify.ts'
import type {
  CaptchaFailure,
  CaptchaPass,
  CaptchaResult,
  CaptchaVerifier,
  CaptchaVerifyOptions,
  CaptchaWidget,
  UseOnce,
} from './types.ts'

/** What one provider adds to the shared verification. */
export interface ProviderSpec {
  readonly expect: Expectations
  readonly widget: CaptchaWidget
  /** Longest token accepted before any network call. */
  readonly maxTokenLength: number
  /** The siteverify form: `secret`, `response` and the provider's own fields. */
  form(token: string, options: CaptchaVerifyOptions): URLSearchParams
}

/** The checks after the transport, in order. */
const ANSWER_CHECKS = [
  (body: Readonly<Record<string, unknown>>, e: Expectations) => checkSuccess(body, e.provider),
  checkHostname,
  checkAction,
  checkScore,
] as const

/**
 * The local replay check: `useOnce` of the token's SHA-256 (base64url, prefixed `captcha:`),
 * remembered a minute past the token's life. A store that fails is `captcha_unavailable`.
 */
export async function checkNotReplayed(
  token: string,
  useOnce: UseOnce | undefined,
  ttlSeconds: number,
  expect: Expectations,
): Promise<CaptchaFailure | undefined> {
  if (useOnce === undefined) return undefined
  let first: boolean
  try {
    const id = `captcha:${encodeBase64url(await defaultCrypto.sha256(token))}`
    first = await useOnce(id, ttlSeconds + 60)
  } catch {
    return failure(expect.provider, 'captcha_unavailable', 'the replay store failed')
  }
  return first === true
    ? undefined
    : failure(expect.provider, 'captcha_replayed', 'token was used before')
}

/** The shared pipeline; see the module comment. */
async function verifyToken(
  spec: ProviderSpec,
  resolved: ResolvedCaptchaOptions,
  token: unknown,
  options: CaptchaVerifyOptions,
): Promise<CaptchaResult> {
  const { expect } = spec
  const syntax = checkTokenSyntax(token, spec.maxTokenLength, expect.provider)
  if (syntax) return syntax
  if (typeof token !== 'string') return failure(expect.provider, 'captcha_invalid', 'no token')
  const replay = await checkNotReplayed(token, resolved.useOnce, resolved.maxAgeSeconds, expect)
  if (replay) return replay
  const call = {
    url: resolved.verifyUrl,
    fetch: resolved.fetch,
    timeoutMs: resolved.timeoutMs,
    maxResponseBytes: resolved.maxResponseBytes,
  }
  const answer = await postSiteverify(call, spec.form(token, options), options.signal)
  const transport = checkTransport(answer, expect.provider)
  if (transport || !answer.ok)
    return transport ?? failure(expect.provider, 'captcha_unavailable', '')
  const { body } = answer
  for (const check of ANSWER_CHECKS) {
    const failed = check(body, expect)
    if (failed) return failed
  }
  const stale = checkFreshness(body, expect, resolved.clock.now())
  if (stale) return stale
  return passOf(body, expect)
}

function passOf(body: Readonly<Record<string, unknown>>, expect: Expectations): CaptchaPass {
  return {
    ok: true,
    provider: expect.provider,
    hostname: typeof body.hostname === 'string' ? body.hostname : '',
    challengeTs: Date.parse(body.challenge_ts as string),
    action: typeof body.action === 'string' ? body.action : undefined,
    score: typeof body.score === 'number' ? body.score : undefined,
    cdata: typeof body.cdata === 'string' ? body.cdata : undefined,
    credit: typeof body.credit === 'boolean' ? body.credit : undefined,
  }
}

/**
 * A verifier over a provider's spec and the resolved shared options.
 *
 * @example
 * ```ts
 * const verifier = createVerifier(spec, resolveCaptchaOptions(options, defaults))
 * ```
 */
export function createVerifier(
  spec: ProviderSpec,
  resolved: ResolvedCaptchaOptions,
): CaptchaVerifier {
  return {
    provider: spec.expect.provider,
    widget: spec.widget,
    async verify(token, options = {}) {
      try {
        return await verifyToken(spec, resolved, token, options)
      } catch {
        return failure(spec.expect.provider, 'captcha_unavailable', 'verification failed')
      }
    },
  }
}

/** The `remoteip` field, when the address looks like one (at most 64 characters, no spaces). */
export function remoteIpField(form: URLSearchParams, remoteIp: string | undefined): void {
  if (remoteIp !== undefined && /^[0-9A-Fa-f.:%a-zA-Z-]{2,64}$/.test(remoteIp))
    form.set('remoteip', remoteIp)
}
