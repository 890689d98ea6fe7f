/**
 * The normalized identity a login yields, whatever the provider, and the default mapping from
 * OpenID Connect standard claims.
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'

/** Claims as a provider sent them (ID token and/or userinfo / profile API, merged). */
export type Claims = Readonly<Record<string, unknown>>

/** The provider-independent part of an identity, as a profile mapping returns it. */
export interface Profile {
  /** The provider's stable, unique id for the user. Never an email. */
  readonly subject: string
  readonly email: string | null
  /** True only when the provider says the email is verified; never auto-link accounts otherwise. */
  readonly emailVerified: boolean
  readonly name: string | null
  readonly username: string | null
  readonly picture: string | null
}

/** Who logged in: the provider id, the normalized profile, and the raw claims. */
export interface Identity extends Profile {
  /** The provider id (`'github'`, `'google'`, or the one configured). */
  readonly provider: string
  /**
   * The provider's issuer identifier, when it has one. Key accounts by (issuer or provider,
   * subject): a subject is unique only within its issuer (OIDC Core §5.7).
   */
  readonly issuer: string | null
  /**
   * The provider's claims: ID token and userinfo/profile merged, plus what the provider
   * descriptor added (`enrichClaims`, e.g. GitHub's verified email). Use for anything not normalized.
   */
  readonly claims: Claims
}

/** Maps a provider's claims to a {@link Profile}. */
export type ProfileMapper = (claims: Claims) => Profile

/**
 * A string claim, or null when absent or not a non-empty string; for profile mappings.
 *
 * @example
 * ```ts
 * const profile: ProfileMapper = (claims) => ({ ...oidcProfile(claims), username: stringClaim(claims, 'nickname') })
 * ```
 */
export function stringClaim(claims: Claims, name: string): string | null {
  const value = claims[name]
  return typeof value === 'string' && value !== '' ? value : null
}

/**
 * The OpenID Connect standard-claims mapping (`sub`, `email`, `email_verified`, `name`,
 * `preferred_username`, `picture`).
 *
 * @example
 * ```ts
 * oidcProfile({ sub: '24400320', email: 'a@example.com', email_verified: true })
 * ```
 */
export const oidcProfile: ProfileMapper = (claims) => ({
  subject: stringClaim(claims, 'sub') ?? '',
  email: stringClaim(claims, 'email'),
  emailVerified: claims.email_verified === true,
  name: stringClaim(claims, 'name'),
  username: stringClaim(claims, 'preferred_username'),
  picture: stringClaim(claims, 'picture'),
})

/** Builds the {@link Identity}; `identity_invalid` when the mapping yields no subject. */
export function toIdentity(
  provider: string,
  issuer: string | undefined,
  claims: Claims,
  mapper: ProfileMapper,
): Identity {
  const profile = mapper(claims)
  if (typeof profile.subject !== 'string' || profile.subject === '') {
    throw new AuthkestraError('identity_invalid', `provider "${provider}" returned no user id`)
  }
  return { provider, issuer: issuer ?? null, ...profile, claims }
}
