/**
 * The claims a login yields: the verified ID token's, userinfo's (whose `sub` must match), and
 * what the provider descriptor adds. Signed ID-token claims win over userinfo on any overlap.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import type { DpopContext } from './dpop.ts'
import type { ResolvedHttpOptions } from './http.ts'
import type { Claims } from './identity.ts'
import type { ProviderConfig } from './provider-config.ts'
import type { ResolvedProvider } from './resolve-provider.ts'
import { wantsUserinfo } from './resource-indicators.ts'
import type { TokenSet } from './tokens.ts'
import { checkEndpointUrl } from './urls.ts'
import { fetchUserinfo, getWithToken } from './userinfo.ts'

/** Gathers the claims of a completed token exchange. */
export async function collectClaims(
  config: ProviderConfig,
  provider: ResolvedProvider,
  tokens: TokenSet,
  http: ResolvedHttpOptions,
  dpop?: DpopContext,
  /** The login named a `resource` (RFC 8707): its access token is the API's. */
  forResource = false,
): Promise<Claims> {
  const signed = tokens.idTokenClaims
  let claims: Claims = signed ?? {}
  const api = {
    http,
    dpop,
    ...(config.quirks?.apiHeaders ? { headers: config.quirks.apiHeaders } : {}),
  }
  if (provider.userinfoEndpoint && wantsUserinfo(config.fetchUserinfo, forResource)) {
    const subject = signed?.sub as string | undefined
    const userinfo = await fetchUserinfo(
      provider.userinfoEndpoint,
      tokens.accessToken,
      subject,
      api,
    )
    claims = { ...userinfo, ...signed }
  }
  if (config.enrichClaims) {
    // The access token goes only to the provider's own origins.
    const origins = new Set(
      [provider.authorizationEndpoint, provider.tokenEndpoint, provider.userinfoEndpoint]
        .filter((u): u is URL => u !== undefined)
        .map((u) => u.origin),
    )
    const policy = config.allowInsecureHttp === true ? 'any' : 'loopback'
    claims = await config.enrichClaims(claims, (url) => {
      const target = checkEndpointUrl(url, 'API URL', policy)
      if (!origins.has(target.origin)) {
        throw new AuthkestraError(
          'config_invalid',
          `API URL origin ${target.origin} is not one of the provider's`,
        )
      }
      return getWithToken(target, tokens.accessToken, api, `${config.id} API`)
    })
  }
  return claims
}
