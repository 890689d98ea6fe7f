/**
 * Zoom. OAuth 2.0 (not OpenID Connect) with PKCE; the identity comes from `GET /v2/users/me` on
 * `api.zoom.us`. The email counts as verified only when that response says `verified: 1`.
 *
 * @see https://developers.zoom.us/docs/integrations/oauth/
 * @module
 */
import { type Claims, type Profile, stringClaim } from '../client/identity.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { type ProviderOptions, registration } from './options.ts'

function zoomProfile(claims: Claims): Profile {
  const full = [stringClaim(claims, 'first_name'), stringClaim(claims, 'last_name')]
    .filter((part) => part !== null)
    .join(' ')
  return {
    subject: stringClaim(claims, 'id') ?? '',
    email: stringClaim(claims, 'email'),
    // Zoom's `verified`: 1 when the user's email is verified, 0 when not.
    emailVerified: stringClaim(claims, 'email') !== null && claims.verified === 1,
    name: stringClaim(claims, 'display_name') ?? (full === '' ? null : full),
    username: null,
    picture: stringClaim(claims, 'pic_url'),
  }
}

/**
 * Zoom as a provider (a user-managed OAuth app of the Zoom App Marketplace). By default no
 * `scope` is sent, so Zoom grants the scopes configured on the app.
 *
 * @example
 * ```ts
 * import { zoom } from 'authkestra/providers'
 * const flow = new OAuth2Flow(zoom({
 *   clientId: process.env.ZOOM_CLIENT_ID!,
 *   clientSecret: process.env.ZOOM_CLIENT_SECRET!,
 *   redirectUri: 'https://app.example/auth/callback/zoom',
 * }))
 * ```
 */
export function zoom(options: ProviderOptions): ProviderConfig {
  return {
    id: options.id ?? 'zoom',
    name: 'Zoom',
    authorizationEndpoint: 'https://zoom.us/oauth/authorize',
    tokenEndpoint: 'https://zoom.us/oauth/token',
    revocationEndpoint: 'https://zoom.us/oauth/revoke',
    userinfoEndpoint: 'https://api.zoom.us/v2/users/me',
    clientAuthMethod: 'client_secret_basic',
    scopes: [],
    profile: zoomProfile,
    ...registration(options),
  }
}
