/**
 * The checks of an end-session request (OpenID Connect RP-Initiated Logout 1.0), in order. A
 * failure is `invalid_request` shown on the OP's own page: a logout request that fails a check
 * is never redirected anywhere.
 *
 * @module
 */
import { invalidRequest } from '../../errors.ts'
import type { Params } from '../../http/params.ts'
import type { OpRuntime } from '../../setup.ts'
import type { ClientRecord } from '../../store/types.ts'
import { verifyIdTokenHint } from '../../tokens/jwt.ts'

/** What a valid `id_token_hint` says. */
export interface IdTokenHint {
  readonly sub: string
  readonly audiences: readonly string[]
  readonly sid?: string
}

/**
 * §2 `id_token_hint`: when present, one of this OP's own ID tokens (signature with one of its
 * keys, `iss`, its type); expired ones are accepted, for this purpose only.
 */
export async function checkIdTokenHint(
  params: Params,
  deps: Pick<OpRuntime, 'settings' | 'keys' | 'clock'>,
): Promise<IdTokenHint | undefined> {
  const token = params.get('id_token_hint')
  if (token === undefined) return undefined
  const claims = await verifyIdTokenHint(token, {
    issuer: deps.settings.issuer,
    keys: deps.keys,
    clock: deps.clock,
  })
  const sub = claims?.sub
  const aud = claims?.aud
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
  if (
    typeof sub !== 'string' ||
    audiences.length === 0 ||
    audiences.some((a) => typeof a !== 'string')
  )
    throw invalidRequest('"id_token_hint" is not a valid ID token of this OP')
  const sid = claims?.sid
  return { sub, audiences, ...(typeof sid === 'string' ? { sid } : {}) }
}

/**
 * §2 `client_id`: a registered client; with an `id_token_hint`, one of the token's audiences
 * (the OP MUST verify they match). Without `client_id`, the hint's audience names the client when
 * it has exactly one.
 */
export async function checkClientId(
  params: Params,
  hint: IdTokenHint | undefined,
  deps: Pick<OpRuntime, 'store'>,
): Promise<ClientRecord | undefined> {
  const requested = params.get('client_id')
  if (requested !== undefined && hint && !hint.audiences.includes(requested))
    throw invalidRequest('"client_id" does not match the audience of "id_token_hint"')
  const clientId = requested ?? (hint?.audiences.length === 1 ? hint.audiences[0] : undefined)
  if (clientId === undefined) return undefined
  const client = await deps.store.get('client', clientId)
  if (!client) throw invalidRequest('"client_id" is not a registered client')
  return client
}

/**
 * §3 `post_logout_redirect_uri`: only for a known client, and only a URI it registered, compared
 * exactly; otherwise the OP must not redirect, so the request is refused.
 */
export function checkPostLogoutRedirectUri(
  params: Params,
  client: ClientRecord | undefined,
): string | undefined {
  const uri = params.get('post_logout_redirect_uri')
  if (uri === undefined) return undefined
  if (!client)
    throw invalidRequest('"post_logout_redirect_uri" needs "client_id" or "id_token_hint"')
  if (!(client.postLogoutRedirectUris ?? []).includes(uri))
    throw invalidRequest('"post_logout_redirect_uri" is not registered for this client')
  return uri
}

/** §2 `state`: opaque, echoed on the redirect (bounded by the parameter reader). */
export function checkState(params: Params): string | undefined {
  return params.get('state')
}

/**
 * §2 `ui_locales`: space-separated BCP 47 tags. The OP's pages are in English only, so the value
 * is checked for shape and otherwise has no effect.
 */
export function checkUiLocales(params: Params): void {
  const value = params.get('ui_locales')
  if (value !== undefined && !/^[A-Za-z0-9-]{1,35}(?: [A-Za-z0-9-]{1,35}){0,19}$/.test(value))
    throw invalidRequest('"ui_locales" must be space-separated language tags')
}
