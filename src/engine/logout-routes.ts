/**
 * The routes that end or extend a sign-in, all `POST` and, when the credential is a cookie,
 * same-origin only (`Origin`, else `Sec-Fetch-Site`: a cross-site page cannot log users out or
 * refresh their tokens); a bearer token attached by the page itself needs no such check.
 *
 * - `POST /logout`: ends this session; in stateless mode, revokes this login's tokens; then, for
 *   a provider set up for it and unless `?local=true`, on to the provider's logout.
 * - `GET /logout`: a confirmation page whose form POSTs to `/logout`; nothing ends on a GET.
 * - `GET /signed-out`: the page a browser may land on afterwards (`afterLogout`).
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
import { pageResponse } from './pages.ts'
import { logoutAtProvider } from './provider-logout.ts'
import { failure, wantsJson } from './respond.ts'

/**
 * The answer of a logout: for a provider set up for RP-initiated logout, on to its end-session
 * endpoint (303; API clients get 200 with `{ redirect }` to navigate to); else 204 for API
 * clients, 303 to `afterLogout` (default `/`) otherwise. The cookie is cleared either way.
 */
async function signedOut(
  request: EngineRequest,
  deps: EngineDeps,
  atProvider?: { provider: string; idToken: string | undefined },
): Promise<MessageResponse> {
  const cookies = [clearSessionCookie(request, deps)]
  const onward =
    atProvider &&
    (await logoutAtProvider(request, atProvider.provider, atProvider.idToken, cookies, deps))
  if (onward) {
    if (!wantsJson(request)) return onward
    return jsonResponse({ redirect: onward.headers.location }, 200, cookies)
  }
  if (wantsJson(request)) return noStore(204, {}, null, cookies)
  return redirect(deps.afterLogout, cookies, 303)
}

/**
 * `POST /logout`: ends the session, or revokes the login of the token (stateless mode); then on
 * to the provider's logout when it is set up for one, unless the request says `?local=true`
 * (sign out of this app only, the provider's session and the other apps' kept).
 */
export async function logoutRoute(
  request: EngineRequest,
  deps: EngineDeps,
): Promise<MessageResponse> {
  if (!mayChangeState(request, deps)) return failure(request, 'forbidden_origin')
  const local = new URL(request.url).searchParams.get('local') === 'true'
  if (deps.sessions) {
    const ended = await deps.sessions.manager.end(request, sessionCookieName(request, deps))
    return signedOut(request, deps, local ? undefined : ended)
  }
  const credential = tokenCredential(request, deps)
  const stateless = deps.stateless
  // Read before it is revoked: whose provider to log out of (a live token only). A stateless
  // token keeps no ID token, so the provider asks its user to confirm.
  const verified = await readVerifiedToken(request, deps)
  const login = credential && (await stateless?.sessions.loginToEnd(credential.token))
  if (login) await stateless?.sessions.endLogin(login)
  return signedOut(
    request,
    deps,
    verified && !local ? { provider: verified.view.provider, idToken: undefined } : undefined,
  )
}

/**
 * `GET /logout`: a page that asks, with a form that POSTs to `/logout` (same origin, so the POST
 * passes its check). A GET never ends anything: a link or an image elsewhere cannot sign anyone
 * out. `?local=true` is carried to the form. API clients (JSON) get 404: they POST.
 */
export function logoutPageRoute(request: EngineRequest, deps: EngineDeps): MessageResponse {
  // An API client signs out with a POST; there is no page for it.
  if (wantsJson(request)) return failure(request, 'not_found')
  const local = new URL(request.url).searchParams.get('local') === 'true'
  const action = `${deps.basePath}/logout${local ? '?local=true' : ''}`
  return pageResponse(deps.pages, { kind: 'logout', action }, 200)
}

/**
 * `GET /signed-out`: "You are signed out", with the way back in (the sign-in page) and to the
 * site. It reads nothing of the request: a page anyone may be shown. API clients get 404.
 */
export function signedOutPageRoute(request: EngineRequest, deps: EngineDeps): MessageResponse {
  if (wantsJson(request)) return failure(request, 'not_found')
  return pageResponse(deps.pages, { kind: 'signed-out', signInUrl: `${deps.basePath}/signin` }, 200)
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
