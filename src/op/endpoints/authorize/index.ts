/**
 * The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2), GET and POST. The order is the
 * security review: who is asking and where the answer may go come first (failures there get the
 * OP's own page, never a redirect); then the request itself, whose failures go back to the client
 * with `error`, `state` and `iss`. A pushed request (`request_uri`, RFC 9126 §4) was checked at
 * the PAR endpoint already: it is redeemed once and nothing else of the URL is read.
 *
 * @module
 */
import { OAuthProblem } from '../../errors.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { type Params, readParams } from '../../http/params.ts'
import { html } from '../../http/responses.ts'
import type { OpRuntime, OpSettings } from '../../setup.ts'
import type { AuthorizationRequest, ClientRecord } from '../../store/types.ts'
import { beginAuthorization } from '../interaction/begin.ts'
import { errorPage } from '../interaction/pages.ts'
import { mustPush, redeemRequestUri } from '../par/pushed.ts'
import { checkClient, checkRedirectUri, UnredirectableProblem } from './checks.ts'
import { authorizationRequestOf } from './request.ts'
import { authorizationResponse } from './respond.ts'

/**
 * Rule (RFC 9126 §5, §6): a client that must push (or an OP that requires it of all) may not
 * send its authorization parameters in the URL.
 */
function checkNotPushRequired(client: ClientRecord, settings: Pick<OpSettings, 'par'>): void {
  if (mustPush(client, settings))
    throw new OAuthProblem(
      'invalid_request',
      'this client must use a pushed authorization request (PAR)',
    )
}

/** The validated request: a redeemed pushed one, or one read from the URL. */
type Validated =
  | { readonly kind: 'request'; readonly request: AuthorizationRequest }
  | { readonly kind: 'redirect'; readonly redirectUri: string; readonly params: Params }

/** The checks whose failures the OP answers with its own page. */
async function unredirectable(
  request: OpRequest,
  deps: OpRuntime,
): Promise<Validated & { client: ClientRecord }> {
  const params = await readParams(request, ['GET', 'POST'])
  const client = await checkClient(params, deps.store)
  const pushed = await redeemRequestUri(params, client, deps)
  if (pushed) return { kind: 'request', request: pushed, client }
  return { kind: 'redirect', redirectUri: checkRedirectUri(params, client), params, client }
}

/** Handles an authorization request. */
export async function authorizeEndpoint(request: OpRequest, deps: OpRuntime): Promise<OpResponse> {
  let validated: Awaited<ReturnType<typeof unredirectable>>
  try {
    validated = await unredirectable(request, deps)
  } catch (err) {
    if (err instanceof UnredirectableProblem) return html(errorPage(err.message), 400)
    if (err instanceof OAuthProblem)
      return html(errorPage(`The request is malformed: ${err.description}.`), err.status)
    throw err
  }
  const { client } = validated
  const refuse = (err: unknown, redirectUri: string, state: string | undefined) => {
    if (!(err instanceof OAuthProblem)) throw err
    return authorizationResponse(
      redirectUri,
      { error: err.error, error_description: err.description },
      state,
      deps.settings.issuer,
    )
  }
  if (validated.kind === 'request') {
    const pushed = validated.request
    try {
      return await beginAuthorization(pushed, client, request, deps)
    } catch (err) {
      return refuse(err, pushed.redirectUri, pushed.state)
    }
  }
  const { redirectUri, params } = validated
  let state: string | undefined
  try {
    state = params.get('state')
  } catch (err) {
    return refuse(err, redirectUri, undefined)
  }
  try {
    checkNotPushRequired(client, deps.settings)
    const authorization = authorizationRequestOf(params, client, redirectUri, state, deps.settings)
    return await beginAuthorization(authorization, client, request, deps)
  } catch (err) {
    return refuse(err, redirectUri, state)
  }
}
