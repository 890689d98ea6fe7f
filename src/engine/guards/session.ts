/**
 * The session guard: the request's session (session mode) or verified session JWT (stateless
 * mode), else 401.
 *
 * @module
 */

import { type Clock, systemClock } from '../../core/clock.ts'
import {
  type AuthContext,
  type ResolvedStepUp,
  resolveStepUp,
  type StepUpRequirement,
  stepUpChallenge,
  stepUpQuery,
  unmet,
} from '../auth-context.ts'
import { configError } from '../config.ts'
import type { SessionAuthkestra, StatelessAuthkestra } from '../create-authkestra.ts'
import type { Session } from '../sessions/manager.ts'
import type { SessionJwt } from '../stateless.ts'
import { type Guard, type GuardRequest, type GuardResult, refuse } from './types.ts'

/**
 * A guard that requires a signed-in user. Exported as `sessionGuard` too, the name the examples
 * use (it cannot be confused with the `session` option of `createAuthkestra`, or with
 * `express-session`); `session` stays.
 *
 * @example
 * ```ts
 * const signedIn = sessionGuard(auth)
 * const result = await signedIn(request)
 * if (!result.ok) return result.response
 * result.principal.user // the app user from onLogin
 * ```
 */
export function session<User>(
  auth: SessionAuthkestra<User>,
  options?: SessionGuardOptions,
): Guard<Session<User>>
export function session<User>(
  auth: StatelessAuthkestra<User>,
  options?: SessionGuardOptions,
): Guard<SessionJwt<User>>
export function session<User>(
  auth: SessionAuthkestra<User> | StatelessAuthkestra<User>,
  options: SessionGuardOptions = {},
): Guard<Session<User>> | Guard<SessionJwt<User>> {
  const signIn = options.redirectTo === undefined ? undefined : checkRedirectTo(options.redirectTo)
  const stepUp = resolveStepUp(options, configError)
  const clock = options.clock ?? systemClock
  const refused = (request: GuardRequest, challenge: string): GuardResult<never> =>
    signIn !== undefined && isPageRequest(request)
      ? redirectToSignIn(signIn, request)
      : withVary(refuse(401, challenge, 'unauthorized', 'sign in first'), signIn !== undefined)
  /** RFC 9470: a page goes back through the login asking for more; an API call gets 401. */
  const insufficient = (request: GuardRequest, scheme: string, why: string): GuardResult<never> => {
    const required = stepUp as ResolvedStepUp
    if (signIn !== undefined && isPageRequest(request))
      return redirectToSignIn(signIn, request, stepUpQuery(required))
    const challenge = stepUpChallenge(scheme, 'authkestra', required, why)
    return withVary(
      refuse(401, challenge, 'insufficient_user_authentication', why),
      signIn !== undefined,
    )
  }
  const check = <P extends { auth: AuthContext }>(
    request: GuardRequest,
    current: P | null,
    scheme: string,
  ): GuardResult<P> => {
    if (!current) return refused(request, `${scheme} realm="authkestra"`)
    const why = stepUp && unmet(current.auth, stepUp, Math.floor(clock.now() / 1000))
    return why ? insufficient(request, scheme, why) : { ok: true, principal: current }
  }
  if (auth.mode === 'session')
    return async (request) => check(request, await auth.getSession(request), 'Session')
  return async (request) => check(request, await auth.verifyRequest(request), 'Bearer')
}

/**
 * Options of {@link session}. `acr`, `amr` and `maxAge` require a step-up: a session whose login
 * did not reach them is refused like a missing one, except that the way back through the login
 * (`redirectTo`) asks the provider for them (`acr_values`, `max_age`), and the API answer is
 * RFC 9470's `insufficient_user_authentication` challenge.
 *
 * @example
 * ```ts
 * const sensitive = sessionGuard(auth, { redirectTo: '/auth/login/idp', acr: 'mfa', maxAge: 300 })
 * ```
 */
export interface SessionGuardOptions extends StepUpRequirement {
  /** What `maxAge` is measured against (default: the system clock). */
  readonly clock?: Clock
  /**
   * For pages: where a signed-out browser is sent instead of the 401, a path of this site such as
   * `/auth/login/github` or the app's own sign-in page; `returnTo` (the requested path and query)
   * is added, so the login comes back to the page. Only for page navigations (`GET`/`HEAD`
   * accepting `text/html`); API calls keep the 401 JSON with its challenge.
   */
  readonly redirectTo?: string
}

/** `redirectTo` must be a path of this site: never another origin (an open redirect). */
function checkRedirectTo(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || /^\/[/\\]/.test(path))
    throw configError('"redirectTo" must be a path of this site, such as /auth/login/github')
  return path
}

/** A browser navigating to a page (as opposed to a script or an API client). */
function isPageRequest(request: GuardRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false
  const mode = request.headers.get('sec-fetch-mode')
  if (mode !== null && mode !== 'navigate') return false
  return /\btext\/html\b/.test(request.headers.get('accept') ?? '')
}

/** 303 to the sign-in, with the requested path and query as `returnTo` (and a step-up's query). */
function redirectToSignIn(signIn: string, request: GuardRequest, extra = ''): GuardResult<never> {
  const url = new URL(request.url)
  const returnTo = encodeURIComponent(`${url.pathname}${url.search}`)
  const location = `${signIn}${signIn.includes('?') ? '&' : '?'}returnTo=${returnTo}${extra}`
  const headers = new Headers({ location, 'cache-control': 'no-store', vary: 'accept' })
  return { ok: false, response: new Response(null, { status: 303, headers }) }
}

/** The 401 varies with `Accept` too when pages are redirected. */
function withVary(result: GuardResult<never>, varies: boolean): GuardResult<never> {
  if (varies && !result.ok) result.response.headers.set('vary', 'accept')
  return result
}
