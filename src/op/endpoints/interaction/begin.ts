/**
 * After the authorization request passed its checks: decide between a code right away (a live
 * session that satisfies `prompt`/`max_age`, and consent already given), an error (`prompt=none`
 * that cannot be satisfied), or an interaction (login and/or consent) bound to this browser.
 *
 * @module
 */

import { serializeCookie } from '../../../core/cookies.ts'
import { randomToken } from '../../../core/random.ts'
import { redirect } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type { AuthorizationRequest, ClientRecord, OpStore } from '../../store/types.ts'
import { authorizationResponse } from '../authorize/respond.ts'
import { issueCode } from './finish.ts'
import { cookieScope, currentSession, INTERACTION_COOKIE } from './session.ts'

/** Whether the user must (again) agree to the scopes for this client. */
export async function consentNeeded(
  request: AuthorizationRequest,
  sub: string | undefined,
  client: ClientRecord,
  store: OpStore,
): Promise<boolean> {
  if (client.skipConsent) return false
  if (request.prompt.includes('consent') || sub === undefined) return true
  const given = await store.get('consent', `${sub} ${client.clientId}`)
  return !request.scopes.every((s) => given?.scopes.includes(s))
}

/** The interaction cookie's path: the OP's interaction pages (or `/` for an app-hosted UI). */
export function interactionCookiePath(deps: Pick<OpRuntime, 'settings'>): string {
  return deps.settings.interactionUrl ? '/' : `${deps.settings.basePath}/interaction`
}

/** Answers a checked authorization request. */
export async function beginAuthorization(
  request: AuthorizationRequest,
  client: ClientRecord,
  http: Request,
  deps: OpRuntime,
): Promise<Response> {
  const now = Math.floor(deps.clock.now() / 1000)
  if (deps.settings.autoLogin !== undefined) {
    const sub =
      (await deps.store.get('username', deps.settings.autoLogin))?.sub ?? deps.settings.autoLogin
    return issueCode(request, sub, now, deps)
  }
  const session = await currentSession(http, deps)
  const loginNeeded =
    !session ||
    request.prompt.includes('login') ||
    (request.maxAge !== undefined && now - session.authTime > request.maxAge)
  const consent = await consentNeeded(request, session?.accountId, client, deps.store)
  if (request.prompt.includes('none') && (loginNeeded || consent)) {
    const error = loginNeeded ? 'login_required' : 'consent_required'
    return authorizationResponse(
      request.redirectUri,
      { error },
      request.state,
      deps.settings.issuer,
    )
  }
  if (session && !loginNeeded && !consent)
    return issueCode(request, session.accountId, session.authTime, deps)

  const uid = randomToken(16)
  await deps.store.set(
    'interaction',
    uid,
    {
      request,
      createdAt: now,
      csrfHash: '',
      ...(session && !loginNeeded
        ? { accountId: session.accountId, authTime: session.authTime }
        : {}),
    },
    { ttlSeconds: deps.settings.ttl.interaction },
  )
  const cookie = serializeCookie(
    INTERACTION_COOKIE,
    uid,
    { ...cookieScope(deps), path: interactionCookiePath(deps) },
    deps.settings.ttl.interaction,
  )
  const target = deps.settings.interactionUrl
    ? `${deps.settings.interactionUrl}${deps.settings.interactionUrl.includes('?') ? '&' : '?'}uid=${uid}`
    : `${deps.settings.urls.interaction}/${uid}`
  return redirect(target, { 'set-cookie': cookie })
}
