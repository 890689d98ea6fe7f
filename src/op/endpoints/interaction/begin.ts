/**
 * After the authorization request passed its checks: decide between a code right away (a live
 * session that satisfies `prompt`/`max_age`, and consent already given), an error (`prompt=none`
 * that cannot be satisfied), or an interaction (login and/or consent) bound to this browser: its
 * record sealed in the interaction cookie, nothing stored (see `sealed.ts`).
 *
 * @module
 */

import { serializeCookie } from '../../../core/cookies.ts'
import { randomToken } from '../../../core/random.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { html, redirect } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type {
  AuthorizationRequest,
  ClientRecord,
  InteractionRecord,
  OpStore,
} from '../../store/types.ts'
import { authorizationResponse } from '../authorize/respond.ts'
import { issueCode } from './finish.ts'
import { errorPage } from './pages.ts'
import { sealInteraction } from './sealed.ts'
import { nextStep } from './second-factor.ts'
import { cookieScope, currentSession, INTERACTION_COOKIE } from './session.ts'

/** Whether the user must (again) agree to the scopes for this client. */
export async function consentNeeded(
  request: AuthorizationRequest,
  sub: string | undefined,
  client: ClientRecord,
  store: OpStore,
): Promise<boolean> {
  // A device authorization is always confirmed (RFC 8628 §5.4), first-party client or not.
  if (request.device !== undefined) return true
  if (client.skipConsent) return false
  if (request.prompt.includes('consent') || sub === undefined) return true
  const given = await store.get('consent', `${sub} ${client.clientId}`)
  return !request.scopes.every((s) => given?.scopes.includes(s))
}

/**
 * The cookie that binds an interaction to the browser that started it: one per interaction, so
 * two tabs (or a page that starts another authorization) never overwrite each other. For the
 * built-in pages it is scoped to the interaction's own path; for an app-hosted UI it is named
 * after the interaction.
 */
export function interactionCookie(
  uid: string,
  deps: Pick<OpRuntime, 'settings'>,
): { name: string; path: string } {
  return deps.settings.interactionUrl
    ? { name: `${INTERACTION_COOKIE}_${uid}`, path: '/' }
    : { name: INTERACTION_COOKIE, path: `${deps.settings.basePath}/interaction/${uid}` }
}

/** OIDC Core §3.1.2.1: `max_age=0` means authenticate again, like `prompt=login`. */
export function authTooOld(authTime: number, maxAge: number | undefined, now: number): boolean {
  return maxAge !== undefined && (maxAge === 0 || now - authTime > maxAge)
}

/** Answers a checked authorization request. */
export async function beginAuthorization(
  request: AuthorizationRequest,
  client: ClientRecord,
  http: OpRequest,
  deps: OpRuntime,
): Promise<OpResponse> {
  const now = Math.floor(deps.clock.now() / 1000)
  if (deps.settings.autoLogin !== undefined) {
    const sub =
      (await deps.store.get('username', deps.settings.autoLogin))?.sub ?? deps.settings.autoLogin
    return issueCode(request, { accountId: sub, authTime: now }, deps)
  }
  const session = await currentSession(http, deps)
  const loginNeeded =
    !session ||
    request.prompt.includes('login') ||
    authTooOld(session.authTime, request.maxAge, now)
  // A session from before `amr` was recorded signed in with a password.
  const amr = session?.amr ?? ['pwd']
  // The session's login may not reach the `acr` asked for: a second factor now (step-up).
  const step =
    session && !loginNeeded
      ? (await nextStep(request, session.accountId, amr, deps, false)).step
      : 'done'
  if (step === 'unmet' && !request.prompt.includes('none'))
    return authorizationResponse(
      request.redirectUri,
      { error: 'unmet_authentication_requirements' },
      request.state,
      deps.settings.issuer,
    )
  const consent = await consentNeeded(request, session?.accountId, client, deps.store)
  if (request.prompt.includes('none') && (loginNeeded || step !== 'done' || consent)) {
    const error = loginNeeded || step !== 'done' ? 'login_required' : 'consent_required'
    return authorizationResponse(
      request.redirectUri,
      { error },
      request.state,
      deps.settings.issuer,
    )
  }
  if (session && !loginNeeded && step === 'done' && !consent)
    return issueCode(request, { ...session, amr }, deps)

  const uid = randomToken(16)
  const record: InteractionRecord = {
    request,
    createdAt: now,
    ...(session && !loginNeeded
      ? step === 'done'
        ? { accountId: session.accountId, authTime: session.authTime, sid: session.sid, amr }
        : { partial: { accountId: session.accountId, amr, sid: session.sid } }
      : {}),
  }
  // Nothing stored until the user acts (sealed.ts); a record too large for a cookie is stored.
  const sealed = await sealInteraction(uid, record, deps)
  if (sealed === undefined) {
    // The one stored path of an unauthenticated request: bounded per client address.
    const limited = await deps.limits.spend('interactionsPerIp', deps.clientAddress(http))
    if (limited) {
      const wait = limited.retryAfterSeconds
      const page = errorPage(
        `Too many sign-in requests from your network. Try again in ${wait} seconds.`,
      )
      return html(page, 429, { 'retry-after': String(wait) })
    }
    await deps.store.set('interaction', uid, record, { ttlSeconds: deps.settings.ttl.interaction })
  }
  const binding = interactionCookie(uid, deps)
  const cookie = serializeCookie(
    binding.name,
    sealed ?? uid,
    { ...cookieScope(deps), path: binding.path },
    deps.settings.ttl.interaction,
  )
  const target = deps.settings.interactionUrl
    ? `${deps.settings.interactionUrl}${deps.settings.interactionUrl.includes('?') ? '&' : '?'}uid=${uid}`
    : `${deps.settings.urls.interaction}/${uid}`
  return redirect(target, { 'set-cookie': cookie })
}
