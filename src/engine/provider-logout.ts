/**
 * Logout at the provider (OpenID Connect RP-Initiated Logout 1.0), for providers set up with a
 * `postLogoutRedirectUri`: after the engine's own logout, the browser goes to the provider's
 * `end_session_endpoint` with the session's ID token as `id_token_hint` (kept for that alone),
 * `client_id`, `post_logout_redirect_uri` and a fresh `state`. The state waits in a short-lived
 * cookie; `GET {basePath}/logout-callback/:provider` (where `post_logout_redirect_uri` points)
 * compares it in constant time and sends the user home.
 *
 * @module
 */
import { readCookie, serializeCookie } from '../core/cookies.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { MessageResponse } from '../core/http-message.ts'
import { randomToken } from '../core/random.ts'
import { sameString } from '../core/same-string.ts'
import { secureFor, siteCookieName } from './cookie-policy.ts'
import type { EngineDeps } from './deps.ts'
import { type EngineRequest, redirect } from './message.ts'
import { failure, logFailure } from './respond.ts'

/** How long a logout at the provider may take before its return is refused. */
const LOGOUT_COOKIE_MAX_AGE = 600

const cookieName = (request: EngineRequest, deps: EngineDeps) =>
  siteCookieName('ak_logout', secureFor(request, deps.secureCookies), undefined)

/**
 * After the engine's logout: the redirect to the provider's end-session endpoint, or undefined
 * when this provider is not set up for it.
 */
export async function logoutAtProvider(
  request: EngineRequest,
  provider: string | undefined,
  idTokenHint: string | undefined,
  cookies: string[],
  deps: EngineDeps,
): Promise<MessageResponse | undefined> {
  const flow = provider === undefined ? undefined : deps.flows.get(provider)
  const state = randomToken(32)
  let url: URL | undefined
  try {
    url = await flow?.endSessionUrl({ state, idTokenHint })
  } catch (err) {
    // The provider's discovery is down or broken: the local logout has happened, so the user
    // is signed out here and goes home, as without a logout at the provider.
    if (err instanceof AuthkestraError) {
      logFailure(deps.logger, request, err)
      return undefined
    }
    throw err
  }
  if (!url) return undefined
  const secure = secureFor(request, deps.secureCookies)
  cookies.push(
    serializeCookie(cookieName(request, deps), state, { path: '/', secure }, LOGOUT_COOKIE_MAX_AGE),
  )
  return redirect(url.href, cookies, 303)
}

/** `GET /logout-callback/:provider`: the provider's answer, its `state` checked; then home. */
export async function logoutCallbackRoute(
  request: EngineRequest,
  providerId: string,
  deps: EngineDeps,
): Promise<MessageResponse> {
  if (deps.flows.get(providerId)?.postLogoutRedirectUri === undefined)
    return failure(request, 'not_found')
  const name = cookieName(request, deps)
  const secure = secureFor(request, deps.secureCookies)
  const cookies = [serializeCookie(name, '', { path: '/', secure }, 0)]
  const expected = readCookie(request, name)
  const states = new URL(request.url).searchParams.getAll('state')
  const got = states.length === 1 ? states[0] : undefined
  if (expected === undefined || got === undefined || !sameString(got, expected))
    return failure(request, 'state_mismatch', cookies)
  return redirect('/', cookies, 303)
}
