/**
 * The steps of a login after (or instead of) the password: `POST /interaction/:uid/otp` takes a
 * TOTP or recovery code, `POST /interaction/:uid/passkey/options` answers WebAuthn options, and
 * `POST /interaction/:uid/passkey` takes the passkey's answer: as a second factor for the account
 * of the first step, or as a passwordless first step (a discoverable passkey of any account).
 *
 * After each step, {@link nextStep} decides: an account with a second factor must pass one, and
 * a request's `acr_values` may ask for more (OIDC Core §3.1.2.1); an essential `acr` that no
 * step can reach ends the request with `unmet_authentication_requirements`.
 *
 * @module
 */
import { addMethod, meets, passkeyUse, type SecondFactors, usefulFactors } from '../../acr.ts'
import { isOpResponse, type OpRequest, type OpResponse } from '../../http/message.ts'
import { html, json } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type { AuthorizationRequest, InteractionRecord } from '../../store/types.ts'
import { boundInteraction, decline, failedAttempt, postedForm, render, signIn } from './index.ts'
import { errorPage } from './pages.ts'
import { passkeyAnswer } from './passkey-script.ts'

const NONE: SecondFactors = { totp: false, recovery: false, passkey: false }

/** The second factors an account has (none without `mfa`). */
export async function factorsOf(accountId: string, deps: OpRuntime): Promise<SecondFactors> {
  if (!deps.mfa) return NONE
  const f = await deps.mfa.factors(accountId)
  return {
    totp: f.totp.length > 0,
    recovery: f.recoveryCodes > 0,
    passkey: f.passkeys.length > 0 && deps.mfa.passkeysEnabled,
  }
}

const any = (f: SecondFactors) => f.totp || f.recovery || f.passkey

/** What a login must still do, and the factors its next page offers. */
export interface Next {
  readonly step: 'done' | 'second-factor' | 'unmet'
  readonly offer: SecondFactors
}

/**
 * What a login with `amr` must still do for this request. Rules, in order:
 * 1. `acr_values` not met, and a factor of the account could meet one: that factor (only).
 * 2. Just signed in (`fresh`), the account has an authenticator app or a passkey, and the login
 *    is not multi-factor yet: a second factor, whatever `acr_values` says (an attacker with the
 *    password alone must not choose a level that skips it).
 * 3. `acr_values` still not met: `unmet` if essential, else done (the tokens say what was met).
 */
export async function nextStep(
  request: AuthorizationRequest,
  accountId: string,
  amr: readonly string[],
  deps: OpRuntime,
  fresh: boolean,
): Promise<Next> {
  const requested = request.acrValues ?? []
  const met = requested.length === 0 || requested.some((v) => meets(amr, v))
  const has = await factorsOf(accountId, deps)
  const forRequested = met ? NONE : usefulFactors(amr, has, requested)
  if (any(forRequested)) return { step: 'second-factor', offer: forRequested }
  if (fresh && (has.totp || has.passkey) && !amr.includes('mfa')) {
    const offer = usefulFactors(amr, has)
    if (any(offer)) return { step: 'second-factor', offer }
  }
  if (!met && request.acrEssential) return { step: 'unmet', offer: NONE }
  return { step: 'done', offer: NONE }
}

/**
 * After a step of `accountId` that brought the login to `amr`: a second-factor page, the end of
 * the request (`unmet_authentication_requirements`), or signed in.
 */
export async function proceed(
  http: OpRequest,
  uid: string,
  record: InteractionRecord,
  accountId: string,
  amr: readonly string[],
  deps: OpRuntime,
): Promise<OpResponse> {
  const { step } = await nextStep(record.request, accountId, amr, deps, true)
  if (step === 'unmet') return decline(uid, record, 'unmet_authentication_requirements', deps)
  if (step === 'done') return signIn(http, uid, record, accountId, amr, deps)
  const { accountId: _a, authTime: _t, sid: _s, amr: _m, ...rest } = record
  const sid = record.partial?.accountId === accountId ? record.partial.sid : undefined
  const partial: InteractionRecord = {
    ...rest,
    partial: { accountId, amr, ...(sid === undefined ? {} : { sid }) },
  }
  await deps.store.set('interaction', uid, partial, { ttlSeconds: deps.settings.ttl.interaction })
  return render(uid, partial, deps)
}

/** A wrong code or passkey: counted against the interaction, the page again. */
const wrong = (uid: string, record: InteractionRecord, message: string, deps: OpRuntime) =>
  failedAttempt(uid, record, deps, { error: message, status: 401 })

const LIMITED = 'Too many codes tried for this account. Wait a few minutes and try again.'

/** `POST /interaction/:uid/otp`: a TOTP code (digits) or a recovery code. */
export async function otpStep(http: OpRequest, uid: string, deps: OpRuntime): Promise<OpResponse> {
  const form = await postedForm(http, uid, deps)
  if (isOpResponse(form)) return form
  const { params, record } = form
  const partial = record.partial
  if (!partial || !deps.mfa) return html(errorPage('This step is not expected now.'), 400)
  const code = (params.get('code') ?? '').slice(0, 64)
  const result = /^\s*(\d\s*){6,8}$/.test(code)
    ? await deps.mfa.verifyTotp(partial.accountId, code)
    : await deps.mfa.verifyRecoveryCode(partial.accountId, code)
  if (!result.ok) {
    if (result.reason === 'rate_limited') {
      const page = await render(uid, record, deps, { error: LIMITED, status: 429 })
      const retryAfter = String(result.retryAfter ?? 60)
      return { ...page, headers: { ...page.headers, 'retry-after': retryAfter } }
    }
    return wrong(uid, record, 'That code is not right.', deps)
  }
  const amr = addMethod(partial.amr, { method: 'otp' })
  return proceed(http, uid, record, partial.accountId, amr, deps)
}

/** `POST /interaction/:uid/passkey/options`: WebAuthn options for this interaction. */
export async function passkeyOptions(
  http: OpRequest,
  uid: string,
  deps: OpRuntime,
): Promise<OpResponse> {
  if (http.method !== 'POST') return json({ error: 'method_not_allowed' }, 405)
  const record = await boundInteraction(uid, http, deps)
  if (!record || !deps.mfa?.passkeysEnabled || record.accountId !== undefined)
    return json({ error: 'invalid_request' }, 400)
  const options = await deps.mfa.passkeyAuthenticationOptions({
    binding: uid,
    ...(record.partial ? { accountId: record.partial.accountId } : {}),
  })
  return json(options)
}

/** `POST /interaction/:uid/passkey`: a passkey's answer, as a second factor or a first step. */
export async function passkeyStep(
  http: OpRequest,
  uid: string,
  deps: OpRuntime,
): Promise<OpResponse> {
  const form = await postedForm(http, uid, deps)
  if (isOpResponse(form)) return form
  const { params, record } = form
  if (!deps.mfa?.passkeysEnabled || record.accountId !== undefined)
    return html(errorPage('This step is not expected now.'), 400)
  const partial = record.partial
  const result = await deps.mfa.verifyPasskeyAuthentication({
    response: passkeyAnswer(params),
    binding: uid,
    ...(partial ? { accountId: partial.accountId } : {}),
  })
  if (!result.ok) return wrong(uid, record, 'That passkey could not be used. Try again.', deps)
  if (!(await deps.accounts.find(result.accountId)))
    return wrong(uid, record, 'That passkey could not be used. Try again.', deps)
  const amr = addMethod(partial?.amr ?? [], passkeyUse(result))
  return proceed(http, uid, record, result.accountId, amr, deps)
}
