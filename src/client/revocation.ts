/**
 * Token revocation (RFC 7009 §2): the client asks the provider to invalidate a token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { applyClientAuth, type ClientCredentials } from './client-auth.ts'
import { httpRequest, parseJsonObject, type ResolvedHttpOptions } from './http.ts'
import { throwIfOAuthError } from './tokens.ts'

/** `token_type_hint` values of RFC 7009 §2.1. */
export type TokenTypeHint = 'access_token' | 'refresh_token'

/** Revokes `token`. A 200 is success, whether or not the token was valid (RFC 7009 §2.2). */
export async function revokeToken(
  endpoint: URL,
  token: string,
  hint: TokenTypeHint | undefined,
  deps: { client: ClientCredentials; http: ResolvedHttpOptions },
): Promise<void> {
  const body = new URLSearchParams({ token })
  if (hint) body.set('token_type_hint', hint)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  await applyClientAuth(deps.client, body, headers)
  const response = await httpRequest(
    endpoint,
    { method: 'POST', headers, body: body.toString() },
    deps.http,
    'revocation endpoint',
  )
  if (response.status === 200) return
  let json: Record<string, unknown> | undefined
  try {
    json = parseJsonObject(response, 'revocation endpoint')
  } catch {
    json = undefined
  }
  if (json) throwIfOAuthError(json, response, 'revocation endpoint')
  throw new AuthkestraError(
    'provider_bad_response',
    `revocation endpoint answered ${response.status}`,
    {
      status: response.status,
    },
  )
}
