/**
 * The routes that end or extend a sign-in, all `POST` and, when the credential is a cookie,
 * same-origin only (`Origin`, else `Sec-Fetch-Site`: a cross-site page cannot log users out or
 * refresh their tokens); a bearer token attached by the page itself needs no such check.
 *
 * - `POST /logout`: ends this session; in stateless mode, revokes this login's tokens.
 * - `POST /logout-everywhere`: ends every session (or every login's tokens) of this user.
 * - `POST /refresh` (stateless mode): a new token for the same login, up to its absolute end.
 *
 * @module
 */
import type { MessageResponse } from '../core/http-message.ts'
import {
  clearSessionCookie,
  deliverToken,
  type EngineDeps,
  mayChangeState,
  readVerifiedToken,
  sessionCookieName,
  tokenCredential,
} from './deps.ts'
import { type EngineRequest, jsonResponse, noStore, redirect } from './message.ts'
import { failure, wantsJson } from './respond.ts'

/** The answer of a logout: 204 for API clients, else 303 to `/`; the cookie cleared. */
function signedOut(request: EngineRequest, deps: EngineDeps): MessageResponse {
  const cookies = [clearSessionCookie(request, deps)]
  if (wantsJson(request)) return noStore(204, {}, null, cookies)
  return redirect('/', cookies, 303)
}

/** `POST /logout`: ends the session, or revokes the login of the token (stateless mode). */
export async function logoutRoute(
  request: EngineRequest,
  deps: EngineDeps,
): Promise<MessageResponse> {
  if (!mayChangeState(request, deps)) return failure(request, 'forbidden_origin')
  if (deps.sessions) {
    await deps.sessions.manager.destroy(request, sessionCookieName(request, deps))
  } else {
    const credential = tokenCredential(request, deps)
    const stateless = deps.stateless
    const login = credential && (await stateless?.sessions.loginToEnd(credential.token))
    if (login) await stateless?.sessions.endLogin(login)
  }
  return signedOut(request, deps)
}

/** `POST /logout-everywhere`: ends every session, or every login's tokens, of this user. */
export async function logoutEverywhereRoute(
  request: EngineRequest,
  deps: EngineDeps,
): Promise<MessageResponse> {
  if (!mayChangeState(request, deps)) return failure(request, 'forbidden_origin')
  if (deps.sessions) {
    // The user key stored with the session, as the login computed it from the live user object
    // (recomputing it from the stored copy could differ: JSON drops getters and classes).
    const current = await deps.sessions.manager.current(request, sessionCookieName(request, deps))
    if (!current) return failure(request, 'unauthorized')
    await deps.sessions.manager.destroyAll(current.userKey)
  } else {
    const current = await readVerifiedToken(request, deps)
    if (!current) return failure(request, 'unauthorized')
    await deps.stateless?.sessions.endUser(current.login.uky)
  }
  return signedOut(request, deps)
}

/** `POST /refresh` (stateless mode): a fresh token for the same login. */
export async function refreshRoute(
  request: EngineRequest,
  deps: EngineDeps,
): Promise<MessageResponse> {
  if (!mayChangeState(request, deps)) return failure(request, 'forbidden_origin')
  const current = await readVerifiedToken(request, deps)
  if (!current || deps.clock.now() >= current.login.sxp * 1000)
    return failure(request, 'unauthorized')
  const { user, provider, subject } = current.view
  const cookies: string[] = []
  const who = { provider, subject }
  const { body } = await deliverToken(request, user, who, current.login, cookies, deps)
  return jsonResponse(body, 200, cookies)
}
