/**
 * Token revocation (RFC 7009). An authenticated client revokes one of its own tokens: a refresh
 * token revokes its whole grant (the refresh family and, per §2.1, the grant's access tokens); an
 * access token is revoked alone, by `jti`, for the rest of its lifetime. A token that is unknown,
 * invalid or already dead gets the same 200 as a revoked one (§2.2), so the endpoint is no oracle.
 *
 * @module
 */
import { OAuthProblem } from '../errors.ts'
import type { OpRequest, OpResponse } from '../http/message.ts'
import { readParams } from '../http/params.ts'
import { empty, oauthError } from '../http/responses.ts'
import type { OpRuntime } from '../setup.ts'
import type { ClientRecord } from '../store/types.ts'
import { verifyAccessToken } from '../tokens/jwt.ts'
import { secretId } from '../tokens/secrets.ts'
import { authenticateClient } from './client-auth.ts'
import { nowSeconds, revokeGrant, signDeps } from './token/issue.ts'

/** What the revocation endpoint uses. */
export type RevocationDeps = Pick<
  OpRuntime,
  'settings' | 'store' | 'keys' | 'clock' | 'logger' | 'clientKeys'
>

/** Revokes `token` if it is of this kind; true when it was recognised. */
type Revoker = (token: string, client: ClientRecord, deps: RevocationDeps) => Promise<boolean>

/**
 * Rule (RFC 7009 §2.1): a client may only revoke tokens issued to it; another client's token is
 * refused with `unauthorized_client` and stays valid.
 */
function checkOwner(tokenClientId: string, client: ClientRecord): void {
  if (tokenClientId !== client.clientId)
    throw new OAuthProblem('unauthorized_client', 'the token was issued to another client')
}

/** Rule: a refresh token (looked up by its hash) revokes its whole grant. */
const revokeRefresh: Revoker = async (token, client, deps) => {
  const record = await deps.store.get('refresh', await secretId(token))
  if (!record) return false
  checkOwner(record.clientId, client)
  await revokeGrant(record.grantId, 'revoked by the client', deps)
  return true
}

/** Rule: a live access token is revoked by `jti` until it would have expired anyway. */
const revokeAccess: Revoker = async (token, client, deps) => {
  const claims = await verifyAccessToken(token, {
    ...signDeps(deps),
    store: deps.store,
    audience: [deps.settings.audience, ...deps.settings.resources.keys()],
  })
  if (!claims) return false
  checkOwner(claims.client_id, client)
  await deps.store.set(
    'revocation',
    `jti:${claims.jti}`,
    { reason: 'revoked by the client' },
    { ttlSeconds: Math.max(1, claims.exp - nowSeconds(deps)) },
  )
  return true
}

/**
 * Rule (RFC 7009 §2.1): `token_type_hint` only orders the lookups; an unknown hint is ignored,
 * since this server can revoke both types and searches both.
 */
function lookupOrder(hint: string | undefined): readonly Revoker[] {
  return hint === 'access_token' ? [revokeAccess, revokeRefresh] : [revokeRefresh, revokeAccess]
}

/**
 * Handles a revocation request: POST, client authentication, then `token`.
 *
 * @example
 * ```ts
 * const response = await revocationEndpoint(request, { settings, store, keys, clock })
 * ```
 */
export async function revocationEndpoint(
  request: OpRequest,
  deps: RevocationDeps,
): Promise<OpResponse> {
  try {
    const params = await readParams(request, ['POST'])
    const client = await authenticateClient(request, params, deps)
    const token = params.require('token')
    for (const revoke of lookupOrder(params.get('token_type_hint'))) {
      if (await revoke(token, client, deps)) break
    }
    return empty(200)
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(err)
    throw err
  }
}
