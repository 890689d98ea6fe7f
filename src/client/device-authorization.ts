/**
 * The client side of the Device Authorization Grant's first step (RFC 8628 §3.1, §3.2): the
 * device authorization request, client authentication as at the token endpoint, and the checks
 * on what comes back (codes of printable ASCII, an http(s) `verification_uri`, a positive
 * `expires_in`; `interval` 5 s when absent).
 *
 * @module
 */
import type { Clock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import { applyClientAuth, type ClientCredentials } from './client-auth.ts'
import { httpRequest, parseJsonObject, type ResolvedHttpOptions } from './http.ts'
import { throwIfOAuthError } from './tokens.ts'

/**
 * The grant type of the device flow's token requests (RFC 8628 §3.4).
 *
 * @example
 * ```ts
 * const client = { client_id: 'my-cli', grant_types: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'] }
 * ```
 */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code'

/** A started device authorization. `deviceCode` is secret: never show or log it. */
export interface DeviceAuthorization {
  readonly deviceCode: string
  /** What the person types at `verificationUri`. */
  readonly userCode: string
  readonly verificationUri: string
  /** The same with the code in it (for a link or a QR code), when the provider gives one. */
  readonly verificationUriComplete?: string
  /** When the codes stop working (ms since the epoch). */
  readonly expiresAt: number
  /** Seconds to wait between polls, as the provider asked. */
  readonly interval: number
  /** The scopes asked for. */
  readonly scopes: readonly string[]
}

const VSCHARS = /^[\x20-\x7e]+$/

function invalid(message: string): AuthkestraError {
  return new AuthkestraError('provider_bad_response', `device authorization endpoint: ${message}`)
}

function httpUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw invalid(`"${field}" is not a URL`)
  const protocol = new URL(value).protocol
  if (protocol !== 'https:' && protocol !== 'http:')
    throw invalid(`"${field}" is not an http(s) URL`)
  return value
}

/** Sends the device authorization request and checks the response. */
export async function requestDeviceAuthorization(
  endpoint: URL,
  scopes: readonly string[],
  deps: {
    client: ClientCredentials
    http: ResolvedHttpOptions
    clock: Clock
    scopeSeparator: string
  },
): Promise<DeviceAuthorization> {
  const body = new URLSearchParams()
  if (scopes.length > 0) body.set('scope', scopes.join(deps.scopeSeparator))
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
  }
  await applyClientAuth(deps.client, body, headers)
  const response = await httpRequest(
    endpoint,
    { method: 'POST', headers, body: body.toString() },
    deps.http,
    'device authorization endpoint',
  )
  let json: Record<string, unknown>
  try {
    json = parseJsonObject(response, 'device authorization endpoint')
  } catch (err) {
    throw new AuthkestraError(
      'provider_bad_response',
      `device authorization endpoint answered ${response.status} without JSON`,
      { status: response.status, cause: err },
    )
  }
  throwIfOAuthError(json, response, 'device authorization endpoint')
  if (response.status !== 200) throw invalid(`answered ${response.status}`)
  const { device_code: deviceCode, user_code: userCode, expires_in: expiresIn } = json
  if (typeof deviceCode !== 'string' || !VSCHARS.test(deviceCode) || deviceCode.length > 4096)
    throw invalid('"device_code" is missing or malformed')
  if (typeof userCode !== 'string' || !VSCHARS.test(userCode) || userCode.length > 64)
    throw invalid('"user_code" is missing or malformed')
  // `verification_url` is what some providers (Google) sent before the RFC settled the name.
  const verificationUri = httpUrl(
    json.verification_uri ?? json.verification_url,
    'verification_uri',
  )
  const complete =
    json.verification_uri_complete === undefined
      ? undefined
      : httpUrl(json.verification_uri_complete, 'verification_uri_complete')
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn <= 0)
    throw invalid('"expires_in" must be a positive integer')
  const interval = json.interval ?? 5
  if (
    typeof interval !== 'number' ||
    !Number.isInteger(interval) ||
    interval < 0 ||
    interval > 3600
  )
    throw invalid('"interval" must be an integer number of seconds')
  return {
    deviceCode,
    userCode,
    verificationUri,
    ...(complete === undefined ? {} : { verificationUriComplete: complete }),
    expiresAt: deps.clock.now() + Math.min(expiresIn, 86_400) * 1000,
    interval: Math.max(interval, 1),
    scopes: [...scopes],
  }
}
