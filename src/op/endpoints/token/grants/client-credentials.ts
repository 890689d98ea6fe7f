/**
 * The client credentials grant (RFC 6749 §4.4): a confidential client gets an access token for
 * itself (`sub` = its `client_id`), limited to the extra API scopes it was registered with. No
 * user is involved, so there is no ID token, no refresh token and no OpenID Connect scope.
 *
 * @module
 */
import { randomToken } from '../../../../core/random.ts'
import { OIDC_SCOPES } from '../../../config.ts'
import { OAuthProblem } from '../../../errors.ts'
import type { Params } from '../../../http/params.ts'
import type { ClientRecord } from '../../../store/types.ts'
import {
  accessTokenShape,
  grantAccessToken,
  type IssueDeps,
  parseScope,
  type TokenResponseBody,
} from '../issue.ts'
import { tokenTarget } from '../target.ts'

/** Rule (RFC 6749 §4.4): only confidential clients may use this grant. */
function checkConfidential(client: ClientRecord): void {
  if (
    client.tokenEndpointAuthMethod === 'none' ||
    (client.secretHash === undefined && client.tokenEndpointAuthMethod !== 'private_key_jwt')
  )
    throw new OAuthProblem('unauthorized_client', 'public clients cannot use client_credentials')
}

/**
 * Rule (RFC 6749 §3.3): each requested scope is one of the client's registered API scopes;
 * OpenID Connect scopes describe a user and are refused (`invalid_scope`). Without `scope`, the
 * token gets the client's registered API scopes (the pre-defined default §3.3 allows).
 */
function checkScopes(client: ClientRecord, requested: string | undefined): readonly string[] {
  const allowed = client.scopes.filter((s) => !OIDC_SCOPES.has(s))
  const scopes = parseScope(requested)
  if (scopes === undefined) return allowed
  if (!scopes.every((s) => allowed.includes(s)))
    throw new OAuthProblem('invalid_scope', '"scope" is not allowed for this client')
  return scopes
}

/**
 * Issues an access token to the client itself, under a fresh grant id (so it can be revoked on
 * its own).
 *
 * @example
 * ```ts
 * const body = await clientCredentialsGrant(params, client, deps)
 * return json(body)
 * ```
 */
export async function clientCredentialsGrant(
  params: Params,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<TokenResponseBody> {
  checkConfidential(client)
  const requested = checkScopes(client, params.get('scope'))
  const target = tokenTarget(params, client, undefined, deps)
  const { audience, scopes, ttl } = accessTokenShape(requested, target, deps.settings)
  const { access, tokenType } = await grantAccessToken(
    { grantId: randomToken(16), clientId: client.clientId, sub: client.clientId, scopes },
    audience,
    deps,
    {},
    ttl,
  )
  return {
    access_token: access.token,
    token_type: tokenType,
    expires_in: access.expiresIn,
    scope: scopes.join(' '),
  }
}
