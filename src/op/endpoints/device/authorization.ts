/**
 * The device authorization endpoint (RFC 8628 §3.1, §3.2): a client registered for the Device
 * Authorization Grant authenticates as it does at the token endpoint and gets a `device_code`
 * (256 random bits, stored only as its hash), a `user_code` for the person (§6.1), where to enter
 * it, how long it lives and how often to poll.
 *
 * @module
 */
import { OAuthProblem } from '../../errors.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { type Params, readParams } from '../../http/params.ts'
import { json, oauthError } from '../../http/responses.ts'
import { requestedResources } from '../../resources.ts'
import type { OpRuntime } from '../../setup.ts'
import { type ClientRecord, DEVICE_CODE_GRANT, type DeviceRecord } from '../../store/types.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'
import { checkScope } from '../authorize/checks.ts'
import { authenticateClient } from '../client-auth.ts'
import { approveDevice, EXPIRED_GRACE_SECONDS } from './approve.ts'
import { formatUserCode, newUserCode, userCodeId } from './user-code.ts'

/** Rule (RFC 8628 §3.1, RFC 6749 §5.2): the client is registered for this grant. */
function checkGrantAllowed(client: ClientRecord): void {
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT))
    throw new OAuthProblem('unauthorized_client', 'the client may not use the device flow')
}

/** Rule (RFC 8628 §3.1): `scope` as at the authorization endpoint (known, allowed, present). */
function checkDeviceScope(params: Params, client: ClientRecord, deps: OpRuntime): string[] {
  return checkScope(params, client, deps.settings)
}

/**
 * A user code no live authorization holds: 20⁸ codes make a clash rare, and a clash is drawn
 * again rather than ever giving two devices one code.
 */
async function freshUserCode(deps: OpRuntime): Promise<{ code: string; id: string }> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const code = newUserCode()
    const id = await userCodeId(code)
    if (!(await deps.store.get('userCode', id))) return { code, id }
  }
  throw new Error('no free user code after 8 draws')
}

/**
 * `POST /device_authorization`: authenticates the client, checks the grant and the scope, then
 * stores the authorization and its user code.
 *
 * @example
 * ```ts
 * const response = await deviceAuthorizationEndpoint(request, runtime)
 * ```
 */
export async function deviceAuthorizationEndpoint(
  request: OpRequest,
  deps: OpRuntime,
): Promise<OpResponse> {
  try {
    const params = await readParams(request, ['POST'])
    const client = await authenticateClient(request, params, deps)
    checkGrantAllowed(client)
    const scopes = checkDeviceScope(params, client, deps)
    const resources = requestedResources(params, client, deps.settings.resources)
    const deviceCode = newSecret()
    const deviceId = await secretId(deviceCode)
    const userCode = await freshUserCode(deps)
    const lifetime = deps.settings.ttl.deviceCode
    const now = Math.floor(deps.clock.now() / 1000)
    const record: DeviceRecord = {
      clientId: client.clientId,
      scopes,
      ...(resources.length === 0 ? {} : { resources }),
      userCodeId: userCode.id,
      status: 'pending',
      expiresAt: now + lifetime,
      interval: deps.settings.device.interval,
    }
    await deps.store.set('device', deviceId, record, {
      ttlSeconds: lifetime + EXPIRED_GRACE_SECONDS,
    })
    await deps.store.set('userCode', userCode.id, { deviceId }, { ttlSeconds: lifetime })
    // --auto-login (automated tests only): the authorization is granted at once.
    if (deps.settings.autoLogin !== undefined) {
      const sub =
        (await deps.store.get('username', deps.settings.autoLogin))?.sub ?? deps.settings.autoLogin
      await approveDevice(deviceId, record, { accountId: sub, authTime: now }, deps)
    }
    const shown = formatUserCode(userCode.code)
    const complete = new URL(deps.settings.urls.deviceVerification)
    complete.searchParams.set('user_code', shown)
    return json({
      device_code: deviceCode,
      user_code: shown,
      verification_uri: deps.settings.urls.deviceVerification,
      verification_uri_complete: complete.href,
      expires_in: lifetime,
      interval: record.interval,
    })
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(err)
    throw err
  }
}
