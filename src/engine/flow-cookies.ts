/**
 * The flow cookies of logins in progress: one per login (two tabs, two logins, both complete),
 * each named after a hash of its `state`, on `Path=/` with the `__Host-` prefix when Secure (see
 * `flowCookieName`), living 10 minutes and deleted at the callback. Abandoned logins must not
 * pile up until requests carry more cookie bytes than servers accept (431), so at most
 * {@link MAX_FLOW_COOKIES} live at once: starting another drops the oldest, and unreadable ones
 * are dropped whenever a login starts.
 *
 * @module
 */
import { sealedAt } from '../client/flow-state.ts'
import { cookiePairs, readCookie, serializeCookie } from '../core/cookies.ts'
import { flowCookieName, flowCookiePrefix } from './cookie-policy.ts'
import type { GuardRequest } from './guards/types.ts'

/** How many logins may be in progress in one browser; a new one beyond drops the oldest. */
export const MAX_FLOW_COOKIES = 4
/** Life of a flow cookie, in seconds (the flow state's own limit). */
export const FLOW_COOKIE_MAX_AGE = 600

const deletion = (name: string, secure: boolean) =>
  serializeCookie(name, '', { path: '/', secure }, 0)

/**
 * The `Set-Cookie` values of a new login: its flow cookie, and deletions of the oldest flow
 * cookies of the request so that at most {@link MAX_FLOW_COOKIES} remain.
 */
export async function startFlowCookies(
  request: GuardRequest,
  state: string,
  sealed: string,
  secure: boolean,
  now: number,
): Promise<string[]> {
  const name = await flowCookieName(state, secure)
  const prefix = flowCookiePrefix(secure)
  const live: { name: string; at: number }[] = []
  const out = [serializeCookie(name, sealed, { path: '/', secure }, FLOW_COOKIE_MAX_AGE)]
  const seen = new Set<string>()
  for (const [other, value] of cookiePairs(request)) {
    if (!other.startsWith(prefix) || other === name || seen.has(other)) continue
    seen.add(other)
    const at = sealedAt(value)
    if (at === undefined || at <= now - FLOW_COOKIE_MAX_AGE * 1000)
      out.push(deletion(other, secure))
    else live.push({ name: other, at })
  }
  live.sort((a, b) => a.at - b.at)
  for (const old of live.slice(0, Math.max(0, live.length - (MAX_FLOW_COOKIES - 1))))
    out.push(deletion(old.name, secure))
  return out
}

/** The sealed flow state of the login named by `state` (empty when absent), and its deletion. */
export async function takeFlowCookie(
  request: GuardRequest,
  state: string,
  secure: boolean,
): Promise<{ sealed: string; clear: string }> {
  const name = await flowCookieName(state, secure)
  return { sealed: readCookie(request, name) ?? '', clear: deletion(name, secure) }
}
