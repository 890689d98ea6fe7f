/**
 * The authorization code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3): the code's bindings are
 * checked first (client, redirect URI, PKCE proof), so someone holding a stolen code but not the
 * verifier cannot burn it; then it is consumed atomically, so it is single use even under
 * concurrency, and a replayed code revokes everything its first exchange issued (RFC 6749 §4.1.2,
 * RFC 9700 §4.5).
 *
 * @module
 */
import { Pkce } from '../../../../core/pkce.ts'
import type { Params } from '../../../http/params.ts'
import type { ClientRecord, CodeRecord } from '../../../store/types.ts'
import { secretId } from '../../../tokens/secrets.ts'
import {
  findAccount,
  type IssueDeps,
  invalidGrant,
  issueTokens,
  nowSeconds,
  revokeGrant,
  type TokenResponseBody,
} from '../issue.ts'
import { tokenTarget } from '../target.ts'

/** Rule: the code exists and has not expired (read only: nothing is spent yet). */
async function findCode(code: string, deps: IssueDeps): Promise<CodeRecord> {
  const record = await deps.store.get('code', await secretId(code))
  if (!record) throw invalidGrant('the authorization code is invalid or expired')
  return record
}

/**
 * Rule: a code is used once. A code seen before is a replay, so the grant it started is revoked
 * (its refresh tokens and access tokens) before answering `invalid_grant`.
 */
async function consumeCode(code: string, deps: IssueDeps): Promise<CodeRecord> {
  const consumed = await deps.store.consume('code', await secretId(code))
  if (!consumed) throw invalidGrant('the authorization code is invalid or expired')
  if (consumed.alreadyConsumed) {
    await revokeGrant(consumed.value.grantId, 'code replay', deps)
    throw invalidGrant('the authorization code is invalid or expired')
  }
  return consumed.value
}

/** Rule: the code was issued to the authenticated client (RFC 6749 §4.1.3). */
function checkClient(record: CodeRecord, client: ClientRecord): void {
  if (record.clientId !== client.clientId)
    throw invalidGrant('the authorization code is invalid or expired')
}

/** Rule: `redirect_uri` is the exact string of the authorization request (RFC 6749 §4.1.3). */
function checkRedirectUri(record: CodeRecord, redirectUri: string): void {
  if (record.redirectUri !== redirectUri)
    throw invalidGrant('"redirect_uri" does not match the authorization request')
}

/**
 * Rule (RFC 7636 §4.6, RFC 9700 §2.1.1): a code with a challenge needs a `code_verifier` that
 * proves it (compared in constant time); a code without one must not get a verifier, which
 * would hint at a PKCE downgrade. `plain` was only stored for clients allowing it.
 */
async function checkPkce(record: CodeRecord, verifier: string | undefined): Promise<void> {
  if (record.codeChallenge === undefined) {
    if (verifier !== undefined)
      throw invalidGrant('"code_verifier" was sent but the authorization request had no challenge')
    return
  }
  if (verifier === undefined) throw invalidGrant('"code_verifier" is required')
  const method = record.codeChallengeMethod ?? 'S256'
  let ok = false
  try {
    ok = await Pkce.verify(
      verifier,
      record.codeChallenge,
      method,
      method === 'plain' ? { dangerouslyAllowPlain: true } : {},
    )
  } catch {
    ok = false
  }
  if (!ok) throw invalidGrant('"code_verifier" does not match the code challenge')
}

/**
 * Rule (RFC 9449 §10): a code bound to a DPoP key (`dpop_jkt`) is redeemed only with a proof of
 * that key.
 */
function checkDpopBinding(record: CodeRecord, deps: IssueDeps): void {
  if (record.dpopJkt === undefined) return
  if (deps.sender?.jkt !== record.dpopJkt)
    throw invalidGrant('the authorization code is bound to another DPoP key')
}

/**
 * Exchanges an authorization code for tokens: an access token, an ID token when `openid` was
 * granted (with the request's `nonce`), and a refresh token when `offline_access` was granted
 * and the client may use the refresh_token grant.
 *
 * @example
 * ```ts
 * const body = await authorizationCodeGrant(params, client, deps)
 * return json(body)
 * ```
 */
export async function authorizationCodeGrant(
  params: Params,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<TokenResponseBody> {
  const code = params.require('code')
  const redirectUri = params.require('redirect_uri')
  const verifier = params.get('code_verifier')
  const found = await findCode(code, deps)
  checkClient(found, client)
  checkRedirectUri(found, redirectUri)
  await checkPkce(found, verifier)
  checkDpopBinding(found, deps)
  const target = tokenTarget(params, client, found.resources ?? [], deps)
  const record = await consumeCode(code, deps)
  const account = await findAccount(record.sub, deps)
  const refresh =
    record.scopes.includes('offline_access') && client.grantTypes.includes('refresh_token')
  return issueTokens(
    record,
    {
      scopes: record.scopes,
      account,
      nonce: record.nonce,
      target,
      idTokenAlg: client.idTokenSignedResponseAlg,
      refreshUntil: refresh ? nowSeconds(deps) + deps.settings.ttl.refreshToken : undefined,
    },
    deps,
  )
}
