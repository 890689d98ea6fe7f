/**
 * The device verification page (RFC 8628 §3.3): `GET /device` shows a form for the user code
 * (filled in from `?user_code=` of `verification_uri_complete`, but always submitted by the
 * person); `POST /device` checks it and hands over to the ordinary login and consent interaction,
 * which for a device always asks the person to confirm (§5.4: a code sent by a phisher must not
 * be approved silently). The checks, in order:
 *
 * 1. the form's CSRF token equals its cookie (double submit, so another site cannot submit it);
 * 2. the client address has not failed too often (§5.1 brute force: 429 with `Retry-After`;
 *    the `deviceEntryPerIp` rate limit, shared through the store);
 * 3. the code is well formed, names a live pending authorization, and is spent atomically
 *    (single use: two browsers racing with one code, one wins).
 *
 * A wrong, expired or spent code gets the same answer, so nothing tells whether a code exists.
 *
 * @module
 */
import { readCookie, serializeCookie } from '../../../core/cookies.ts'
import { sameString } from '../../../core/same-string.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { readParams } from '../../http/params.ts'
import { html } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type { AuthorizationRequest } from '../../store/types.ts'
import { newSecret } from '../../tokens/secrets.ts'
import { beginAuthorization } from '../interaction/begin.ts'
import { errorPage } from '../interaction/pages.ts'
import { cookieScope } from '../interaction/session.ts'
import { entryPage } from './pages.ts'
import { formatUserCode, normalizeUserCode, userCodeId } from './user-code.ts'

const CSRF_COOKIE = 'ak_device_csrf'
const WRONG = 'That code is not valid. Check the code on your device, or start again there.'
async function entry(deps: OpRuntime, status: number, userCode?: string, error?: string) {
  const csrf = newSecret()
  const cookie = serializeCookie(
    CSRF_COOKIE,
    csrf,
    { ...cookieScope(deps), path: new URL(deps.settings.urls.deviceVerification).pathname },
    deps.settings.ttl.interaction,
  )
  const body = entryPage({ action: deps.settings.urls.deviceVerification, csrf, userCode, error })
  return html(body, status, { 'set-cookie': cookie })
}

/** `GET /device`: the form, with the code of `verification_uri_complete` filled in if valid. */
async function showForm(request: OpRequest, deps: OpRuntime): Promise<OpResponse> {
  const given = request.url.searchParams.get('user_code') ?? ''
  const code = normalizeUserCode(given)
  return entry(deps, 200, code === undefined ? undefined : formatUserCode(code))
}

/** `POST /device`: the checks above, then the login and consent interaction. */
async function submitCode(request: OpRequest, deps: OpRuntime): Promise<OpResponse> {
  const params = await readParams(request, ['POST'])
  const csrf = params.get('csrf')
  const cookie = readCookie(request, CSRF_COOKIE)
  if (csrf === undefined || cookie === undefined || !sameString(csrf, cookie))
    return entry(deps, 400, undefined, 'This page expired. Enter the code again.')
  // Unknown address (a fetch runtime that gives none): one shared budget, as guessing must stay slow.
  const address = deps.clientAddress(request) ?? 'unknown'
  const limited = await deps.limits.check('deviceEntryPerIp', address)
  if (limited) {
    const response = await entry(deps, 429, undefined, 'Too many wrong codes. Wait a few minutes.')
    const retryAfter = String(limited.retryAfterSeconds)
    return { ...response, headers: { ...response.headers, 'retry-after': retryAfter } }
  }
  const typed = params.get('user_code') ?? ''
  const code = normalizeUserCode(typed)
  const spent =
    code === undefined ? undefined : await deps.store.consume('userCode', await userCodeId(code))
  const record =
    spent && !spent.alreadyConsumed
      ? await deps.store.get('device', spent.value.deviceId)
      : undefined
  const now = Math.floor(deps.clock.now() / 1000)
  const client = record ? await deps.store.get('client', record.clientId) : undefined
  if (
    !spent ||
    spent.alreadyConsumed ||
    !record ||
    record.status !== 'pending' ||
    record.expiresAt <= now ||
    !client
  ) {
    await deps.limits.spend('deviceEntryPerIp', address)
    return entry(deps, 400, undefined, WRONG)
  }
  const authorization: AuthorizationRequest = {
    clientId: record.clientId,
    redirectUri: '',
    scopes: record.scopes,
    prompt: ['consent'],
    device: { id: spent.value.deviceId, userCode: formatUserCode(code as string) },
  }
  return beginAuthorization(authorization, client, request, deps)
}

/** Routes `GET` and `POST /device`. */
export async function deviceVerificationEndpoint(
  request: OpRequest,
  deps: OpRuntime,
): Promise<OpResponse> {
  if (request.method === 'GET') return showForm(request, deps)
  if (request.method === 'POST') return submitCode(request, deps)
  return html(errorPage('Method not allowed.'), 405)
}
