/**
 * Pushed authorization requests at rest (RFC 9126): a validated request is stored under the
 * hash of a random `request_uri` reference for a short time, and the authorization endpoint
 * redeems it once, for the client it was pushed by.
 *
 * @module
 */
import { configError, type OpParOptions } from '../../config.ts'
import type { Params } from '../../http/params.ts'
import type { OpRuntime, OpSettings } from '../../setup.ts'
import type { AuthorizationRequest, ClientRecord } from '../../store/types.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'
import { UnredirectableProblem } from '../authorize/checks.ts'

/** PAR as the OP runs it. */
export interface ResolvedPar {
  /** Every client must push (RFC 9126 §5 `require_pushed_authorization_requests`). */
  readonly required: boolean
  /** Lifetime of a `request_uri`, seconds. */
  readonly ttlSeconds: number
}

/** RFC 9126 §2.2: the URN namespace of request URIs the OP hands out. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:'
const REFERENCE = /^[A-Za-z0-9_-]{43}$/

/** Checks `par` options: a boolean, and a lifetime that stays short (RFC 9126 §2.2, §7.3). */
export function resolvePar(options: OpParOptions | undefined): ResolvedPar {
  const required = options?.required ?? false
  if (typeof required !== 'boolean') throw configError('"par.required" must be true or false')
  const ttlSeconds = options?.requestUriTtlSeconds ?? 60
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 5 || ttlSeconds > 600)
    throw configError('"par.requestUriTtlSeconds" must be an integer from 5 to 600')
  return { required, ttlSeconds }
}

/** Whether this client's authorization requests must come through the PAR endpoint. */
export function mustPush(client: ClientRecord, settings: Pick<OpSettings, 'par'>): boolean {
  return settings.par.required || client.requirePushedAuthorizationRequests === true
}

/** Stores a validated request; returns its `request_uri` (256 random bits) and lifetime. */
export async function storePushed(
  request: AuthorizationRequest,
  deps: Pick<OpRuntime, 'settings' | 'store'>,
): Promise<{ requestUri: string; expiresIn: number }> {
  const reference = newSecret()
  const ttl = deps.settings.par.ttlSeconds
  await deps.store.set('pushed', await secretId(reference), { request }, { ttlSeconds: ttl })
  return { requestUri: `${REQUEST_URI_PREFIX}${reference}`, expiresIn: ttl }
}

/**
 * Rule (RFC 9126 §4, §7.3): a `request_uri` at the authorization endpoint is one this OP handed
 * out, alive, not used before, and pushed by the client named in `client_id`. Every failure is
 * the OP's own error page: the request's redirect URI cannot be trusted until it is redeemed.
 * Redeeming spends it, whoever asks, so a leaked one is good for nothing afterwards. Any other
 * parameter of the request is ignored: only the pushed ones count (RFC 9101 §6.3).
 */
export async function redeemRequestUri(
  params: Params,
  client: ClientRecord,
  deps: Pick<OpRuntime, 'store'>,
): Promise<AuthorizationRequest | undefined> {
  const requestUri = params.get('request_uri')
  if (requestUri === undefined) return undefined
  const reference = requestUri.startsWith(REQUEST_URI_PREFIX)
    ? requestUri.slice(REQUEST_URI_PREFIX.length)
    : ''
  const expired = new UnredirectableProblem(
    'This sign-in link has expired or was already used. Go back to the application and start again.',
  )
  if (!REFERENCE.test(reference)) throw expired
  const pushed = await deps.store.consume('pushed', await secretId(reference))
  if (pushed === undefined || pushed.alreadyConsumed) throw expired
  if (pushed.value.request.clientId !== client.clientId) throw expired
  return pushed.value.request
}
