/**
 * Token introspection (RFC 7662). A confidential client may introspect the tokens issued to it;
 * a client registered as a resource server (`resource_server: true`) may introspect any access
 * token (RFC 7662 §4: the server decides who may learn what). Refresh tokens are only described
 * to the client they belong to. Anything unknown, malformed, expired, revoked, rotated or not the
 * caller's to know is just `{"active":false}` (§2.2), with no hint of why.
 *
 * @module
 */
import { OAuthProblem } from '../errors.ts'
import type { OpRequest, OpResponse } from '../http/message.ts'
import { readParams } from '../http/params.ts'
import { json, oauthError } from '../http/responses.ts'
import type { OpRuntime } from '../setup.ts'
import type { ClientRecord } from '../store/types.ts'
import { verifyAccessToken } from '../tokens/jwt.ts'
import { secretId } from '../tokens/secrets.ts'
import { authenticateClient } from './client-auth.ts'
import { nowSeconds, rotatedMarker, signDeps } from './token/issue.ts'

/** What the introspection endpoint uses. */
export type IntrospectionDeps = Pick<
  OpRuntime,
  'settings' | 'store' | 'keys' | 'clock' | 'logger' | 'clientKeys'
>

type Introspection = Readonly<Record<string, unknown>>

/** Describes `token` if it is of this kind; undefined when it is not recognised. */
type Inspector = (token: string, deps: IntrospectionDeps) => Promise<Introspection | undefined>

const INACTIVE: Introspection = { active: false }

/**
 * Rule (RFC 7662 §2.1, §4): introspection is for resource servers, which authenticate; a public
 * client (no secret) is refused with `invalid_client`.
 */
function checkConfidential(client: ClientRecord): void {
  if (client.tokenEndpointAuthMethod === 'none')
    throw new OAuthProblem('invalid_client', 'introspection requires a confidential client', 401)
}

/** Rule: an access token is active when it verifies (signature, typ, iss, exp, revocation). */
const inspectAccess: Inspector = async (token, deps) => {
  const claims = await verifyAccessToken(token, {
    ...signDeps(deps),
    store: deps.store,
    audience: [deps.settings.audience, ...deps.settings.resources.keys()],
  })
  if (!claims) return undefined
  const { scope, client_id, sub, exp, iat, iss, aud, jti, cnf } = claims
  // RFC 9449 §6.2: a DPoP-bound token is introspected with its `cnf` and type.
  const bound = typeof cnf === 'object' && cnf !== null
  return {
    active: true,
    scope,
    client_id,
    sub,
    exp,
    iat,
    iss,
    aud,
    jti,
    token_type: bound ? 'DPoP' : 'Bearer',
    ...(bound ? { cnf } : {}),
  }
}

/**
 * Rule: a refresh token is active while stored, not rotated (the `refresh:` marker the refresh
 * grant writes), its grant not revoked, and its family lifetime not over.
 */
const inspectRefresh: Inspector = async (token, deps) => {
  const id = await secretId(token)
  const record = await deps.store.get('refresh', id)
  if (!record) return undefined
  const dead =
    (await deps.store.get('revocation', rotatedMarker(id))) !== undefined ||
    (await deps.store.get('revocation', `grant:${record.grantId}`)) !== undefined ||
    nowSeconds(deps) >= record.familyExpiresAt
  if (dead) return INACTIVE
  return {
    active: true,
    scope: record.scopes.join(' '),
    client_id: record.clientId,
    sub: record.sub,
    exp: record.familyExpiresAt,
    iss: deps.settings.issuer,
  }
}

/** Rule (RFC 7662 §4): who may learn about an active token. */
function mayLearn(client: ClientRecord, result: Introspection, isAccessToken: boolean): boolean {
  if (result.active !== true || result.client_id === client.clientId) return true
  return isAccessToken && client.resourceServer
}

/** Rule (RFC 7662 §2.1): `token_type_hint` only orders the lookups; unknown hints are ignored. */
function lookupOrder(hint: string | undefined): readonly Inspector[] {
  return hint === 'refresh_token'
    ? [inspectRefresh, inspectAccess]
    : [inspectAccess, inspectRefresh]
}

/**
 * Handles an introspection request: POST, confidential client authentication, then `token`.
 *
 * @example
 * ```ts
 * const response = await introspectionEndpoint(request, { settings, store, keys, clock })
 * const { active } = await response.json()
 * ```
 */
export async function introspectionEndpoint(
  request: OpRequest,
  deps: IntrospectionDeps,
): Promise<OpResponse> {
  try {
    const params = await readParams(request, ['POST'])
    const client = await authenticateClient(request, params, deps)
    checkConfidential(client)
    const token = params.require('token')
    for (const inspect of lookupOrder(params.get('token_type_hint'))) {
      const result = await inspect(token, deps)
      if (!result) continue
      return json(mayLearn(client, result, inspect === inspectAccess) ? result : INACTIVE)
    }
    return json(INACTIVE)
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(err)
    throw err
  }
}
