/**
 * Bitbucket Cloud. OAuth 2.0 (not OpenID Connect, and not Atlassian's 3LO): the identity comes
 * from `GET /2.0/user` and the email from `GET /2.0/user/emails` (the `email` permission), where
 * only the primary address flagged `is_confirmed` counts as verified. The subject is the user's
 * `uuid`, which never changes.
 *
 * @see https://developer.atlassian.com/cloud/bitbucket/oauth-2/
 * @module
 */
import { type Claims, type Profile, stringClaim } from '../client/identity.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { member, nonEmpty } from './claims.ts'
import { withVerifiedPrimaryEmail } from './emails.ts'
import { type ProviderOptions, registration } from './options.ts'

const API = 'https://api.bitbucket.org/2.0'

function bitbucketProfile(claims: Claims): Profile {
  return {
    subject: stringClaim(claims, 'uuid') ?? '',
    email: stringClaim(claims, 'email'),
    emailVerified: claims.email_verified === true,
    name: stringClaim(claims, 'display_name'),
    username: stringClaim(claims, 'username') ?? stringClaim(claims, 'nickname'),
    picture: nonEmpty(member(member(claims.links, 'avatar'), 'href')),
  }
}

/**
 * Bitbucket Cloud as a provider (an OAuth consumer of a workspace). By default no `scope` is
 * sent: Bitbucket grants the permissions ticked on the consumer (give it Account and Email).
 *
 * @example
 * ```ts
 * import { bitbucket } from 'authkestra/providers'
 * const flow = new OAuth2Flow(bitbucket({
 *   clientId: process.env.BITBUCKET_KEY!,
 *   clientSecret: process.env.BITBUCKET_SECRET!,
 *   redirectUri: 'https://app.example/auth/callback/bitbucket',
 * }))
 * ```
 */
export function bitbucket(options: ProviderOptions): ProviderConfig {
  return {
    id: options.id ?? 'bitbucket',
    name: 'Bitbucket',
    authorizationEndpoint: 'https://bitbucket.org/site/oauth2/authorize',
    tokenEndpoint: 'https://bitbucket.org/site/oauth2/access_token',
    userinfoEndpoint: `${API}/user`,
    clientAuthMethod: 'client_secret_basic',
    scopes: [],
    profile: bitbucketProfile,
    enrichClaims: (claims, get) =>
      withVerifiedPrimaryEmail(claims, get, `${API}/user/emails`, {
        entries: (page) => member(page, 'values'),
        primary: 'is_primary',
        verified: 'is_confirmed',
      }),
    ...registration(options),
  }
}
