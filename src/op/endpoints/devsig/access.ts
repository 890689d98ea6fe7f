/**
 * Who is enrolling a device: the devsig endpoints are protected resources of the OP (RFC 6750),
 * like UserInfo: an access token of this OP in `Authorization: Bearer`, or a DPoP-bound one as
 * `Authorization: DPoP` with a proof of its key over this request (RFC 9449 §7.1). Never in the
 * query or the body. Refusals are 401 `invalid_token` with a challenge in the scheme used.
 *
 * @module
 */
import { verifyBoundRequest } from '../../../dpop/settings.ts'
import { DpopRejected } from '../../../dpop/verify.ts'
import { dpopProblem, dpopSettingsOf } from '../../dpop.ts'
import { invalidRequest, OAuthProblem } from '../../errors.ts'
import type { OpRequest } from '../../http/message.ts'
import type { OpRuntime } from '../../setup.ts'
import { type AccessTokenClaims, verifyAccessToken } from '../../tokens/jwt.ts'

/** What the devsig endpoints use. */
export type DevsigDeps = Pick<OpRuntime, 'settings' | 'store' | 'keys' | 'clock' | 'mfa'>

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const MAX_TOKEN_LENGTH = 8192

type Scheme = 'Bearer' | 'DPoP'

/** The challenge of a refusal (RFC 6750 §3, RFC 9449 §7.1); no `error` when no token came. */
function challengeOf(deps: DevsigDeps, scheme: Scheme | undefined, error?: string): string {
  const realm = `realm="${deps.settings.issuer}"`
  const err = error === undefined ? '' : `, error="${error}"`
  const algs = `algs="${deps.settings.dpop.algorithms.join(' ')}"`
  if (scheme === 'DPoP') return `DPoP ${realm}${err}, ${algs}`
  if (scheme === 'Bearer') return `Bearer ${realm}${err}`
  return `Bearer ${realm}, DPoP ${realm}, ${algs}`
}

const invalidToken = (deps: DevsigDeps, scheme: Scheme) =>
  new OAuthProblem('invalid_token', 'the access token is invalid, expired or revoked', 401, {
    'www-authenticate': challengeOf(deps, scheme, 'invalid_token'),
  })

/** Rule (RFC 6750 §2.1, §2.3; RFC 9700 §2.5): the token comes in the header, never the URL. */
function presented(request: OpRequest, deps: DevsigDeps): { scheme: Scheme; token: string } {
  if (request.url.searchParams.has('access_token'))
    throw invalidRequest('"access_token" must not be sent in the URL query')
  const header = request.headers.get('authorization')
  const scheme = header?.match(/^(bearer|dpop)(?:\s|$)/i)?.[1]?.toLowerCase()
  if (header == null || scheme === undefined)
    throw new OAuthProblem('invalid_token', 'an access token is required', 401, {
      'www-authenticate': challengeOf(deps, undefined),
    })
  const kind: Scheme = scheme === 'dpop' ? 'DPoP' : 'Bearer'
  const token = header.slice(scheme.length).trim()
  if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) throw invalidToken(deps, kind)
  return { scheme: kind, token }
}

/**
 * Rule (RFC 9449 §7.1, §7.2): a DPoP-bound token (`cnf.jkt`) only as DPoP with a proof of its
 * key for this method and URL (`ath` included); a bearer token never as DPoP.
 */
async function checkSender(
  request: OpRequest,
  url: string,
  presentedAs: { scheme: Scheme; token: string },
  claims: AccessTokenClaims,
  deps: DevsigDeps,
): Promise<void> {
  const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt
  if (presentedAs.scheme === 'Bearer') {
    if (jkt !== undefined) throw invalidToken(deps, 'DPoP')
    return
  }
  if (typeof jkt !== 'string') throw invalidToken(deps, 'DPoP')
  try {
    const settings = dpopSettingsOf(deps)
    await verifyBoundRequest(request.headers, request.method, url, presentedAs.token, jkt, settings)
  } catch (err) {
    if (err instanceof DpopRejected)
      throw await dpopProblem(err, deps.settings, 401, {
        'www-authenticate': challengeOf(deps, 'DPoP', err.error),
      })
    throw err
  }
}

/**
 * The claims of the request's valid access token of this OP (signature, `typ: at+jwt`, `iss`,
 * audience, expiry, not revoked, sender constraint). Throws `OAuthProblem` (401).
 *
 * @example
 * ```ts
 * const claims = await authenticate(request, deps.settings.urls.devsigChallenge, deps)
 * ```
 */
export async function authenticate(
  request: OpRequest,
  url: string,
  deps: DevsigDeps,
): Promise<AccessTokenClaims> {
  const given = presented(request, deps)
  const claims = await verifyAccessToken(given.token, {
    ...deps,
    issuer: deps.settings.issuer,
    audience: deps.settings.audience,
  })
  if (!claims) throw invalidToken(deps, given.scheme)
  await checkSender(request, url, given, claims, deps)
  return claims
}

/** Rule: POST only (405 with `Allow` otherwise). */
export function checkPost(request: OpRequest): void {
  if (request.method !== 'POST')
    throw new OAuthProblem('invalid_request', 'method must be POST', 405, { allow: 'POST' })
}

/** The store id of a challenge: under its hash, in a namespace of its own. */
export const challengeId = (hash: string): string => `devsig-challenge:${hash}`

/** Who a challenge was issued to: the user and the client of the access token. */
export const challengeOwner = (claims: AccessTokenClaims): string =>
  JSON.stringify(['devsig', claims.sub, claims.client_id])
