/**
 * The validated authorization request, built from its parameters by the checks of `checks.ts`
 * in their order. Shared by the authorization endpoint and the PAR endpoint (RFC 9126 §2.1: a
 * pushed request is checked as an authorization request would be), so both refuse the same.
 *
 * @module
 */
import type { Params } from '../../http/params.ts'
import type { OpSettings } from '../../setup.ts'
import type { AuthorizationRequest, ClientRecord } from '../../store/types.ts'
import {
  checkAcr,
  checkDpopJkt,
  checkNonce,
  checkPkce,
  checkPrompt,
  checkResource,
  checkResponseType,
  checkScope,
} from './checks.ts'

/**
 * The request of `client` to `redirectUri` (both already checked), or an `OAuthProblem` from the
 * first check that fails.
 */
export function authorizationRequestOf(
  params: Params,
  client: ClientRecord,
  redirectUri: string,
  state: string | undefined,
  settings: Pick<OpSettings, 'scopes' | 'resources'>,
): AuthorizationRequest {
  checkResponseType(params)
  const nonce = checkNonce(params)
  return {
    clientId: client.clientId,
    redirectUri,
    scopes: checkScope(params, client, settings),
    ...(state === undefined ? {} : { state }),
    ...(nonce === undefined ? {} : { nonce }),
    ...checkPkce(params, client),
    ...checkPrompt(params),
    ...checkAcr(params),
    ...checkDpopJkt(params),
    ...checkResource(params, client, settings),
  }
}
