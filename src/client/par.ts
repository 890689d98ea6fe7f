/**
 * The client side of Pushed Authorization Requests (RFC 9126): the authorization parameters go
 * to the provider's PAR endpoint in an authenticated POST, and the browser is sent with only
 * `client_id` and the `request_uri` that came back, so nothing in the URL can be read or changed
 * on the way (§1) and the provider has checked the request before the user sees a page.
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { applyClientAuth, type ClientCredentials } from './client-auth.ts'
import { httpRequest, parseJsonObject, type ResolvedHttpOptions } from './http.ts'
import { throwIfOAuthError } from './tokens.ts'

/** What the PAR endpoint handed back (RFC 9126 §2.2). */
export interface PushedAuthorizationRequest {
  /** The reference to send in the authorization URL; single use. */
  readonly requestUri: string
  /** When it stops working (ms since the epoch). */
  readonly expiresAt: number
}

/** What a push needs. */
export interface PushDeps {
  readonly client: ClientCredentials
  readonly http: ResolvedHttpOptions
  readonly clock: Clock
}

const VSCHARS = /^[\x21-\x7e]+$/

function invalid(message: string): AuthkestraError {
  return new AuthkestraError('provider_bad_response', `PAR endpoint: ${message}`)
}

/**
 * POSTs the authorization parameters to `endpoint` with the client's authentication and checks
 * the answer: `request_uri` a URI, `expires_in` a positive integer (§2.2). An error answer is
 * `token_error` with the provider's `error` (§2.3).
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
  await applyClientAuth(deps.client, body, headers)
  // RFC 9126 §2: client_id is sent by every client, authenticated or not.
  if (!body.has('client_id')) body.set('client_id', deps.client.clientId)
  const response = await httpRequest(
    endpoint,
    { method: 'POST', headers, body: body.toString() },
    deps.http,
    'PAR endpoint',
  )
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
  return { requestUri, expiresAt: deps.clock.now() + Math.min(expiresIn, 3600) * 1000 }
}
