/**
 * Authorization responses (RFC 6749 §4.1.2, RFC 9207): a redirect to the client with either a
 * `code` or an `error`, always with `iss`, and `state` echoed when the request had one.
 *
 * @module
 */
import type { OpResponse } from '../../http/message.ts'
import { redirect } from '../../http/responses.ts'

/** The redirect carrying `params`, `state` and `iss`. */
export function authorizationResponse(
  redirectUri: string,
  params: Readonly<Record<string, string>>,
  state: string | undefined,
  issuer: string,
  headers: Readonly<Record<string, string>> = {},
): OpResponse {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  if (state !== undefined) url.searchParams.set('state', state)
  url.searchParams.set('iss', issuer)
  return redirect(url, headers)
}
