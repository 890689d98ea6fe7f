/**
 * Token Exchange (RFC 8693) at the token endpoint: a confidential client trades a token it holds
 * (the subject, optionally with an actor for delegation) for a new access token, for another
 * audience and with no more scope than the subject had. The app's policy decides every exchange
 * (without one, none is allowed), and every decision is logged. The rules, in order:
 *
 * 1. the client is confidential (`unauthorized_client`);
 * 2. `subject_token` and `subject_token_type`, and `actor_token` only with `actor_token_type`
 *    (§2.1, `invalid_request`); only access tokens are issued (`requested_token_type`);
 * 3. every `resource` is an absolute URI without a fragment (RFC 8707 §2, `invalid_target`);
 * 4. the subject and the actor are valid tokens of their types (§2.2.2, `invalid_request`), and
 *    an actor is one the subject's `may_act` allows, when it has one (§4.4);
 * 5. `scope` narrows only: every scope is the subject's (`invalid_scope`);
 * 6. the policy allows it (`invalid_target` when a target was named, else `invalid_request`).
 *
 * The new token: `sub` of the subject, `client_id` of the asking client, `aud` the requested
 * audience and resources (else the OP's), and with an actor an `act` claim naming it, nesting
 * the subject's own `act` (§4.1: a chain of delegation). Exchanged from this OP's access or
 * refresh token, it belongs to the same grant, so revoking that grant revokes it too.
 *
 * @module
 */
import { randomToken } from '../../../../core/random.ts'
import type { ExchangedToken } from '../../../config.ts'
import { invalidRequest, OAuthProblem } from '../../../errors.ts'
import type { Params } from '../../../http/params.ts'
import type { ClientRecord } from '../../../store/types.ts'
import { checkExchangedToken, TOKEN_TYPES } from '../../../tokens/exchanged-token.ts'
import { grantAccessToken, type IssueDeps, parseScope, type TokenResponseBody } from '../issue.ts'

/** Rule 1: only confidential clients exchange tokens. */
function checkConfidential(client: ClientRecord): void {
  if (
    client.tokenEndpointAuthMethod === 'none' ||
    (client.secretHash === undefined && client.tokenEndpointAuthMethod !== 'private_key_jwt')
  )
    throw new OAuthProblem('unauthorized_client', 'public clients cannot exchange tokens')
}

/** Rule 2: the parameters of §2.1. */
function readRequest(params: Params) {
  const subjectToken = params.require('subject_token')
  const subjectType = params.require('subject_token_type')
  const actorToken = params.get('actor_token')
  const actorType = params.get('actor_token_type')
  if ((actorToken === undefined) !== (actorType === undefined))
    throw invalidRequest('"actor_token" and "actor_token_type" go together')
  const requested = params.get('requested_token_type')
  if (requested !== undefined && requested !== TOKEN_TYPES.access)
    throw invalidRequest('only access tokens are issued ("requested_token_type")')
  return { subjectToken, subjectType, actorToken, actorType }
}

/** Rule 3: `resource` values (RFC 8707 §2) and `audience` values, each may repeat. */
function readTargets(params: Params): { audience: string[]; resource: string[] } {
  const resource = params.raw.getAll('resource')
  const audience = params.raw.getAll('audience')
  for (const value of [...resource, ...audience])
    if (value === '' || value.length > 2048) throw invalidRequest('a target is empty or too long')
  for (const value of resource) {
    if (!URL.canParse(value) || new URL(value).hash !== '' || value.includes('#'))
      throw new OAuthProblem(
        'invalid_target',
        '"resource" must be an absolute URI without fragment',
      )
  }
  return { audience: [...new Set(audience)], resource: [...new Set(resource)] }
}

/** Rule 4: a valid token of its declared type. */
async function checkToken(
  token: string,
  type: string,
  role: 'subject' | 'actor',
  deps: IssueDeps,
): Promise<ExchangedToken> {
  const checked = await checkExchangedToken(token, type, deps)
  if (!checked) throw invalidRequest(`the ${role} token is invalid, expired or of another type`)
  return checked
}

/** Rule 4 (§4.4): a subject that says who may act for it admits only that actor. */
function checkMayAct(subject: ExchangedToken, actor: ExchangedToken | undefined): void {
  const mayAct = subject.claims.may_act as { sub?: unknown } | undefined
  if (actor === undefined || mayAct === undefined) return
  if (typeof mayAct !== 'object' || mayAct === null || mayAct.sub !== actor.sub)
    throw invalidRequest('the subject token does not allow this actor ("may_act")')
}

/** Rule 5: scope narrowing only. */
function checkScopes(subject: ExchangedToken, requested: string | undefined): readonly string[] {
  const scopes = parseScope(requested)
  if (scopes === undefined) return subject.scopes
  if (!scopes.every((s) => subject.scopes.includes(s)))
    throw new OAuthProblem('invalid_scope', '"scope" exceeds the scope of the subject token')
  return scopes
}

/** The `act` claim of the new token (§4.1), nesting the subject's own. */
function actClaim(subject: ExchangedToken, actor: ExchangedToken | undefined) {
  if (actor === undefined) return {}
  const prior = subject.claims.act
  return {
    act: {
      sub: actor.sub,
      ...(actor.issuer === subject.issuer ? {} : { iss: actor.issuer }),
      ...(typeof prior === 'object' && prior !== null ? { act: prior } : {}),
    },
  }
}

/**
 * Exchanges the subject token for an access token, as the rules above allow.
 *
 * @example
 * ```ts
 * const body = await tokenExchangeGrant(params, client, deps)
 * return json(body)
 * ```
 */
export async function tokenExchangeGrant(
  params: Params,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<TokenResponseBody> {
  checkConfidential(client)
  const request = readRequest(params)
  const targets = readTargets(params)
  const subject = await checkToken(request.subjectToken, request.subjectType, 'subject', deps)
  const actor =
    request.actorToken === undefined
      ? undefined
      : await checkToken(request.actorToken, request.actorType as string, 'actor', deps)
  checkMayAct(subject, actor)
  const scopes = checkScopes(subject, params.get('scope'))
  const policy = deps.settings.tokenExchange.policy
  const decision = policy
    ? await policy({
        clientId: client.clientId,
        subject,
        ...(actor ? { actor } : {}),
        audience: targets.audience,
        resource: targets.resource,
        scopes,
      })
    : { allow: false as const, reason: 'no tokenExchange.policy is configured' }
  const who = `client "${client.clientId}", subject "${subject.sub}"${actor ? `, actor "${actor.sub}"` : ''}`
  const aims = [...targets.audience, ...targets.resource]
  if (!decision.allow) {
    deps.logger.warn(`token exchange refused (${who}): ${decision.reason}`)
    throw new OAuthProblem(
      aims.length > 0 ? 'invalid_target' : 'invalid_request',
      'the token exchange policy does not allow this exchange',
    )
  }
  const ownGrant =
    subject.issuer === deps.settings.issuer && typeof subject.claims.gid === 'string'
      ? subject.claims.gid
      : undefined
  const audience =
    aims.length === 0 ? deps.settings.audience : aims.length === 1 ? (aims[0] as string) : aims
  const { access, tokenType } = await grantAccessToken(
    { grantId: ownGrant ?? randomToken(16), clientId: client.clientId, sub: subject.sub, scopes },
    audience,
    deps,
    actClaim(subject, actor),
  )
  deps.logger.info?.(
    `token exchange allowed (${who}) for ${aims.length > 0 ? aims.join(' ') : 'this OP'}`,
  )
  return {
    access_token: access.token,
    issued_token_type: TOKEN_TYPES.access,
    token_type: tokenType,
    expires_in: access.expiresIn,
    scope: scopes.join(' '),
  }
}
