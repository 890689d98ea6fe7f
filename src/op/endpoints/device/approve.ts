/**
 * The end of a device authorization's interaction (RFC 8628 §3.3): approved, the grant is stored
 * as a single-use code record under `device:<device id>` (bound to the client, the scopes, the
 * user, the OP session and a fresh grant id: what the token endpoint's poll redeems, once); denied,
 * the record says so and the next poll hears `access_denied`.
 *
 * @module
 */
import { randomToken } from '../../../core/random.ts'
import { authContext } from '../../acr.ts'
import type { OpRuntime } from '../../setup.ts'
import type { CodeRecord, DeviceRecord } from '../../store/types.ts'
import type { SignedInUser } from '../interaction/finish.ts'
import { rememberSessionClient } from '../interaction/session.ts'

type Deps = Pick<OpRuntime, 'settings' | 'store' | 'clock'>

/** Seconds a device record outlives its `expires_in`, so a late poll hears `expired_token`. */
export const EXPIRED_GRACE_SECONDS = 600

/** The id of the code record an approved device authorization holds its grant in. */
export const deviceGrantId = (deviceId: string): string => `device:${deviceId}`

/** Seconds `record` has left (at least 1, so a store never gets a zero TTL). */
export function remaining(record: DeviceRecord, deps: Deps): number {
  return Math.max(1, record.expiresAt - Math.floor(deps.clock.now() / 1000))
}

/** Approves: the grant for the poll to redeem, and the record marked approved. */
export async function approveDevice(
  deviceId: string,
  record: DeviceRecord,
  user: SignedInUser,
  deps: Deps,
): Promise<void> {
  const grantId = randomToken(16)
  const grant: CodeRecord = {
    grantId,
    clientId: record.clientId,
    sub: user.accountId,
    scopes: record.scopes,
    ...(record.resources === undefined ? {} : { resources: record.resources }),
    authTime: user.authTime,
    ...(user.sid === undefined ? {} : { sid: user.sid }),
    ...authContext(user.amr),
    redirectUri: '',
  }
  if (user.sid !== undefined)
    await rememberSessionClient(user.sid, record.clientId, user.accountId, deps)
  const ttlSeconds = remaining(record, deps)
  await deps.store.set('code', deviceGrantId(deviceId), grant, { ttlSeconds, family: grantId })
  await deps.store.set(
    'device',
    deviceId,
    { ...record, status: 'approved' },
    { ttlSeconds: ttlSeconds + EXPIRED_GRACE_SECONDS },
  )
}

/** Denies: the next poll hears `access_denied`. */
export async function denyDevice(
  deviceId: string,
  record: DeviceRecord,
  deps: Deps,
): Promise<void> {
  await deps.store.set(
    'device',
    deviceId,
    { ...record, status: 'denied' },
    { ttlSeconds: remaining(record, deps) + EXPIRED_GRACE_SECONDS },
  )
}
