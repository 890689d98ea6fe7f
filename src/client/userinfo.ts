/**
 * Authenticated GETs to the provider's APIs with the access token (RFC 6750 §2.1): the OIDC
 * userinfo endpoint (Core §5.3) or a provider's profile API.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import { type DpopContext, withDpop } from './dpop.ts'
import { httpRequest, type ResolvedHttpOptions } from './http.ts'

/** Headers and HTTP policy for API calls. */
export interface ApiDeps {
  readonly http: ResolvedHttpOptions
  readonly headers?: Readonly<Record<string, string>>
  /** For a DPoP-bound token: `Authorization: DPoP` and a proof with its `ath` (RFC 9449 §7.1). */
  readonly dpop?: DpopContext | undefined
}

/** GETs `url` with the bearer token and returns the parsed JSON (object or array). */
export async function getWithToken(
  url: string | URL,
  accessToken: string,
  deps: ApiDeps,
  what: string,
): Promise<unknown> {
  const target = new URL(url)
  const send = (extra: Record<string, string>) =>
    httpRequest(
      target,
      {
        method: 'GET',
        headers: {
          accept: 'application/json',
          ...deps.headers,
          authorization: `${deps.dpop ? 'DPoP' : 'Bearer'} ${accessToken}`,
          ...extra,
        },
      },
      deps.http,
      what,
    )
  const response = deps.dpop
    ? await withDpop(deps.dpop, 'GET', target, accessToken, send)
    : await send({})
  if (response.status !== 200) {
    throw new AuthkestraError(
      'provider_bad_response',
      `${what} answered ${response.status}, expected 200`,
      {
        status: response.status,
      },
    )
  }
  const type = response.headers.get('content-type') ?? ''
  if (/^application\/jwt/i.test(type)) {
    throw new AuthkestraError(
      'provider_bad_response',
      `${what} answered a signed JWT; only JSON is supported`,
    )
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(response.body))
  } catch {
    throw new AuthkestraError('provider_bad_response', `${what} response is not valid JSON`)
  }
}

/**
 * Fetches userinfo and checks its `sub` equals the ID token's (Core §5.3.2): a different `sub`
 * means the response is not about the user who logged in.
 */
export async function fetchUserinfo(
  url: URL,
  accessToken: string,
  expectedSubject: string | undefined,
  deps: ApiDeps,
): Promise<Record<string, unknown>> {
  const json = await getWithToken(url, accessToken, deps, 'userinfo endpoint')
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AuthkestraError(
      'provider_bad_response',
      'userinfo endpoint response is not a JSON object',
    )
  }
  const claims = json as Record<string, unknown>
  if (expectedSubject !== undefined && claims.sub !== expectedSubject) {
    throw new AuthkestraError(
      'userinfo_subject_mismatch',
      'userinfo "sub" does not match the ID token "sub"',
    )
  }
  return claims
}
