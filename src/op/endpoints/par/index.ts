/**
 * The pushed authorization request endpoint (RFC 9126 §2): the client POSTs what it would have
 * put in the authorization URL, authenticated as at the token endpoint, and gets a one-time
 * `request_uri` to send the browser with instead. The request is checked here exactly as the
 * authorization endpoint would check it; failures are RFC 6749 §5.2 JSON errors (§2.3), never a
 * redirect. A DPoP proof sent along binds the code to its key (RFC 9449 §10.1).
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
import type { AuthorizationRequest, ClientRecord } from '../../store/types.ts'
import { checkRedirectUri, UnredirectableProblem } from '../authorize/checks.ts'
import { authorizationRequestOf } from '../authorize/request.ts'
import { authenticateClient } from '../client-auth.ts'
import { storePushed } from './pushed.ts'

/** What the PAR endpoint uses. */
export type ParDeps = Pick<
  OpRuntime,
  'settings' | 'store' | 'clock' | 'logger' | 'clientKeys' | 'limits' | 'clientAddress'
>

/** Rule (RFC 9126 §2.1): `request_uri` is the one authorization parameter that cannot be pushed. */
function checkNoRequestUri(params: Params): void {
  if (params.get('request_uri') !== undefined)
    throw invalidRequest('"request_uri" cannot be pushed')
}

/** Rule (RFC 6749 §5.2): only a client registered for the code flow pushes authorization requests. */
function checkCodeFlowClient(client: ClientRecord): void {
  if (!client.grantTypes.includes('authorization_code'))
    throw new OAuthProblem(
      'unauthorized_client',
      'the client may not use the authorization code flow',
    )
}

/**
 * Rule (RFC 9126 §2.1, §2.4): `redirect_uri` is required and registered for the client, as at
 * the authorization endpoint; here a mismatch is an `invalid_request` answer to the client.
 */
function checkPushedRedirectUri(params: Params, client: ClientRecord): string {
  try {
    return checkRedirectUri(params, client)
  } catch (err) {
    if (err instanceof UnredirectableProblem)
      throw invalidRequest('"redirect_uri" is missing or not registered for the client')
    throw err
  }
}

/**
 * Rule (RFC 9449 §10.1): a DPoP proof at the PAR endpoint binds the code to its key; with
 * `dpop_jkt` too, both must name the same key.
 */
async function checkProofBinding(
  request: OpRequest,
  authorization: AuthorizationRequest,
  client: ClientRecord,
  deps: ParDeps,
): Promise<AuthorizationRequest> {
  const sender = await proofOfSender(request, deps.settings.urls.par, client, deps, {
    optional: true,
  })
  if (sender === undefined) return authorization
  if (authorization.dpopJkt !== undefined && authorization.dpopJkt !== sender.jkt)
    throw invalidRequest('"dpop_jkt" does not match the key of the DPoP proof')
  return { ...authorization, dpopJkt: sender.jkt }
}

/**
 * Handles a pushed authorization request: 201 with `request_uri` and `expires_in` (RFC 9126
 * §2.2), or the error JSON. Unexpected errors (a failing store) propagate to the router.
 *
 * @example
 * ```ts
 * const response = await parEndpoint(request, { settings, store, clock })
 * ```
 */
export async function parEndpoint(request: OpRequest, deps: ParDeps): Promise<OpResponse> {
  try {
    const params = await readParams(request, ['POST'])
    const client = await authenticateClient(request, params, deps)
    const budget = clientBudget(client, request, deps)
    await checkClientBudget(budget, deps.limits)
    const { requestUri, expiresIn } = await push(request, params, client, deps).catch(
      (err: unknown) => spendClientFailure(err, budget, deps.limits),
    )
    return json(
      { request_uri: requestUri, expires_in: expiresIn },
      201,
      await nonceHeader(deps.settings),
    )
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(err)
    throw err
  }
}

/** The pushed request checked and stored. */
async function push(request: OpRequest, params: Params, client: ClientRecord, deps: ParDeps) {
  checkNoRequestUri(params)
  checkCodeFlowClient(client)
  const redirectUri = checkPushedRedirectUri(params, client)
  const authorization = await checkProofBinding(
    request,
    authorizationRequestOf(params, client, redirectUri, params.get('state'), deps.settings),
    client,
    deps,
  )
  return storePushed(authorization, deps)
}
