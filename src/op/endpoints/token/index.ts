/**
 * The token endpoint (RFC 6749 §3.2): a POST of form parameters, client authentication, then one
 * file per grant. Every answer, token or error, carries `Cache-Control: no-store` (§5.1); errors
 * are the RFC 6749 §5.2 JSON with the exact `error` value (400, or 401 for `invalid_client`).
 *
 * @module
 */

import { nonceHeader, proofOfSender } from '../../dpop.ts'
import { invalidRequest, OAuthProblem } from '../../errors.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { type Params, readParams } from '../../http/params.ts'
import { json, oauthError } from '../../http/responses.ts'
import { checkClientBudget, clientBudget, spendClientFailure } from '../../limits.ts'
import type { OpRuntime } from '../../setup.ts'
import { type ClientRecord, DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT } from '../../store/types.ts'
import { authenticateClient } from '../client-auth.ts'
import { authorizationCodeGrant } from './grants/authorization-code.ts'
import { clientCredentialsGrant } from './grants/client-credentials.ts'
import { customGrant } from './grants/custom.ts'
import { deviceCodeGrant } from './grants/device-code.ts'
import { refreshTokenGrant } from './grants/refresh-token.ts'
import { tokenExchangeGrant } from './grants/token-exchange.ts'
import type { IssueDeps, TokenResponseBody } from './issue.ts'

/** What the token endpoint uses. */
export type TokenDeps = Pick<
  OpRuntime,
  | 'settings'
  | 'store'
  | 'keys'
  | 'accounts'
  | 'clock'
  | 'logger'
  | 'clientKeys'
  | 'limits'
  | 'clientAddress'
>

type Grant = (params: Params, client: ClientRecord, deps: IssueDeps) => Promise<TokenResponseBody>

/** One file per grant; a grant type missing here is `unsupported_grant_type`. */
const GRANTS: Readonly<Record<string, Grant>> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  [DEVICE_CODE_GRANT]: deviceCodeGrant,
  [TOKEN_EXCHANGE_GRANT]: tokenExchangeGrant,
}

/**
 * Rule (RFC 6749 §5.2): `grant_type` is required (`invalid_request`) and must be one this OP
 * implements or was given in `grants` (`unsupported_grant_type`).
 */
function checkGrantType(params: Params, deps: TokenDeps): [string, Grant] {
  const grantType = params.get('grant_type')
  if (grantType === undefined) throw invalidRequest('"grant_type" is required')
  const builtin = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined
  if (builtin) return [grantType, builtin]
  const custom = deps.settings.customGrants.get(grantType)
  if (custom === undefined)
    throw new OAuthProblem('unsupported_grant_type', '"grant_type" is not supported')
  return [grantType, (params, client, deps) => customGrant(grantType, custom, params, client, deps)]
}

/** Rule (RFC 6749 §5.2): the client is registered for the grant (`unauthorized_client`). */
function checkGrantAllowed(client: ClientRecord, grantType: string): void {
  if (!client.grantTypes.includes(grantType))
    throw new OAuthProblem('unauthorized_client', 'the client may not use this grant type')
}

/**
 * Handles a token request: read the form, authenticate the client, check the grant type, run
 * the grant. Unexpected errors (e.g. a failing store) propagate to the router.
 *
 * @example
 * ```ts
 * const response = await tokenEndpoint(request, { settings, store, keys, accounts, clock })
 * ```
 */
export async function tokenEndpoint(request: OpRequest, deps: TokenDeps): Promise<OpResponse> {
  try {
    const params = await readParams(request, ['POST'])
    const client = await authenticateClient(request, params, deps)
    const budget = clientBudget(client, request, deps)
    await checkClientBudget(budget, deps.limits)
    const body = await runGrant(request, params, client, deps).catch((err: unknown) =>
      spendClientFailure(err, budget, deps.limits),
    )
    return json(body, 200, await nonceHeader(deps.settings))
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(err)
    throw err
  }
}

/** The grant type checked, the sender's proof, the grant run. */
async function runGrant(
  request: OpRequest,
  params: Params,
  client: ClientRecord,
  deps: TokenDeps,
): Promise<TokenResponseBody> {
  const [grantType, grant] = checkGrantType(params, deps)
  checkGrantAllowed(client, grantType)
  const sender = await proofOfSender(request, deps.settings.urls.token, client, deps)
  return grant(params, client, { ...deps, sender })
}
