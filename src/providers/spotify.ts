/**
 * Spotify. OAuth 2.0 (not OpenID Connect) with PKCE; the identity comes from `GET /v1/me` on
 * `api.spotify.com`. Spotify states that the email it returns is the one typed at sign-up and
 * is not verified, so `emailVerified` is always false.
 *
 * @see https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow
 * @module
 */
import { type Claims, type Profile, stringClaim } from '../client/identity.ts'
import type { ProviderConfig } from '../client/provider-config.ts'
import { firstImageUrl } from './claims.ts'
import { type ProviderOptions, registration } from './options.ts'

function spotifyProfile(claims: Claims): Profile {
  return {
    subject: stringClaim(claims, 'id') ?? '',
    email: stringClaim(claims, 'email'),
    // Spotify documents the address as unverified: never a basis for linking accounts.
    emailVerified: false,
    name: stringClaim(claims, 'display_name'),
    username: null,
    picture: firstImageUrl(claims.images),
  }
}

/**
 * Spotify as a provider. Without `clientSecret` the app is a public client (PKCE only).
 *
 * @example
 * ```ts
 * import { spotify } from 'authkestra/providers'
 * const flow = new OAuth2Flow(spotify({
 *   clientId: process.env.SPOTIFY_CLIENT_ID!,
 *   clientSecret: process.env.SPOTIFY_CLIENT_SECRET!,
 *   redirectUri: 'https://app.example/auth/callback/spotify',
 * }))
 * ```
 */
export function spotify(options: ProviderOptions): ProviderConfig {
  return {
    id: options.id ?? 'spotify',
    name: 'Spotify',
    authorizationEndpoint: 'https://accounts.spotify.com/authorize',
    tokenEndpoint: 'https://accounts.spotify.com/api/token',
    userinfoEndpoint: 'https://api.spotify.com/v1/me',
    scopes: ['user-read-email'],
    profile: spotifyProfile,
    ...registration(options),
  }
}
