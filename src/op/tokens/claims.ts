/**
 * Which account claims each scope releases (OpenID Connect Core §5.4).
 *
 * @module
 */

const BY_SCOPE: Record<string, readonly string[]> = {
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
}

/** Every claim a standard scope can release. */
export const SUPPORTED_CLAIMS = ['sub', ...Object.values(BY_SCOPE).flat()]

/** The claims of `account` released by `scopes` (never `sub`, which the caller sets). */
export function claimsForScopes(
  claims: Readonly<Record<string, unknown>>,
  scopes: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const scope of scopes) {
    for (const name of BY_SCOPE[scope] ?? []) {
      if (claims[name] !== undefined) out[name] = claims[name]
    }
  }
  return out
}
