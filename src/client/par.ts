/**
 * The client side of Pushed Authorization Requests (RFC 9126): the authorization parameters go
 * to the provider's PAR endpoint in an authenticated POST, and the browser is sent with only
 * `client_id` and the `request_uri` that came back, so nothing in the URL can be read or changed
 * on the way (§1) and the provider has checked the request before the user sees a page. With
 * DPoP, the push carries a proof, so the provider binds the code to the key (RFC 9449 §10.1).
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { DpopKey } from '../dpop/key.ts'
import { applyClientAuth, type ClientCredentials } from './client-auth.ts'
import { type DpopContext, withDpop } from './dpop.ts'
import { httpRequest, parseJsonObject, type ResolvedHttpOptions } from './http.ts'
import { throwIfOAuthError } from './tokens.ts'

/** What the PAR endpoint handed back (RFC 9126 §2.2). */
export interface PushedAuthorizationRequest {
  /** The reference to send in the authorization URL; single use. */
  readonly requestUri: string
  /** When it stops working (ms since the epoch). */
  readonly expiresAt: number
  /**
   * The key the push proved with DPoP: the provider may have bound the code to it (RFC 9449
   * §10.1), so the code must be redeemed with a proof of this key.
   */
  readonly dpopKey?: DpopKey
}

/** What a push needs. */
export interface PushDeps {
  readonly client: ClientCredentials
  readonly http: ResolvedHttpOptions
  readonly clock: Clock
  /**
   * DPoP: a proof (`htm` POST, `htu` the endpoint) goes with the push, retried once with the
   * provider's nonce when it answers `use_dpop_nonce` (§8), as at the token endpoint.
   */
  readonly dpop?: DpopContext | undefined
}

const VSCHARS = /^[\x21-\x7e]+$/

function invalid(message: string): AuthkestraError {
  return new AuthkestraError('provider_bad_response', `PAR endpoint: ${message}`)
}

/**
 * POSTs the authorization parameters to `endpoint` with the client's authentication and checks
 * the answer: `request_uri` a URI, `expires_in` a positive integer (§2.2). An error answer is
 * `token_error` with the provider's `error` (§2.3). With `deps.dpop`, the push proves its key
 * and the answer names it (`dpopKey`).
 *
 * @example
 * ```ts
 * const pushed = await pushAuthorizationRequest(new URL('https://id.example/par'), params, deps)
 * const url = new URL('https://id.example/authorize')
 * url.searchParams.set('client_id', 'my-app')
 * url.searchParams.set('request_uri', pushed.requestUri)
 * ```
 */
export async function pushAuthorizationRequest(
  endpoint: URL,
  params: URLSearchParams,
  deps: PushDeps,
): Promise<PushedAuthorizationRequest> {
  const body = new URLSearchParams(params)
  body.delete('client_id')
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
  }
  // Authentication per attempt: a DPoP nonce retry gets a fresh client assertion (a new jti).
  const send = async (proof: Record<string, string>) => {
    const attempt = new URLSearchParams(body)
    const attemptHeaders = { ...headers }
    await applyClientAuth(deps.client, attempt, attemptHeaders)
    // RFC 9126 §2: client_id is sent by every client, authenticated or not.
    if (!attempt.has('client_id')) attempt.set('client_id', deps.client.clientId)
    return httpRequest(
      endpoint,
      { method: 'POST', headers: { ...attemptHeaders, ...proof }, body: attempt.toString() },
      deps.http,
      'PAR endpoint',
    )
  }
  const response = deps.dpop
    ? await withDpop(deps.dpop, 'POST', endpoint, undefined, send)
    : await send({})
  let json: Record<string, unknown>
  try {
    json = parseJsonObject(response, 'PAR endpoint')
  } catch (err) {
    throw new AuthkestraError(
      'provider_bad_response',
      `PAR endpoint answered ${response.status} without JSON`,
      { status: response.status, cause: err },
    )
  }
  throwIfOAuthError(json, response, 'PAR endpoint')
  if (response.status !== 201 && response.status !== 200)
    throw invalid(`answered ${response.status}`)
  const { request_uri: requestUri, expires_in: expiresIn } = json
  if (
    typeof requestUri !== 'string' ||
    requestUri.length > 2048 ||
    !VSCHARS.test(requestUri) ||
    !URL.canParse(requestUri)
  )
    throw invalid('"request_uri" is missing or not a URI')
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn <= 0)
    throw invalid('"expires_in" must be a positive integer')
  return {
    requestUri,
    expiresAt: deps.clock.now() + Math.min(expiresIn, 3600) * 1000,
    ...(deps.dpop ? { dpopKey: deps.dpop.key } : {}),
  }
}
