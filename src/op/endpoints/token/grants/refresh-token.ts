/**
 * The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
 * every use consumes the token atomically and issues a new one in the same family, whose absolute
 * lifetime never grows. Presenting a token that was already rotated revokes the whole family and
 * the grant's access tokens.
 *
 * The checks that change nothing (client, family lifetime, scope, account) run before the token
 * is consumed, so a client's mistake (e.g. asking for a wider scope) does not burn its token.
 *
 * The client's policy (`refresh-policy.ts`) adjusts this: `rotate-with-grace` lets a rotated
 * token be presented again within the client's grace window (a new pair of the same family, no
 * revocation); `none` never consumes the token and answers without a new one (RFC 6749 §6
 * makes a new refresh token optional).
 *
 * @module
 */
import { OAuthProblem } from '../../../errors.ts'
import type { Params } from '../../../http/params.ts'
import type { ClientRecord, OpRecords, RefreshRecord } from '../../../store/types.ts'
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
import { tokenTarget } from '../target.ts'

const INVALID = 'the refresh token is invalid, expired or revoked'

/**
 * Whether a rotated token's marker is within its own client's grace window
 * (`rotate-with-grace`): the grace is the owner's, never another client's.
 */
function withinGrace(
  marker: OpRecords['revocation'] | undefined,
  record: RefreshRecord,
  client: ClientRecord,
  deps: IssueDeps,
): boolean {
  if (client.refreshTokenRotation !== 'rotate-with-grace' || record.clientId !== client.clientId)
    return false
  if (marker?.rotatedAt === undefined) return false
  const graceMs = (client.refreshTokenGraceSeconds ?? 0) * 1000
  return deps.clock.now() - marker.rotatedAt <= graceMs
}

/**
 * Rule: the token exists. One already rotated is a reuse, i.e. a stolen token or a stolen
 * successor: the family is revoked before answering `invalid_grant`, unless it is within its
 * client's grace window (`grace: true`: tokens are issued without consuming anything again).
 */
async function loadRefresh(
  id: string,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<{ record: RefreshRecord; grace: boolean }> {
  const record = await deps.store.get('refresh', id)
  if (!record) throw invalidGrant(INVALID)
  const marker = await deps.store.get('revocation', rotatedMarker(id))
  if (marker) {
    if (withinGrace(marker, record, client, deps)) return { record, grace: true }
    await revokeGrant(record.grantId, 'refresh token reuse', deps)
    throw invalidGrant(INVALID)
  }
  return { record, grace: false }
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

/** Marks the token rotated (for reuse detection and introspection), with the time of rotation. */
async function markRotated(id: string, record: RefreshRecord, deps: IssueDeps): Promise<void> {
  await deps.store.set(
    'revocation',
    rotatedMarker(id),
    { reason: 'rotated', rotatedAt: deps.clock.now() },
    { ttlSeconds: Math.max(1, record.familyExpiresAt - nowSeconds(deps)), family: record.grantId },
  )
}

/**
 * Rule: rotation is atomic. Exactly one concurrent use wins `consume`; a loser sees a reuse and
 * revokes the family. The winner marks the token rotated for reuse detection and introspection.
 * With `rotate-with-grace` the mark comes first, so a concurrent loser finds the time of the
 * rotation it lost to and, within the window, is answered like a grace reuse (same family).
 */
async function rotate(
  id: string,
  record: RefreshRecord,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<void> {
  const grace = client.refreshTokenRotation === 'rotate-with-grace'
  if (grace) await markRotated(id, record, deps)
  const consumed = await deps.store.consume('refresh', id)
  if (!consumed) throw invalidGrant(INVALID)
  if (consumed.alreadyConsumed) {
    const marker = grace ? await deps.store.get('revocation', rotatedMarker(id)) : undefined
    if (withinGrace(marker, record, client, deps)) return
    await revokeGrant(record.grantId, 'refresh token reuse', deps)
    throw invalidGrant(INVALID)
  }
  if (!grace) await markRotated(id, record, deps)
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
  const { record, grace } = await loadRefresh(id, client, deps)
  checkClient(record, client)
  checkDpopBinding(record, deps)
  checkFamilyLifetime(record, deps)
  const scopes = narrowScopes(record, requestedScope)
  const target = tokenTarget(params, client, record.resources ?? [], deps)
  const account = await findAccount(record.sub, deps)
  const idTokenAlg = client.idTokenSignedResponseAlg
  // `none` (FAPI 2.0 §5.3.2.1): the presented token stays the client's; no successor.
  if (client.refreshTokenRotation === 'none')
    return issueTokens(record, { scopes, account, idTokenAlg, target }, deps)
  if (!grace) await rotate(id, record, client, deps)
  return issueTokens(
    record,
    { scopes, account, idTokenAlg, target, refreshUntil: record.familyExpiresAt },
    deps,
  )
}
