/**
 * Discord. OAuth 2.0 with PKCE; the identity comes from `GET /users/@me` (`identify` scope),
 * the email and its verification flag from the same call with the `email` scope.
 *
 * @see https://discord.com/developers/docs/topics/oauth2
 * @module
 */
import { type Claims, type Profile, stringClaim } from '../client/identity.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { type ProviderOptions, registration } from './options.ts'

const API = 'https://discord.com/api'

function discordProfile(claims: Claims): Profile {
  const id = stringClaim(claims, 'id')
  const avatar = stringClaim(claims, 'avatar')
  return {
    subject: id ?? '',
    email: stringClaim(claims, 'email'),
    emailVerified: claims.verified === true,
    name: stringClaim(claims, 'global_name') ?? stringClaim(claims, 'username'),
    username: stringClaim(claims, 'username'),
    picture: id && avatar ? `https://cdn.discordapp.com/avatars/${id}/${avatar}.png` : null,
  }
}

/**
 * Discord as a provider.
 *
 * @example
 * ```ts
 * import { discord } from 'authkestra/providers'
 * const flow = new OAuth2Flow(discord({
 *   clientId: process.env.DISCORD_CLIENT_ID!,
 *   clientSecret: process.env.DISCORD_CLIENT_SECRET!,
 *   redirectUri: 'https://app.example/auth/callback/discord',
 * }))
 * ```
 */
export function discord(options: ProviderOptions): ProviderConfig {
  return {
    id: options.id ?? 'discord',
    name: 'Discord',
    authorizationEndpoint: 'https://discord.com/oauth2/authorize',
    tokenEndpoint: `${API}/oauth2/token`,
    revocationEndpoint: `${API}/oauth2/token/revoke`,
    userinfoEndpoint: `${API}/users/@me`,
    scopes: ['identify', 'email'],
    profile: discordProfile,
    ...registration(options),
  }
}
