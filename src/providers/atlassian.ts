/**
 * Atlassian (OAuth 2.0 "3LO" apps of the developer console: Jira, Confluence and the User
 * Identity API). OAuth 2.0, not OpenID Connect: the identity comes from `GET /me` on
 * `api.atlassian.com` (the `read:me` scope). The email counts as verified only when that
 * response says `email_verified: true`; Atlassian's documented `/me` carries no such flag, so
 * expect `emailVerified: false`.
 *
 * @see https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/
 * @module
 */
import { type Claims, type Profile, stringClaim } from '../client/identity.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { type ProviderOptions, registration } from './options.ts'

function atlassianProfile(claims: Claims): Profile {
  const email = stringClaim(claims, 'email')
  return {
    subject: stringClaim(claims, 'account_id') ?? '',
    email,
    emailVerified: email !== null && claims.email_verified === true,
    name: stringClaim(claims, 'name'),
    username: stringClaim(claims, 'nickname'),
    picture: stringClaim(claims, 'picture'),
  }
}

/**
 * Atlassian as a provider. Every login asks for the `api.atlassian.com` audience with
 * `prompt=consent`, as the 3LO authorization URL requires; add `offline_access` to `scopes` for
 * refresh tokens.
 *
 * @example
 * ```ts
 * import { atlassian } from 'authkestra/providers'
 * const flow = new OAuth2Flow(atlassian({
 *   clientId: process.env.ATLASSIAN_CLIENT_ID!,
 *   clientSecret: process.env.ATLASSIAN_CLIENT_SECRET!,
 *   redirectUri: 'https://app.example/auth/callback/atlassian',
 * }))
 * ```
 */
export function atlassian(options: ProviderOptions): ProviderConfig {
  return {
    id: options.id ?? 'atlassian',
    name: 'Atlassian',
    authorizationEndpoint: 'https://auth.atlassian.com/authorize',
    tokenEndpoint: 'https://auth.atlassian.com/oauth/token',
    userinfoEndpoint: 'https://api.atlassian.com/me',
    // Atlassian documents the client credentials in the token request's body.
    clientAuthMethod: 'client_secret_post',
    scopes: ['read:me'],
    authorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    profile: atlassianProfile,
    ...registration(options),
  }
}
