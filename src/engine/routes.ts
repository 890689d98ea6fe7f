/**
 * The engine's routes, each a short sequence of named steps over narrow dependencies.
 *
 * @module
 */
import { openFlowState, sealFlowState } from '../client/flow-state.ts'
import type { Identity } from '../client/identity.ts'
import type { OAuth2Flow } from '../client/oauth2-flow.ts'
import { isSafeReturnTo } from '../client/return-to.ts'
import type { Clock } from '../core/clock.ts'
import { readCookie, serializeCookie } from '../core/cookies.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { Keyring } from '../core/keyring.ts'
import type { LoginContext } from './config.ts'
import { secureFor, siteCookieName } from './cookie-policy.ts'
import { startFlowCookies, takeFlowCookie } from './flow-cookies.ts'
import { failure, wantsJson } from './respond.ts'
import type { Session, SessionManager } from './sessions/manager.ts'
import type { SessionJwt, StatelessTokens } from './stateless.ts'

/** What the routes use. */
export interface EngineDeps {
  readonly basePath: string
  readonly flows: ReadonlyMap<string, OAuth2Flow>
  readonly keys: Keyring
  readonly clock: Clock
  readonly secureCookies: 'auto' | boolean
  readonly trustedOrigins: ReadonlySet<string>
  readonly onLogin: (identity: Identity, context: LoginContext) => Promise<unknown> | unknown
  readonly sessions: { manager: SessionManager; cookieName: string | undefined } | undefined
  readonly stateless:
    | { tokens: StatelessTokens; delivery: 'cookie' | 'json'; cookieName: string | undefined }
    | undefined
}

function redirect(location: string, headers = new Headers()): Response {
  headers.set('location', location)
  headers.set('cache-control', 'no-store')
  return new Response(null, { status: 302, headers })
}

function sessionCookieName(request: Request, deps: EngineDeps): string {
  const secure = secureFor(request, deps.secureCookies)
  return deps.sessions
    ? siteCookieName('ak_session', secure, deps.sessions.cookieName)
    : siteCookieName('ak_token', secure, deps.stateless?.cookieName)
}

/** `GET /login/:provider?returnTo=/path`: a new flow, its sealed state in its own cookie, 302. */
export async function loginRoute(
  request: Request,
  providerId: string,
  deps: EngineDeps,
): Promise<Response> {
  const flow = deps.flows.get(providerId)
  if (!flow) return failure(request, 'not_found')
  const requested = new URL(request.url).searchParams.getAll('returnTo')
  const returnTo = requested.length === 1 && isSafeReturnTo(requested[0]) ? requested[0] : undefined
  const { url, flowState } = await flow.initiateLogin(returnTo === undefined ? {} : { returnTo })
  const sealed = await sealFlowState(flowState, { keys: deps.keys, clock: deps.clock })
  const secure = secureFor(request, deps.secureCookies)
  const headers = new Headers()
  const cookies = await startFlowCookies(request, flowState.state, sealed, secure, deps.clock.now())
  for (const cookie of cookies) headers.append('set-cookie', cookie)
  return redirect(url.href, headers)
}

/**
 * `GET /callback/:provider`: the flow cookie named after this `state`, opened and checked, the
 * login finalized, `onLogin`, then a new session (or token) and a 302 to `returnTo`. The flow
 * cookie is deleted whatever happens.
 */
export async function callbackRoute(
  request: Request,
  providerId: string,
  deps: EngineDeps,
): Promise<Response> {
  const flow = deps.flows.get(providerId)
  if (!flow) return failure(request, 'not_found')
  const states = new URL(request.url).searchParams.getAll('state')
  const headers = new Headers()
  const state = states.length === 1 ? states[0] : undefined
  if (state === undefined || state.length > 512)
    return failure(request, 'callback_invalid', headers)
  const { sealed, clear } = await takeFlowCookie(
    request,
    state,
    secureFor(request, deps.secureCookies),
  )
  headers.append('set-cookie', clear)
  try {
    const flowState = await openFlowState(sealed, {
      keys: deps.keys,
      providerId,
      clock: deps.clock,
    })
    const { identity, tokens } = await flow.finalizeLogin(request, flowState)
    const user = await deps.onLogin(identity, { provider: providerId, tokens, request })
    if (user === null || user === undefined) return failure(request, 'login_rejected', headers)
    const who = { provider: providerId, subject: identity.subject }
    const returnTo =
      flowState.returnTo !== undefined && isSafeReturnTo(flowState.returnTo)
        ? flowState.returnTo
        : '/'
    return await signIn(request, user, who, returnTo, headers, deps)
  } catch (err) {
    if (err instanceof AuthkestraError) return failure(request, err.code, headers)
    throw err
  }
}

async function signIn(
  request: Request,
  user: unknown,
  who: { provider: string; subject: string },
  returnTo: string,
  headers: Headers,
  deps: EngineDeps,
): Promise<Response> {
  const secure = secureFor(request, deps.secureCookies)
  const name = sessionCookieName(request, deps)
  if (deps.sessions) {
    const previous = readCookie(request, name)
    const { id, maxAgeSeconds } = await deps.sessions.manager.create(user, who, previous)
    headers.append('set-cookie', serializeCookie(name, id, { path: '/', secure }, maxAgeSeconds))
    return redirect(returnTo, headers)
  }
  const stateless = deps.stateless as NonNullable<EngineDeps['stateless']>
  const { token, expiresAt } = await stateless.tokens.issue(user, who)
  if (stateless.delivery === 'json') {
    headers.set('content-type', 'application/json; charset=utf-8')
    headers.set('cache-control', 'no-store')
    const body = {
      access_token: token,
      token_type: 'Bearer',
      expires_in: stateless.tokens.ttlSeconds,
      return_to: returnTo,
    }
    return new Response(JSON.stringify(body), { status: 200, headers })
  }
  const maxAge = Math.floor((expiresAt - deps.clock.now()) / 1000)
  headers.append('set-cookie', serializeCookie(name, token, { path: '/', secure }, maxAge))
  return redirect(returnTo, headers)
}

/** Whether a state-changing request comes from this site (Origin, else Sec-Fetch-Site). */
export function sameOrigin(request: Request, trusted: ReadonlySet<string>): boolean {
  const origin = request.headers.get('origin')
  if (origin !== null) return origin === new URL(request.url).origin || trusted.has(origin)
  return request.headers.get('sec-fetch-site') === 'same-origin'
}

/** `POST /logout`: same-origin only; ends the session (or clears the token cookie). */
export async function logoutRoute(request: Request, deps: EngineDeps): Promise<Response> {
  if (!sameOrigin(request, deps.trustedOrigins)) return failure(request, 'forbidden_origin')
  const name = sessionCookieName(request, deps)
  if (deps.sessions) await deps.sessions.manager.destroy(request, name)
  const headers = new Headers({ 'cache-control': 'no-store' })
  headers.append(
    'set-cookie',
    serializeCookie(name, '', { path: '/', secure: secureFor(request, deps.secureCookies) }, 0),
  )
  if (wantsJson(request)) return new Response(null, { status: 204, headers })
  headers.set('location', '/')
  return new Response(null, { status: 303, headers })
}

/** The session of a request (session mode). */
export function readSession<User>(
  request: Request,
  deps: EngineDeps,
): Promise<Session<User> | null> {
  if (!deps.sessions) return Promise.resolve(null)
  return deps.sessions.manager.read<User>(request, sessionCookieName(request, deps))
}

/** The verified token of a request: the cookie, else `Authorization: Bearer` (stateless mode). */
export async function readToken<User>(
  request: Request,
  deps: EngineDeps,
): Promise<SessionJwt<User> | null> {
  if (!deps.stateless) return null
  const header = request.headers.get('authorization')
  const bearer =
    header && /^Bearer [A-Za-z0-9._~+/-]+=*$/i.test(header) ? header.slice(7) : undefined
  const token = readCookie(request, sessionCookieName(request, deps)) ?? bearer
  return token === undefined ? null : deps.stateless.tokens.verify<User>(token)
}

/** `GET /session`: the current user as JSON, or 401. */
export async function sessionRoute(request: Request, deps: EngineDeps): Promise<Response> {
  const current = deps.sessions ? await readSession(request, deps) : await readToken(request, deps)
  const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
  if (!current)
    return new Response(JSON.stringify({ error: 'unauthorized' }), { status: 401, headers })
  return new Response(JSON.stringify(current), { status: 200, headers })
}

/** `GET /providers`: id, name and login URL of each provider. */
export function providersRoute(deps: EngineDeps): Response {
  const body = [...deps.flows.values()].map((f) => ({
    id: f.id,
    name: f.name,
    loginUrl: `${deps.basePath}/login/${f.id}`,
  }))
  return new Response(JSON.stringify(body), {
    headers: { 'content-type': 'application/json; charset=utf-8' },
  })
}
