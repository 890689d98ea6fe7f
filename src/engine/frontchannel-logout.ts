/**
 * `GET {basePath}/frontchannel-logout/:provider?iss=…&sid=…` (OpenID Connect Front-Channel Logout
 * 1.0, the relying party's side), for providers set up with `frontchannelLogout: true` (register
 * this URL as the client's `frontchannel_logout_uri` with `frontchannel_logout_session_required`).
 * The provider's "signed out" page loads it in an iframe; the steps, in order:
 *
 * 1. `iss` and `sid` exactly once each (§3: the RP needs both to know which login ended); `iss`
 *    must be the provider's issuer.
 * 2. The sessions that provider login (`sid`) made end: found in the store, since a cross-site
 *    iframe carries no `SameSite=Lax` session cookie (stateless mode: their tokens are revoked).
 * 3. A tiny page, never cached, that only the provider's origin may frame.
 *
 * @module
 */
import type { MessageResponse } from '../core/http-message.ts'
import { endProviderLogins } from './backchannel-logout.ts'
import type { EngineDeps } from './deps.ts'
import { type EngineRequest, noStore } from './message.ts'
import { failure } from './respond.ts'

/** Handles a front-channel logout request of `providerId`. */
export async function frontchannelLogoutRoute(
  request: EngineRequest,
  providerId: string,
  deps: EngineDeps,
): Promise<MessageResponse> {
  const flow = deps.flows.get(providerId)
  if (!flow?.frontchannelLogout) return failure(request, 'not_found')
  const params = new URL(request.url).searchParams
  const iss = params.getAll('iss')
  const sid = params.getAll('sid')
  const issuer = (await flow.provider()).issuer
  if (
    iss.length !== 1 ||
    sid.length !== 1 ||
    iss[0] !== issuer ||
    sid[0] === '' ||
    (sid[0] as string).length > 255
  )
    return failure(request, 'callback_invalid')
  await endProviderLogins(providerId, { sid: sid[0] as string }, deps)
  const frameAncestors = issuer === undefined ? "'none'" : new URL(issuer).origin
  return noStore(
    200,
    {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; frame-ancestors ${frameAncestors}`,
    },
    '<!doctype html><meta charset="utf-8"><title>Signed out</title>',
  )
}
