/**
 * Google (OpenID Connect, from discovery at `https://accounts.google.com`). Google's ID tokens
 * may carry `iss` without the scheme (`accounts.google.com`), which is accepted as the same issuer.
 *
 * @see https://developers.google.com/identity/openid-connect/openid-connect
 * @module
 */
import type { Claims } from '../client/identity.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { AuthkestraError } from '../core/errors.ts'
import { oidc } from './oidc.ts'
import type { ProviderOptions } from './options.ts'

/** Google options. */
export interface GoogleOptions extends ProviderOptions {
  /** `'offline'` asks for a refresh token (Google's `access_type`). */
  readonly accessType?: 'online' | 'offline' | undefined
  /**
   * Only accept accounts of this Google Workspace domain (checked on the `hd` claim, not just
   * hinted); `'*'` accepts any Workspace account but no consumer account.
   */
  readonly hostedDomain?: string | undefined
}

/**
 * The `hd` parameter is only a hint to Google's UI; the `hd` claim is what proves the domain.
 * `'*'` accepts any Workspace account (one that has an `hd` claim).
 */
function requireDomain(domain: string): (claims: Claims) => Promise<Claims> {
  const wanted = domain.toLowerCase()
  return async (claims) => {
    const hd = typeof claims.hd === 'string' ? claims.hd.toLowerCase() : ''
    if (hd === '' || (wanted !== '*' && hd !== wanted)) {
      throw new AuthkestraError(
        'identity_invalid',
        `Google account is not in the "${domain}" domain`,
      )
    }
    return claims
  }
}

/**
 * Google as a provider.
 *
 * @example
 * ```ts
 * import { google } from 'authkestra/providers'
 * const flow = new OAuth2Flow(google({
 *   clientId: process.env.GOOGLE_CLIENT_ID!,
 *   clientSecret: process.env.GOOGLE_CLIENT_SECRET!,
 *   redirectUri: 'https://app.example/auth/callback/google',
 * }))
 * ```
 */
export function google(options: GoogleOptions): ProviderConfig {
  const params: Record<string, string> = {}
  if (options.accessType) params.access_type = options.accessType
  if (options.hostedDomain) params.hd = options.hostedDomain
  return {
    ...oidc({
      ...options,
      id: options.id ?? 'google',
      name: 'Google',
      issuer: 'https://accounts.google.com',
    }),
    ...(Object.keys(params).length > 0 ? { authorizationParams: params } : {}),
    quirks: { idTokenIssuerAliases: ['accounts.google.com'] },
    ...(options.hostedDomain === undefined
      ? {}
      : { enrichClaims: requireDomain(options.hostedDomain) }),
  }
}
