/**
 * The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2), GET and POST. The order is the
 * security review: who is asking and where the answer may go come first (failures there get the
 * OP's own page, never a redirect); then the request itself, whose failures go back to the client
 * with `error`, `state` and `iss`.
 *
 * @module
 */
import { OAuthProblem } from '../../errors.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { type Params, readParams } from '../../http/params.ts'
import { html } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type { AuthorizationRequest } from '../../store/types.ts'
import { beginAuthorization } from '../interaction/begin.ts'
import { errorPage } from '../interaction/pages.ts'
import {
  checkAcr,
  checkClient,
  checkDpopJkt,
  checkNonce,
  checkPkce,
  checkPrompt,
  checkRedirectUri,
  checkResponseType,
  checkScope,
  UnredirectableProblem,
} from './checks.ts'
import { authorizationResponse } from './respond.ts'

/** Handles an authorization request. */
export async function authorizeEndpoint(request: OpRequest, deps: OpRuntime): Promise<OpResponse> {
  let params: Params
  let client: Awaited<ReturnType<typeof checkClient>>
  let redirectUri: string
  try {
    params = await readParams(request, ['GET', 'POST'])
    client = await checkClient(params, deps.store)
    redirectUri = checkRedirectUri(params, client)
  } catch (err) {
    if (err instanceof UnredirectableProblem) return html(errorPage(err.message), 400)
    if (err instanceof OAuthProblem)
      return html(errorPage(`The request is malformed: ${err.description}.`), err.status)
    throw err
  }
  let state: string | undefined
  try {
    state = params.get('state')
  } catch (err) {
    if (!(err instanceof OAuthProblem)) throw err
    return authorizationResponse(
      redirectUri,
      { error: err.error, error_description: err.description },
      undefined,
      deps.settings.issuer,
    )
  }
  try {
    checkResponseType(params)
    const nonce = checkNonce(params)
    const authorization: AuthorizationRequest = {
      clientId: client.clientId,
      redirectUri,
      scopes: checkScope(params, client, deps.settings),
      ...(state === undefined ? {} : { state }),
      ...(nonce === undefined ? {} : { nonce }),
      ...checkPkce(params, client),
      ...checkPrompt(params),
      ...checkAcr(params),
      ...checkDpopJkt(params),
    }
    return await beginAuthorization(authorization, client, request, deps)
  } catch (err) {
    if (!(err instanceof OAuthProblem)) throw err
    return authorizationResponse(
      redirectUri,
      { error: err.error, error_description: err.description },
      state,
      deps.settings.issuer,
    )
  }
}
