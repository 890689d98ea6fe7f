/**
 * The engine's routes, each a short sequence of named steps over narrow dependencies.
 *
 * @module
 */

import { openFlowState, sealFlowState } from '../client/flow-state.ts'
import type { OAuth2Flow } from '../client/oauth2-flow.ts'
import { isAcrList } from '../client/resolve-provider.ts'
import { isSafeReturnTo } from '../client/return-to.ts'
import type { TokenSet } from '../client/tokens.ts'
import { readCookie, serializeCookie } from '../core/cookies.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { MessageResponse } from '../core/http-message.ts'
import { authContextOf } from './auth-context.ts'
import { secureFor } from './cookie-policy.ts'
import { deliverToken, type EngineDeps, readSession, readToken, sessionCookieName } from './deps.ts'
import { startFlowCookies, takeFlowCookie } from './flow-cookies.ts'
import { type EngineRequest, jsonResponse, redirect } from './message.ts'
import { pageResponse } from './pages.ts'
import { failure, logFailure, tooManyRequests, wantsJson } from './respond.ts'
import type { ProviderLoginHashes } from './stateless.ts'
import { providerLoginHashes } from './stateless-sessions.ts'

export type { EngineDeps } from './deps.ts'
export { readSession, readToken } from './deps.ts'

/** `GET /login/:provider?returnTo=/path`: a new flow, its sealed state in its own cookie, 302. */
export async function loginRoute(
  request: EngineRequest,
  providerId: string,
  deps: EngineDeps,
): Promise<MessageResponse> {
  const flow = deps.flows.get(providerId)
  if (!flow) return failure(request, 'not_found')
  const wait = await deps.limits.loginStart(request)
  if (wait !== undefined) return tooManyRequests(request, wait)
  const query = new URL(request.url).searchParams
  const requested = query.getAll('returnTo')
  const returnTo = requested.length === 1 && isSafeReturnTo(requested[0]) ? requested[0] : undefined
  let start: Awaited<ReturnType<OAuth2Flow['initiateLogin']>>
  try {
    start = await flow.initiateLogin({
      ...(returnTo === undefined ? {} : { returnTo }),
      ...stepUpOf(query),
    })
  } catch (err) {
    // A step-up asked of a provider without ID tokens: nothing could prove it happened.
    if (err instanceof AuthkestraError && err.code === 'config_invalid')
      return failure(request, err.code)
    throw err
  }
  const { url, flowState } = start
  const sealed = await sealFlowState(flowState, { keys: deps.keys, clock: deps.clock })
  const secure = secureFor(request, deps.secureCookies)
  const cookies = await startFlowCookies(request, flowState.state, sealed, secure, deps.clock.now())
  return redirect(url.href, cookies)
}

/**
 * A step-up the login was asked for (a guard's redirect): `acr_values` (sent as essential, the ID
 * token must carry one) and `max_age`. Malformed values are dropped: the guard checks anyway.
 */
function stepUpOf(query: URLSearchParams): {
  acrValues?: string[]
  extraParams?: Record<string, string>
} {
  const acr = query.getAll('acr_values')
  const maxAge = query.getAll('max_age')
  const values = acr.length === 1 ? (acr[0] as string).split(' ').filter(Boolean) : []
  const acrOk = isAcrList(values)
  const ageOk = maxAge.length === 1 && /^\d{1,9}$/.test(maxAge[0] as string)
  return {
    ...(acrOk ? { acrValues: values } : {}),
    ...(ageOk ? { extraParams: { max_age: maxAge[0] as string } } : {}),
  }
}

/**
 * `GET /callback/:provider`: the flow cookie named after this `state`, opened and checked, the
 * login finalized, `onLogin`, then a new session (or token) and a 302 to `returnTo`. The flow
 * cookie is deleted whatever happens.
 */
export async function callbackRoute(
  request: EngineRequest,
  providerId: string,
  deps: EngineDeps,
): Promise<MessageResponse> {
  const flow = deps.flows.get(providerId)
  if (!flow) return failure(request, 'not_found')
  const url = new URL(request.url)
  const states = url.searchParams.getAll('state')
  const state = states.length === 1 ? states[0] : undefined
  if (state === undefined || state.length > 512) return failure(request, 'callback_invalid')
  const { sealed, clear } = await takeFlowCookie(
    request,
    state,
    secureFor(request, deps.secureCookies),
  )
  const cookies = [clear]
  try {
    const flowState = await openFlowState(sealed, {
      keys: deps.keys,
      providerId,
      clock: deps.clock,
    })
    const { identity, tokens } = await flow.finalizeLogin(url, flowState)
    const user = await deps.onLogin(identity, {
      provider: providerId,
      tokens,
      get request() {
        return request.web()
      },
    })
    if (user === null || user === undefined) return failure(request, 'login_rejected', cookies)
    const who = { provider: providerId, subject: identity.subject }
    const returnTo =
      flowState.returnTo !== undefined && isSafeReturnTo(flowState.returnTo)
        ? flowState.returnTo
        : '/'
    return await signIn(request, user, who, returnTo, cookies, deps, tokens)
  } catch (err) {
    if (err instanceof AuthkestraError) {
      logFailure(deps.logger, request, err)
      return failure(request, err.code, cookies)
    }
    throw err
  }
}

/**
 * What a session keeps of the provider's login, only for the logouts set up with it: the ID
 * token as the hint of a logout at the provider, the provider's `sid` for a back- or front-channel
 * logout.
 */
function providerLogin(flow: OAuth2Flow | undefined, tokens: TokenSet | undefined) {
  const sid = tokens?.idTokenClaims?.sid
  return {
    ...(flow?.postLogoutRedirectUri !== undefined && tokens?.idToken !== undefined
      ? { idToken: tokens.idToken }
      : {}),
    ...((flow?.backchannelLogout || flow?.frontchannelLogout) && typeof sid === 'string'
      ? { providerSid: sid }
      : {}),
    auth: authContextOf(tokens?.idTokenClaims),
  }
}

/**
 * What a stateless login keeps of the provider's login, only for a provider set up for back- or
 * front-channel logout: hashes of its `sid` and of its ID token's `sub` (what its logout tokens
 * name, whatever the profile mapping made the subject).
 */
async function statelessProviderLogin(
  flow: OAuth2Flow | undefined,
  provider: string,
  tokens: TokenSet | undefined,
): Promise<ProviderLoginHashes> {
  const claims = tokens?.idTokenClaims
  if (!(flow?.backchannelLogout || flow?.frontchannelLogout) || !claims) return {}
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)
  return providerLoginHashes(provider, { sid: text(claims.sid), sub: text(claims.sub) })
}

async function signIn(
  request: EngineRequest,
  user: unknown,
  who: { provider: string; subject: string },
  returnTo: string,
  cookies: string[],
  deps: EngineDeps,
  tokens?: TokenSet,
): Promise<MessageResponse> {
  const userKey = await deps.userKeyHash(user, who)
  if (deps.sessions) {
    const secure = secureFor(request, deps.secureCookies)
    const name = sessionCookieName(request, deps)
    const previous = readCookie(request, name)
    const { manager } = deps.sessions
    const login = providerLogin(deps.flows.get(who.provider), tokens)
    const { id, maxAgeSeconds } = await manager.create(user, who, previous, userKey, login)
    cookies.push(serializeCookie(name, id, { path: '/', secure }, maxAgeSeconds))
    return redirect(returnTo, cookies)
  }
  const stateless = deps.stateless as NonNullable<EngineDeps['stateless']>
  const login = stateless.sessions.startLogin(
    userKey,
    await statelessProviderLogin(deps.flows.get(who.provider), who.provider, tokens),
    authContextOf(tokens?.idTokenClaims),
  )
  const { body } = await deliverToken(request, user, who, login, cookies, deps)
  if (stateless.delivery === 'json')
    return jsonResponse({ ...body, return_to: returnTo }, 200, cookies)
  return redirect(returnTo, cookies)
}

/** `GET /session`: the current user as JSON, or 401. */
export async function sessionRoute(
  request: EngineRequest,
  deps: EngineDeps,
): Promise<MessageResponse> {
  const current = deps.sessions ? await readSession(request, deps) : await readToken(request, deps)
  if (!current) return jsonResponse({ error: 'unauthorized' }, 401)
  return jsonResponse(current, 200)
}

/**
 * `GET /signin?returnTo=/path`: the sign-in page, a button per provider, each login coming back
 * to `returnTo` (a path of this site only, else `/`). API clients get 404: they use
 * `GET /providers`.
 */
export function signInPageRoute(request: EngineRequest, deps: EngineDeps): MessageResponse {
  if (wantsJson(request)) return failure(request, 'not_found')
  const requested = new URL(request.url).searchParams.getAll('returnTo')
  const returnTo =
    requested.length === 1 && isSafeReturnTo(requested[0] as string) ? requested[0] : undefined
  const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`
  const providers = [...deps.flows.values()].map((f) => ({
    id: f.id,
    name: f.name,
    loginUrl: `${deps.basePath}/login/${f.id}${query}`,
  }))
  return pageResponse(deps.pages, { kind: 'signin', providers }, 200)
}

/** `GET /providers`: id, name and login URL of each provider. */
export function providersRoute(deps: EngineDeps): MessageResponse {
  const body = [...deps.flows.values()].map((f) => ({
    id: f.id,
    name: f.name,
    loginUrl: `${deps.basePath}/login/${f.id}`,
  }))
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  }
}
