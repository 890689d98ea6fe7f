/**
 * The session guard: the request's session (session mode) or verified session JWT (stateless
 * mode), else 401.
 *
 * @module
 */
import type { SessionAuthkestra, StatelessAuthkestra } from '../create-authkestra.ts'
import type { Session } from '../sessions/manager.ts'
import type { SessionJwt } from '../stateless.ts'
import { type Guard, refuse } from './types.ts'

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
export function session<User>(auth: SessionAuthkestra<User>): Guard<Session<User>>
export function session<User>(auth: StatelessAuthkestra<User>): Guard<SessionJwt<User>>
export function session<User>(
  auth: SessionAuthkestra<User> | StatelessAuthkestra<User>,
): Guard<Session<User>> | Guard<SessionJwt<User>> {
  const challenge = 'Session realm="authkestra"'
  if (auth.mode === 'session') {
    return async (request) => {
      const current = await auth.getSession(request)
      return current
        ? { ok: true, principal: current }
        : refuse(401, challenge, 'unauthorized', 'sign in first')
    }
  }
  return async (request) => {
    const current = await auth.verifyRequest(request)
    return current
      ? { ok: true, principal: current }
      : refuse(401, 'Bearer realm="authkestra"', 'unauthorized', 'sign in first')
  }
}
