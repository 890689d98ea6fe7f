/**
 * The Device Authorization Grant at the token endpoint (RFC 8628 §3.4, §3.5): a device polls
 * with its `device_code` until the person approved or denied it on another screen. The answers,
 * in this order of rules: the code must be this client's; past its life, `expired_token`; denied,
 * `access_denied`; polled sooner than `interval` while pending, `slow_down` (and the interval
 * grows by 5 s for good); still pending, `authorization_pending`; approved, the tokens, once: the
 * grant is consumed atomically, and a replayed device code revokes what its first redemption
 * issued (as a replayed authorization code does).
 *
 * @module
 */
import { OAuthProblem } from '../../../errors.ts'
import type { Params } from '../../../http/params.ts'
import type { ClientRecord, DeviceRecord } from '../../../store/types.ts'
import { secretId } from '../../../tokens/secrets.ts'
import { deviceGrantId, EXPIRED_GRACE_SECONDS, remaining } from '../../device/approve.ts'
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

/** Clock jitter forgiven between two polls, in ms (a poll never comes early on purpose). */
const POLL_JITTER_MS = 250

const UNKNOWN = 'the device code is invalid or expired'

/** Rule (RFC 8628 §3.4): the device code names a device authorization of this client. */
async function findDevice(
  deviceCode: string,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<{ id: string; record: DeviceRecord }> {
  const id = await secretId(deviceCode)
  const record = await deps.store.get('device', id)
  if (!record || record.clientId !== client.clientId) throw invalidGrant(UNKNOWN)
  return { id, record }
}

/** Rule (RFC 8628 §3.5): past its `expires_in`, `expired_token`. */
function checkNotExpired(record: DeviceRecord, deps: IssueDeps): void {
  if (nowSeconds(deps) >= record.expiresAt)
    throw new OAuthProblem('expired_token', 'the device code has expired; start again')
}

/** Rule (RFC 8628 §3.5): the person denied it, `access_denied`. */
function checkNotDenied(record: DeviceRecord): void {
  if (record.status === 'denied')
    throw new OAuthProblem('access_denied', 'the authorization was denied')
}

/**
 * Rules (RFC 8628 §3.5) for a pending authorization: polled sooner than `interval` after the last
 * poll, `slow_down` with the interval 5 s longer from now on; else `authorization_pending`. The
 * poll's time is recorded either way.
 */
async function answerPending(id: string, record: DeviceRecord, deps: IssueDeps): Promise<never> {
  const now = deps.clock.now()
  const tooSoon =
    record.lastPollAt !== undefined &&
    now - record.lastPollAt < record.interval * 1000 - POLL_JITTER_MS
  const updated: DeviceRecord = {
    ...record,
    lastPollAt: now,
    interval: tooSoon ? record.interval + 5 : record.interval,
  }
  await deps.store.set('device', id, updated, {
    ttlSeconds: remaining(record, deps) + EXPIRED_GRACE_SECONDS,
  })
  if (tooSoon)
    throw new OAuthProblem(
      'slow_down',
      `polled too often: wait ${updated.interval} s between polls`,
    )
  throw new OAuthProblem('authorization_pending', 'the person has not answered yet')
}

/**
 * Redeems the approved grant, once. Its record consumed before means a replay: everything the
 * first redemption issued is revoked, and the answer is `invalid_grant`.
 */
async function redeem(id: string, deps: IssueDeps) {
  const consumed = await deps.store.consume('code', deviceGrantId(id))
  if (!consumed) throw invalidGrant(UNKNOWN)
  if (consumed.alreadyConsumed) {
    await revokeGrant(consumed.value.grantId, 'device code replay', deps)
    throw invalidGrant(UNKNOWN)
  }
  return consumed.value
}

/**
 * Answers a poll: an error of RFC 8628 §3.5 until the person approved, then the tokens (an ID
 * token when `openid` was granted, a refresh token with `offline_access` and the refresh grant).
 *
 * @example
 * ```ts
 * const body = await deviceCodeGrant(params, client, deps)
 * return json(body)
 * ```
 */
export async function deviceCodeGrant(
  params: Params,
  client: ClientRecord,
  deps: IssueDeps,
): Promise<TokenResponseBody> {
  const { id, record } = await findDevice(params.require('device_code'), client, deps)
  checkNotExpired(record, deps)
  checkNotDenied(record)
  if (record.status === 'pending') return answerPending(id, record, deps)
  const target = tokenTarget(params, client, record.resources ?? [], deps)
  const grant = await redeem(id, deps)
  const account = await findAccount(grant.sub, deps)
  const refresh =
    grant.scopes.includes('offline_access') && client.grantTypes.includes('refresh_token')
  return issueTokens(
    grant,
    {
      scopes: grant.scopes,
      account,
      target,
      idTokenAlg: client.idTokenSignedResponseAlg,
      refreshUntil: refresh ? nowSeconds(deps) + deps.settings.ttl.refreshToken : undefined,
    },
    deps,
  )
}
