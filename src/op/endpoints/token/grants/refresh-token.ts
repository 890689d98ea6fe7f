/**
 * The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
 * every use consumes the token atomically and issues a new one in the same family, whose absolute
 * lifetime never grows. Presenting a token that was already rotated revokes the whole family and
 * the grant's access tokens.
 *
 * The checks that change nothing (client, family lifetime, scope, account) run before the token
 * is consumed, so a client's mistake (e.g. asking for a wider scope) does not burn its token.
 *
 * @module
 */
import { OAuthProblem } from '../../../errors.ts'
import type { Params } from '../../../http/params.ts'
import type { ClientRecord, RefreshRecord } from '../../../store/types.ts'
import { secretId } from '../../../tokens/secrets.ts'
import {
  findAccount,
  type IssueDeps,
  invalidGrant,
  issueTokens,
  nowSeconds,
  parseScope,
  revokeGrant,
  rotatedMarker,
  type TokenResponseBody,
} from '../issue.ts'

const INVALID = 'the refresh token is invalid, expired or revoked'

/**
 * Rule: the token exists. One already rotated is a reuse, i.e. a stolen token or a stolen
 * successor: the family is revoked before answering `invalid_grant`.
 */
async function loadRefresh(id: string, deps: IssueDeps): Promise<RefreshRecord> {
  const record = await deps.store.get('refresh', id)
  if (!record) throw invalidGrant(INVALID)
  if (await deps.store.get('revocation', rotatedMarker(id))) {
    await revokeGrant(record.grantId, 'refresh token reuse', deps)
    throw invalidGrant(INVALID)
  }
  return record
}

/** Rule: the token was issued to the authenticated client (RFC 6749 §6). */
function checkClient(record: RefreshRecord, client: ClientRecord): void {
  if (record.clientId !== client.clientId) throw invalidGrant(INVALID)
}

/**
 * Rule (RFC 9449 §5): a refresh token bound to a DPoP key (a public client's) is used only with a
 * proof of that key; a stolen one is worthless without it.
 */
function checkDpopBinding(record: RefreshRecord, deps: IssueDeps): void {
  if (record.jkt === undefined) return
  if (deps.sender === undefined)
    throw new OAuthProblem('invalid_dpop_proof', 'this refresh token needs a DPoP proof')
  if (deps.sender.jkt !== record.jkt)
    throw invalidGrant('the refresh token is bound to another DPoP key')
}

/** Rule: the family's absolute lifetime is not over; rotation never extends it. */
function checkFamilyLifetime(record: RefreshRecord, deps: IssueDeps): void {
  if (nowSeconds(deps) >= record.familyExpiresAt) throw invalidGrant(INVALID)
}

/**
 * Rule (RFC 6749 §6): `scope` may narrow the grant's scopes for this access token, never widen
 * them (`invalid_scope`). Absent, the access token gets the grant's scopes.
 */
function narrowScopes(record: RefreshRecord, requested: string | undefined): readonly string[] {
  const scopes = parseScope(requested)
  if (scopes === undefined) return record.scopes
  if (!scopes.every((s) => record.scopes.includes(s)))
    throw new OAuthProblem('invalid_scope', '"scope" exceeds the scope originally granted')
  return scopes
}

/**
 * Rule: rotation is atomic. Exactly one concurrent use wins `consume`; a loser sees a reuse and
 * revokes the family. The winner marks the token rotated for reuse detection and introspection.
 */
async function rotate(id: string, record: RefreshRecord, deps: IssueDeps): Promise<void> {
  const consumed = await deps.store.consume('refresh', id)
  if (!consumed) throw invalidGrant(INVALID)
  if (consumed.alreadyConsumed) {
    await revokeGrant(record.grantId, 'refresh token reuse', deps)
    throw invalidGrant(INVALID)
  }
  await deps.store.set(
    'revocation',
    rotatedMarker(id),
    { reason: 'rotated' },
    { ttlSeconds: Math.max(1, record.familyExpiresAt - nowSeconds(deps)), family: record.grantId },
  )
}

/**
 * Exchanges a refresh token for a new access token and a new refresh token of the same family
 * (same scopes, same absolute expiry), plus an ID token (no nonce, same `sub` and `auth_time`)
 * when the resulting scopes include `openid`.
 *
 * @example
 * ```ts
 * const body = await refreshTokenGrant(params, client, deps)
 * return json(body)
 * ```
 */
export async function refreshTokenGrant(
  params: Params,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<TokenResponseBody> {
  const id = await secretId(params.require('refresh_token'))
  const requestedScope = params.get('scope')
  const record = await loadRefresh(id, deps)
  checkClient(record, client)
  checkDpopBinding(record, deps)
  checkFamilyLifetime(record, deps)
  const scopes = narrowScopes(record, requestedScope)
  const account = await findAccount(record.sub, deps)
  await rotate(id, record, deps)
  return issueTokens(record, { scopes, account, refreshUntil: record.familyExpiresAt }, deps)
}
