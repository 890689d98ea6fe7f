/**
 * What the engine's routes share: their narrow dependencies, the session or token cookie, how a
 * request's credential is read, the same-origin rule for state-changing requests, and how a
 * stateless token is handed out.
 *
 * @module
 */
import type { Identity } from '../client/identity.ts'
import type { OAuth2Flow } from '../client/oauth2-flow.ts'
import type { Clock } from '../core/clock.ts'
import { readCookie, serializeCookie } from '../core/cookies.ts'
import type { Keyring } from '../core/keyring.ts'
import type { Logger } from '../core/logger.ts'
import type { LoginContext } from './config.ts'
import { secureFor, siteCookieName } from './cookie-policy.ts'
import type { GuardRequest } from './guards/types.ts'
import type { EngineLimits } from './limits.ts'
import type { PagesOptions } from './pages.ts'
import type { RevocationStore } from './revocations/types.ts'
import type { Session, SessionManager } from './sessions/manager.ts'
import type { SessionStore } from './sessions/types.ts'
import type { LoginClaims, SessionJwt, VerifiedToken } from './stateless.ts'
import type { StatelessSessions } from './stateless-sessions.ts'
import type { LoginSubject } from './user-key.ts'

/** What the routes use. */
export interface EngineDeps {
  readonly basePath: string
  /** Where a browser lands after signing out (checked: a path of this site). */
  readonly afterLogout: string
  readonly flows: ReadonlyMap<string, OAuth2Flow>
  readonly keys: Keyring
  readonly clock: Clock
  readonly secureCookies: 'auto' | boolean
  readonly trustedOrigins: ReadonlySet<string>
  readonly onLogin: (identity: Identity, context: LoginContext) => Promise<unknown> | unknown
  /** The user key hash of a signed-in user (see `./user-key.ts`). */
  readonly userKeyHash: (user: unknown, who: LoginSubject) => Promise<string>
  readonly sessions:
    | { manager: SessionManager; store: SessionStore; cookieName: string | undefined }
    | undefined
  /** Where failures are told, with their cause. */
  readonly logger: Logger
  /** The look (or the app's renderer) of the engine's pages. */
  readonly pages: PagesOptions
  /** The `jti`s of back-channel logout tokens already acted on (see `backchannel-logout.ts`). */
  readonly logoutTokens: RevocationStore
  readonly stateless:
    | { sessions: StatelessSessions; delivery: 'cookie' | 'json'; cookieName: string | undefined }
    | undefined
  /** The rate limits (login starts per client address). */
  readonly limits: EngineLimits
}

/** The session (or token) cookie's name for this request. */
export function sessionCookieName(request: GuardRequest, deps: EngineDeps): string {
  const secure = secureFor(request, deps.secureCookies)
  return deps.sessions
    ? siteCookieName('ak_session', secure, deps.sessions.cookieName)
    : siteCookieName('ak_token', secure, deps.stateless?.cookieName)
}

/** A `Set-Cookie` that deletes the session (or token) cookie. */
export function clearSessionCookie(request: GuardRequest, deps: EngineDeps): string {
  const secure = secureFor(request, deps.secureCookies)
  return serializeCookie(sessionCookieName(request, deps), '', { path: '/', secure }, 0)
}

/**
 * The stateless token of a request: the cookie, else `Authorization: Bearer`. `ambient` tells
 * whether the browser attaches it by itself (a cookie), which is what CSRF abuses.
 */
export function tokenCredential(
  request: GuardRequest,
  deps: EngineDeps,
): { token: string; ambient: boolean } | undefined {
  const cookie = readCookie(request, sessionCookieName(request, deps))
  if (cookie !== undefined) return { token: cookie, ambient: true }
  const header = request.headers.get('authorization')
  if (header && /^Bearer [A-Za-z0-9._~+/-]+=*$/i.test(header))
    return { token: header.slice(7), ambient: false }
  return undefined
}

/** Whether a state-changing request comes from this site (Origin, else Sec-Fetch-Site). */
export function sameOrigin(request: GuardRequest, trusted: ReadonlySet<string>): boolean {
  const origin = request.headers.get('origin')
  if (origin !== null) return origin === new URL(request.url).origin || trusted.has(origin)
  return request.headers.get('sec-fetch-site') === 'same-origin'
}

/**
 * Whether a state-changing request may act on its credential: always when the credential is a
 * bearer token the page had to attach itself, else only from this site.
 */
export function mayChangeState(request: GuardRequest, deps: EngineDeps): boolean {
  if (deps.stateless && tokenCredential(request, deps)?.ambient === false) return true
  return sameOrigin(request, deps.trustedOrigins)
}

/** The session of a request (session mode). */
export function readSession<User>(
  request: GuardRequest,
  deps: EngineDeps,
): Promise<Session<User> | null> {
  if (!deps.sessions) return Promise.resolve(null)
  return deps.sessions.manager.read<User>(request, sessionCookieName(request, deps))
}

/** The verified, unrevoked token of a request (stateless mode). */
export async function readVerifiedToken<User>(
  request: GuardRequest,
  deps: EngineDeps,
): Promise<VerifiedToken<User> | null> {
  const credential = deps.stateless ? tokenCredential(request, deps) : undefined
  if (!deps.stateless || credential === undefined) return null
  return deps.stateless.sessions.verify<User>(credential.token)
}

/** What the app sees of the token of a request (stateless mode). */
export async function readToken<User>(
  request: GuardRequest,
  deps: EngineDeps,
): Promise<SessionJwt<User> | null> {
  return (await readVerifiedToken<User>(request, deps))?.view ?? null
}

/**
 * Issues a stateless token in `login` and hands it out: a cookie (the body then says only when
 * it expires) or, with `delivery: 'json'`, the token itself in the body.
 */
export async function deliverToken(
  request: GuardRequest,
  user: unknown,
  who: LoginSubject,
  login: LoginClaims,
  cookies: string[],
  deps: EngineDeps,
): Promise<{ body: Record<string, unknown> }> {
  const stateless = deps.stateless as NonNullable<EngineDeps['stateless']>
  const { token, expiresIn } = await stateless.sessions.issue(user, who, login)
  if (stateless.delivery === 'json')
    return { body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn } }
  const secure = secureFor(request, deps.secureCookies)
  const name = sessionCookieName(request, deps)
  // The cookie lives as long as the login, not the token: once the token has expired it grants
  // nothing, but a logout can still name the login it belongs to and end it.
  const untilLoginEnds = Math.max(expiresIn, login.sxp - Math.floor(deps.clock.now() / 1000))
  cookies.push(serializeCookie(name, token, { path: '/', secure }, untilLoginEnds))
  return { body: { token_type: 'Bearer', expires_in: expiresIn } }
}
