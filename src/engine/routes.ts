/**
 * The engine's routes, each a short sequence of named steps over narrow dependencies.
 *
 * @module
 */
import { openFlowState, sealFlowState } from '../client/flow-state.ts'
import { isSafeReturnTo } from '../client/return-to.ts'
import { readCookie, serializeCookie } from '../core/cookies.ts'
import { AuthkestraError } from '../core/errors.ts'
import { secureFor } from './cookie-policy.ts'
import {
  deliverToken,
  type EngineDeps,
  jsonResponse,
  readSession,
  readToken,
  sessionCookieName,
} from './deps.ts'
import { startFlowCookies, takeFlowCookie } from './flow-cookies.ts'
import { failure } from './respond.ts'

export type { EngineDeps } from './deps.ts'
export { readSession, readToken } from './deps.ts'

function redirect(location: string, headers = new Headers()): Response {
  headers.set('location', location)
  headers.set('cache-control', 'no-store')
  return new Response(null, { status: 302, headers })
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
  const userKey = await deps.userKeyHash(user, who)
  if (deps.sessions) {
    const secure = secureFor(request, deps.secureCookies)
    const name = sessionCookieName(request, deps)
    const previous = readCookie(request, name)
    const { id, maxAgeSeconds } = await deps.sessions.manager.create(user, who, previous, userKey)
    headers.append('set-cookie', serializeCookie(name, id, { path: '/', secure }, maxAgeSeconds))
    return redirect(returnTo, headers)
  }
  const stateless = deps.stateless as NonNullable<EngineDeps['stateless']>
  const login = stateless.sessions.startLogin(userKey)
  const { body } = await deliverToken(request, user, who, login, headers, deps)
  if (stateless.delivery === 'json')
    return jsonResponse({ ...body, return_to: returnTo }, 200, headers)
  return redirect(returnTo, headers)
}

/** `GET /session`: the current user as JSON, or 401. */
export async function sessionRoute(request: Request, deps: EngineDeps): Promise<Response> {
  const current = deps.sessions ? await readSession(request, deps) : await readToken(request, deps)
  if (!current) return jsonResponse({ error: 'unauthorized' }, 401)
  return jsonResponse(current, 200)
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
