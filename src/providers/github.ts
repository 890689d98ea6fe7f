/**
 * GitHub (OAuth apps and GitHub Apps; github.com or GitHub Enterprise Server). Not OpenID
 * Connect: the identity comes from `GET /user`, and the verified primary email from
 * `GET /user/emails` (needs the `user:email` scope). The subject is the numeric user id, which
 * never changes, unlike the login.
 *
 * @see https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
 * @module
 */

import { type Claims, type Profile, stringClaim } from '../client/identity.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { withVerifiedPrimaryEmail } from './emails.ts'
import { type ProviderOptions, registration } from './options.ts'

/** GitHub options. */
export interface GitHubOptions extends ProviderOptions {
  /** GitHub Enterprise Server base URL, e.g. `https://github.example.com`. */
  readonly enterpriseUrl?: string | undefined
}

function githubProfile(claims: Claims): Profile {
  const id = claims.id
  return {
    subject: typeof id === 'number' || typeof id === 'string' ? String(id) : '',
    email: stringClaim(claims, 'email'),
    emailVerified: claims.email_verified === true,
    name: stringClaim(claims, 'name'),
    username: stringClaim(claims, 'login'),
    picture: stringClaim(claims, 'avatar_url'),
  }
}

/**
 * GitHub as a provider.
 *
 * @example
 * ```ts
 * import { github } from 'authkestra/providers'
 * const flow = new OAuth2Flow(github({
 *   clientId: process.env.GITHUB_CLIENT_ID!,
 *   clientSecret: process.env.GITHUB_CLIENT_SECRET!,
 *   redirectUri: 'https://app.example/auth/callback/github',
 * }))
 * ```
 */
export function github(options: GitHubOptions): ProviderConfig {
  const web = (options.enterpriseUrl ?? 'https://github.com').replace(/\/$/, '')
  const api = options.enterpriseUrl ? `${web}/api/v3` : 'https://api.github.com'
  return {
    id: options.id ?? 'github',
    name: 'GitHub',
    authorizationEndpoint: `${web}/login/oauth/authorize`,
    tokenEndpoint: `${web}/login/oauth/access_token`,
    userinfoEndpoint: `${api}/user`,
    clientAuthMethod: 'client_secret_post',
    scopes: ['read:user', 'user:email'],
    profile: githubProfile,
    enrichClaims: (claims, get) =>
      withVerifiedPrimaryEmail(claims, get, `${api}/user/emails`, {
        entries: (list) => list,
        primary: 'primary',
        verified: 'verified',
      }),
    quirks: {
      // GitHub's API refuses requests without a User-Agent.
      apiHeaders: {
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'authkestra',
      },
      // The token response lists granted scopes comma-separated.
      grantedScopeSeparator: ',',
    },
    ...registration(options),
  }
}
