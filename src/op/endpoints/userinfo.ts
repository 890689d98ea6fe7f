/**
 * The UserInfo endpoint (OIDC Core §5.3) as an RFC 6750 protected resource: a Bearer access token
 * in the Authorization header (§2.1) or, for form POSTs, the `access_token` body parameter
 * (§2.2), never both and never in the URL query. Errors carry a `WWW-Authenticate: Bearer`
 * challenge (§3); the claims released are those of the token's scopes.
 *
 * A DPoP-bound token (RFC 9449 §7) comes as `Authorization: DPoP <token>` with a proof of its
 * key over this request (`ath` included); presented as a bearer token it is refused (§7.2).
 *
 * @module
 */
import { verifyBoundRequest } from '../../dpop/settings.ts'
import { DpopRejected } from '../../dpop/verify.ts'
import { dpopProblem, dpopSettingsOf, nonceHeader } from '../dpop.ts'
import { invalidRequest, OAuthProblem } from '../errors.ts'
import type { OpRequest, OpResponse } from '../http/message.ts'
import { isForm, readParams } from '../http/params.ts'
import { empty, json, oauthError } from '../http/responses.ts'
import type { OpRuntime } from '../setup.ts'
import { claimsForScopes } from '../tokens/claims.ts'
import { type AccessTokenClaims, verifyAccessToken } from '../tokens/jwt.ts'

/** What the UserInfo endpoint uses. */
export type UserinfoDeps = Pick<OpRuntime, 'settings' | 'store' | 'keys' | 'accounts' | 'clock'>

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

const invalidToken = (): OAuthProblem =>
  new OAuthProblem('invalid_token', 'the access token is invalid, expired or revoked', 401)

/** The DPoP challenge's `algs` (RFC 9449 §7.1). */
const algs = (deps: UserinfoDeps): string => `algs="${deps.settings.dpop.algorithms.join(' ')}"`

/**
 * The `WWW-Authenticate` challenge of an error (RFC 6750 §3, RFC 9449 §7.1), in the scheme the
 * token came in; none for 405 and 413.
 */
function withChallenge(problem: OAuthProblem, deps: UserinfoDeps, scheme: Scheme): OAuthProblem {
  if (![400, 401, 403].includes(problem.status)) return problem
  const scope = problem.error === 'insufficient_scope' ? ', scope="openid"' : ''
  const realm = `realm="${deps.settings.issuer}"`
  const challenge =
    scheme === 'dpop'
      ? `DPoP ${realm}, error="${problem.error}"${scope}, ${algs(deps)}`
      : `Bearer ${realm}, error="${problem.error}"${scope}`
  return new OAuthProblem(problem.error, problem.description, problem.status, {
    ...problem.headers,
    'www-authenticate': challenge,
  })
}

/** Rule: GET or POST only (OIDC Core §5.3.1); others are 405. */
function checkMethod(request: OpRequest): void {
  if (request.method !== 'GET' && request.method !== 'POST') {
    throw new OAuthProblem('invalid_request', 'method must be GET or POST', 405, {
      allow: 'GET, POST',
    })
  }
}

type Scheme = 'bearer' | 'dpop'

/**
 * Rule (RFC 6750 §2.1, RFC 9449 §7.1): `Authorization: Bearer <b64token>` or `DPoP <b64token>`,
 * scheme case-insensitive. Other schemes are not a token; a malformed token is `invalid_token`.
 */
function headerToken(request: OpRequest): { scheme: Scheme; token: string } | undefined {
  const header = request.headers.get('authorization')
  const scheme = header?.match(/^(bearer|dpop)(?:\s|$)/i)?.[1]?.toLowerCase() as Scheme | undefined
  if (header == null || scheme === undefined) return undefined
  const token = header.slice(scheme.length).trim()
  if (!B64TOKEN.test(token)) throw invalidToken()
  return { scheme, token }
}

/**
 * Rule (RFC 6750 §2.2, §2.3; RFC 9700 §2.5): `access_token` in a form-encoded POST body is
 * accepted; in the URL query it is refused, since URLs end up in logs and Referer headers.
 */
async function bodyToken(request: OpRequest): Promise<string | undefined> {
  if (request.url.searchParams.has('access_token'))
    throw invalidRequest('"access_token" must not be sent in the URL query')
  if (request.method !== 'POST' || !isForm(request)) return undefined
  return (await readParams(request, ['POST'])).get('access_token')
}

/** Rule (RFC 6750 §2): a request uses exactly one method to present the token. */
function onlyOne(
  header: { scheme: Scheme; token: string } | undefined,
  body: string | undefined,
): { scheme: Scheme; token: string } | undefined {
  if (header !== undefined && body !== undefined)
    throw invalidRequest('only one method of presenting the access token may be used')
  return header ?? (body === undefined ? undefined : { scheme: 'bearer', token: body })
}

/**
 * Rule (RFC 9449 §7.1, §7.2): a token bound to a DPoP key (`cnf.jkt`) comes with the `DPoP`
 * scheme and a proof of that key for this request; a bound token sent as a bearer token, or a
 * bearer token sent as DPoP, is `invalid_token`.
 */
async function checkSenderConstraint(
  request: OpRequest,
  scheme: Scheme,
  token: string,
  claims: AccessTokenClaims,
  deps: UserinfoDeps,
): Promise<void> {
  const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt
  if (scheme === 'bearer') {
    if (jkt !== undefined) throw invalidToken()
    return
  }
  if (typeof jkt !== 'string') throw invalidToken()
  try {
    const url = deps.settings.urls.userinfo
    await verifyBoundRequest(request.headers, request.method, url, token, jkt, dpopSettingsOf(deps))
  } catch (err) {
    if (err instanceof DpopRejected) throw await dpopProblem(err, deps.settings, 401)
    throw err
  }
}

/** Rule (OIDC Core §5.3): the token must carry the `openid` scope (403 `insufficient_scope`). */
function checkOpenidScope(claims: AccessTokenClaims): string[] {
  const scopes = claims.scope.split(' ')
  if (!scopes.includes('openid'))
    throw new OAuthProblem('insufficient_scope', 'the access token lacks the openid scope', 403)
  return scopes
}

/** The RFC 6750 §3.1 answer to a request with no token: a challenge per scheme, no error code. */
function noToken(deps: UserinfoDeps): OpResponse {
  const realm = `realm="${deps.settings.issuer}"`
  return empty(401, { 'www-authenticate': `Bearer ${realm}, DPoP ${realm}, ${algs(deps)}` })
}

/**
 * Handles a UserInfo request: `sub` plus the account claims the token's scopes release.
 *
 * @example
 * ```ts
 * const response = await userinfoEndpoint(request, { settings, store, keys, accounts, clock })
 * ```
 */
export async function userinfoEndpoint(
  request: OpRequest,
  deps: UserinfoDeps,
): Promise<OpResponse> {
  let scheme: Scheme = 'bearer'
  try {
    checkMethod(request)
    const presented = onlyOne(headerToken(request), await bodyToken(request))
    if (presented === undefined) return noToken(deps)
    scheme = presented.scheme
    const verifyDeps = { ...deps, issuer: deps.settings.issuer, audience: deps.settings.audience }
    const claims = await verifyAccessToken(presented.token, verifyDeps)
    if (!claims) throw invalidToken()
    // A bound token is answered in the DPoP scheme even when sent as Bearer (RFC 9449 §7.1).
    if ((claims.cnf as { jkt?: unknown } | undefined)?.jkt !== undefined) scheme = 'dpop'
    await checkSenderConstraint(request, presented.scheme, presented.token, claims, deps)
    const scopes = checkOpenidScope(claims)
    const account = await deps.accounts.find(claims.sub)
    if (!account) throw invalidToken()
    return json(
      { ...claimsForScopes(account.claims, scopes), sub: claims.sub },
      200,
      await nonceHeader(deps.settings),
    )
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(withChallenge(err, deps, scheme))
    throw err
  }
}
