/**
 * The checks of the authorization endpoint, in the order `index.ts` runs them. The first two
 * decide whether the request can be answered by redirect at all (unknown client, unregistered
 * redirect URI → the OP's own 400 page); every later one throws an {@link OAuthProblem} that goes
 * back to the client's redirect URI.
 *
 * @module
 */
import { isScopeToken, redirectUriAllowed } from '../../clients.ts'
import { isThumbprint } from '../../dpop.ts'
import { invalidRequest, OAuthProblem } from '../../errors.ts'
import type { Params } from '../../http/params.ts'
import { requestedResources } from '../../resources.ts'
import type { OpSettings } from '../../setup.ts'
import type { AuthorizationRequest, ClientRecord, OpStore } from '../../store/types.ts'

/** A request that cannot be redirected: the OP shows its own error page. */
export class UnredirectableProblem extends Error {
  override name = 'UnredirectableProblem'
}

/** `client_id` names a registered client (else: error page, never a redirect). */
export async function checkClient(params: Params, store: OpStore): Promise<ClientRecord> {
  const clientId = params.get('client_id')
  if (clientId === undefined) throw new UnredirectableProblem('The request has no client_id.')
  const client = await store.get('client', clientId)
  if (!client?.grantTypes.includes('authorization_code')) {
    throw new UnredirectableProblem('The application that sent you here is not registered.')
  }
  return client
}

/** `redirect_uri` is required and must match a registered one exactly (RFC 9700 §2.1). */
export function checkRedirectUri(params: Params, client: ClientRecord): string {
  const redirectUri = params.get('redirect_uri')
  if (redirectUri === undefined || !redirectUriAllowed(client, redirectUri)) {
    throw new UnredirectableProblem(
      'The redirect address of this request is not registered for the application.',
    )
  }
  return redirectUri
}

/**
 * Only `response_type=code` in `query` mode; no request objects (RFC 6749 §4.1.1, OIDC §6). A
 * `request_uri` never reaches here: the endpoints redeem or refuse it first (RFC 9126).
 */
export function checkResponseType(params: Params): void {
  const responseType = params.get('response_type')
  if (responseType === undefined) throw invalidRequest('"response_type" is required')
  if (responseType !== 'code')
    throw new OAuthProblem('unsupported_response_type', 'only response_type=code is supported')
  const mode = params.get('response_mode')
  if (mode !== undefined && mode !== 'query')
    throw invalidRequest('only response_mode=query is supported')
  if (params.get('request') !== undefined)
    throw new OAuthProblem('request_not_supported', 'request objects are not supported')
}

/**
 * Scopes must be known to the OP and allowed for the client; `offline_access` is dropped for a
 * client without the refresh_token grant (OIDC Core §11).
 */
export function checkScope(
  params: Params,
  client: ClientRecord,
  settings: Pick<OpSettings, 'scopes'>,
): string[] {
  const requested = (params.get('scope') ?? '').split(' ').filter(Boolean)
  const allowed = new Set(['openid', 'profile', 'email', 'offline_access', ...client.scopes])
  const out: string[] = []
  for (const scope of requested) {
    if (!isScopeToken(scope) || !settings.scopes.has(scope) || !allowed.has(scope)) {
      throw new OAuthProblem(
        'invalid_scope',
        'a requested scope is unknown or not allowed for this client',
      )
    }
    if (scope === 'offline_access' && !client.grantTypes.includes('refresh_token')) continue
    if (!out.includes(scope)) out.push(scope)
  }
  if (out.length === 0) throw new OAuthProblem('invalid_scope', '"scope" is required')
  return out
}

const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const PLAIN_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/

/**
 * PKCE is required of every client (RFC 9700 §2.1.1); the method defaults to `plain` when
 * absent (RFC 7636 §4.3), which only a client opted in to plain may use. S256 challenges are
 * exactly 43 base64url characters (no padding).
 */
export function checkPkce(
  params: Params,
  client: ClientRecord,
): Pick<AuthorizationRequest, 'codeChallenge' | 'codeChallengeMethod'> {
  const challenge = params.get('code_challenge')
  const method = params.get('code_challenge_method') ?? 'plain'
  if (challenge === undefined) throw invalidRequest('"code_challenge" is required (PKCE)')
  if (method !== 'S256' && method !== 'plain')
    throw invalidRequest('"code_challenge_method" must be S256')
  if (method === 'plain' && !client.allowPlainPkce)
    throw invalidRequest('"code_challenge_method" must be S256')
  if (!(method === 'S256' ? S256_CHALLENGE : PLAIN_CHALLENGE).test(challenge)) {
    throw invalidRequest('"code_challenge" is malformed')
  }
  return { codeChallenge: challenge, codeChallengeMethod: method }
}

/** `prompt` (none | login | consent, `none` alone), `max_age`, `login_hint`. */
export function checkPrompt(
  params: Params,
): Pick<AuthorizationRequest, 'prompt' | 'maxAge' | 'loginHint'> {
  const prompt = (params.get('prompt') ?? '').split(' ').filter(Boolean)
  for (const value of prompt) {
    if (value !== 'none' && value !== 'login' && value !== 'consent')
      throw invalidRequest('"prompt" has an unsupported value')
  }
  if (prompt.includes('none') && prompt.length > 1)
    throw invalidRequest('"prompt=none" cannot be combined')
  const maxAge = params.get('max_age')
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge))
    throw invalidRequest('"max_age" must be a number of seconds')
  const loginHint = params.get('login_hint')
  if (loginHint !== undefined && loginHint.length > 256)
    throw invalidRequest('"login_hint" is too long')
  return {
    prompt: [...new Set(prompt)] as AuthorizationRequest['prompt'],
    ...(maxAge === undefined ? {} : { maxAge: Number(maxAge) }),
    ...(loginHint === undefined ? {} : { loginHint }),
  }
}

/** `nonce` is optional; bounded. */
export function checkNonce(params: Params): string | undefined {
  const nonce = params.get('nonce')
  if (nonce !== undefined && nonce.length > 512) throw invalidRequest('"nonce" is too long')
  return nonce
}

const ACR_VALUE = /^[\x21-\x7e]{1,64}$/

/**
 * `acr_values` (OIDC Core §3.1.2.1: space-separated, in order of preference) and the `claims`
 * request's `id_token.acr` (§5.5.1.1: `essential`, `value` or `values`), which wins when both are
 * given. Other members of `claims` are accepted and ignored (§5.5: an OP may). Bounded: at most 10
 * values of 64 printable characters, a `claims` of at most 4 KiB.
 */
export function checkAcr(params: Params): Pick<AuthorizationRequest, 'acrValues' | 'acrEssential'> {
  const listed = (params.get('acr_values') ?? '').split(' ').filter(Boolean)
  if (listed.length > 10 || !listed.every((v) => ACR_VALUE.test(v)))
    throw invalidRequest('"acr_values" is malformed')
  const raw = params.get('claims')
  let acr: { essential?: unknown; value?: unknown; values?: unknown } | undefined
  if (raw !== undefined) {
    let parsed: unknown
    try {
      parsed = raw.length <= 4096 ? JSON.parse(raw) : undefined
    } catch {
      parsed = undefined
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw invalidRequest('"claims" must be a JSON object')
    const idToken = (parsed as { id_token?: unknown }).id_token
    const member =
      typeof idToken === 'object' && idToken !== null
        ? (idToken as { acr?: unknown }).acr
        : undefined
    if (member !== undefined && member !== null && typeof member !== 'object')
      throw invalidRequest('"claims" requests "acr" malformed')
    acr = (member ?? undefined) as typeof acr
  }
  const fromClaims =
    acr?.values !== undefined ? acr.values : acr?.value !== undefined ? [acr.value] : undefined
  if (
    fromClaims !== undefined &&
    (!Array.isArray(fromClaims) ||
      fromClaims.length === 0 ||
      fromClaims.length > 10 ||
      !fromClaims.every((v) => typeof v === 'string' && ACR_VALUE.test(v)))
  )
    throw invalidRequest('"claims" requests "acr" malformed')
  const values = (fromClaims as string[] | undefined) ?? listed
  return {
    ...(values.length === 0 ? {} : { acrValues: [...new Set(values)] }),
    ...(acr?.essential === true && values.length > 0 ? { acrEssential: true } : {}),
  }
}

/**
 * RFC 9449 §10: `dpop_jkt` binds the code to a DPoP key; it must be a SHA-256 JWK thumbprint
 * (43 base64url characters), and the token request must then prove that key.
 */
export function checkDpopJkt(params: Params): Pick<AuthorizationRequest, 'dpopJkt'> {
  const jkt = params.get('dpop_jkt')
  if (jkt === undefined) return {}
  if (!isThumbprint(jkt)) throw invalidRequest('"dpop_jkt" is malformed')
  return { dpopJkt: jkt }
}

/**
 * RFC 8707 §2: each `resource` (it may repeat) is an absolute URI without fragment, one of the
 * OP's resources, and allowed for the client; otherwise `invalid_target`, sent to the redirect
 * URI (which was checked before this runs).
 */
export function checkResource(
  params: Params,
  client: ClientRecord,
  settings: Pick<OpSettings, 'resources'>,
): Pick<AuthorizationRequest, 'resources'> {
  const resources = requestedResources(params, client, settings.resources)
  return resources.length === 0 ? {} : { resources }
}
