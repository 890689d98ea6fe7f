/**
 * The UserInfo endpoint (OIDC Core §5.3) as an RFC 6750 protected resource: a Bearer access token
 * in the Authorization header (§2.1) or, for form POSTs, the `access_token` body parameter
 * (§2.2), never both and never in the URL query. Errors carry a `WWW-Authenticate: Bearer`
 * challenge (§3); the claims released are those of the token's scopes.
 *
 * @module
 */
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

/** The `WWW-Authenticate` challenge of an error (RFC 6750 §3); none for 405 and 413. */
function withChallenge(problem: OAuthProblem, deps: UserinfoDeps): OAuthProblem {
  if (![400, 401, 403].includes(problem.status)) return problem
  const scope = problem.error === 'insufficient_scope' ? ', scope="openid"' : ''
  const challenge = `Bearer realm="${deps.settings.issuer}", error="${problem.error}"${scope}`
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

/**
 * Rule (RFC 6750 §2.1): `Authorization: Bearer <b64token>`, scheme case-insensitive. Other
 * schemes are not a bearer token; a malformed bearer token is `invalid_token`.
 */
function headerToken(request: OpRequest): string | undefined {
  const header = request.headers.get('authorization')
  if (header === null || !/^bearer(?:\s|$)/i.test(header)) return undefined
  const token = header.slice(6).trim()
  if (!B64TOKEN.test(token)) throw invalidToken()
  return token
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
function onlyOne(header: string | undefined, body: string | undefined): string | undefined {
  if (header !== undefined && body !== undefined)
    throw invalidRequest('only one method of presenting the access token may be used')
  return header ?? body
}

/** Rule (OIDC Core §5.3): the token must carry the `openid` scope (403 `insufficient_scope`). */
function checkOpenidScope(claims: AccessTokenClaims): string[] {
  const scopes = claims.scope.split(' ')
  if (!scopes.includes('openid'))
    throw new OAuthProblem('insufficient_scope', 'the access token lacks the openid scope', 403)
  return scopes
}

/** The RFC 6750 §3.1 answer to a request with no token: a challenge and no error code. */
function noToken(deps: UserinfoDeps): OpResponse {
  return empty(401, { 'www-authenticate': `Bearer realm="${deps.settings.issuer}"` })
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
  try {
    checkMethod(request)
    const token = onlyOne(headerToken(request), await bodyToken(request))
    if (token === undefined) return noToken(deps)
    const verifyDeps = { ...deps, issuer: deps.settings.issuer, audience: deps.settings.audience }
    const claims = await verifyAccessToken(token, verifyDeps)
    if (!claims) throw invalidToken()
    const scopes = checkOpenidScope(claims)
    const account = await deps.accounts.find(claims.sub)
    if (!account) throw invalidToken()
    return json({ ...claimsForScopes(account.claims, scopes), sub: claims.sub })
  } catch (err) {
    if (err instanceof OAuthProblem) return oauthError(withChallenge(err, deps))
    throw err
  }
}
