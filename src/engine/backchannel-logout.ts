/**
 * `POST {basePath}/backchannel-logout/:provider` (OpenID Connect Back-Channel Logout 1.0, the
 * relying party's side), for providers set up with `backchannelLogout: true`. The provider POSTs
 * a logout token; the steps, in order:
 *
 * 1. `readLogoutToken`: a form body (§2.5), capped, with exactly one `logout_token`.
 * 2. The token's validation (§2.6, `client/logout-token.ts`): signature through the provider's
 *    JWKS, `iss`, `aud`, `exp`, `iat`, type, `sub`/`sid`, `events`, no `nonce`, `jti`.
 * 3. `checkReplay` (§2.6 step 7): a `jti` seen before is refused; each is remembered until the
 *    token expires, in the store the engine was given (shared by every instance).
 * 4. `endProviderLogins` (§2.7): with a `sid`, the sessions that provider login made; with only
 *    a `sub`, every session of that user at this provider (stateless mode: their tokens).
 * 5. §2.8: 200 with `Cache-Control: no-store`, or 400 `invalid_request` (what failed is not
 *    echoed: the token is the sender's, and a mismatch says nothing useful to anyone else).
 *
 * @module
 */
import type { LogoutTokenClaims } from '../client/logout-token.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { MessageResponse } from '../core/http-message.ts'
import { BodyTooLarge, isFormContentType } from '../core/read-capped.ts'
import type { EngineDeps } from './deps.ts'
import { type EngineRequest, jsonResponse, noStore } from './message.ts'
import { failure, oneLine } from './respond.ts'

/** A logout token is a JWT of a few hundred bytes; a form larger than this is not one. */
const MAX_BODY_BYTES = 16_384

class BadLogoutRequest extends Error {}

/** §2.5: `application/x-www-form-urlencoded` with exactly one `logout_token`. */
async function readLogoutToken(request: EngineRequest): Promise<string> {
  if (!isFormContentType(request.headers.get('content-type')))
    throw new BadLogoutRequest('the body must be a form')
  let bytes: Uint8Array
  try {
    bytes = await request.body(MAX_BODY_BYTES)
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new BadLogoutRequest('the body is too large')
    throw err
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new BadLogoutRequest('the body is not UTF-8')
  }
  const tokens = new URLSearchParams(text).getAll('logout_token')
  if (tokens.length !== 1 || tokens[0] === '')
    throw new BadLogoutRequest('the body must have one "logout_token"')
  return tokens[0] as string
}

/** §2.6 step 7: each `jti` of a provider is accepted once, until its token expires. */
async function checkReplay(
  provider: string,
  claims: LogoutTokenClaims,
  deps: EngineDeps,
): Promise<void> {
  const store = deps.logoutTokens
  const key = `bcl:${provider}:${claims.jti}`
  const [seen] = await store.revokedAt([key])
  if (seen !== undefined) throw new BadLogoutRequest('the logout token was already used')
  const now = deps.clock.now()
  await store.revoke(key, now, Math.max(now, claims.exp * 1000) + 60_000)
}

/**
 * §2.7: the sessions of that provider login (`sid`), else of that user (`sub`); in stateless
 * mode, the tokens of those logins (revoked, see `stateless-sessions.ts`).
 */
export async function endProviderLogins(
  provider: string,
  named: { sid?: string | undefined; sub?: string | undefined },
  deps: EngineDeps,
): Promise<void> {
  if (deps.stateless) {
    await deps.stateless.sessions.endProviderLogin(provider, named)
    return
  }
  const store = deps.sessions?.store
  if (named.sid !== undefined) await store?.deleteByProviderSession?.(provider, named.sid)
  else if (named.sub !== undefined) await store?.deleteByProviderSubject?.(provider, named.sub)
}

/** Handles a back-channel logout request of `providerId`. */
export async function backchannelLogoutRoute(
  request: EngineRequest,
  providerId: string,
  deps: EngineDeps,
): Promise<MessageResponse> {
  const flow = deps.flows.get(providerId)
  if (!flow?.backchannelLogout) return failure(request, 'not_found')
  try {
    const token = await readLogoutToken(request)
    const claims = await flow.verifyLogoutToken(token)
    await checkReplay(providerId, claims, deps)
    await endProviderLogins(providerId, claims, deps)
    return noStore(200, {}, null)
  } catch (err) {
    const bad =
      err instanceof BadLogoutRequest ||
      (err instanceof AuthkestraError && err.code === 'logout_token_invalid')
    if (!bad) throw err
    const description =
      err instanceof BadLogoutRequest ? err.message : 'the logout token is not valid'
    // The precise cause (which check failed) goes to the log only: the answer does not echo it.
    deps.logger.warn(
      `back-channel logout from "${providerId}" refused: ${oneLine(err instanceof Error ? err.message : description)}`,
    )
    return jsonResponse({ error: 'invalid_request', error_description: description }, 400)
  }
}
