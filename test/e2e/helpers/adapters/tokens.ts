// Access tokens for the `/api/token` route (guarded by `bearer()` in shared-secret mode): a valid
// RFC 9068 token, and the four it must refuse (expired, wrong audience, alg none, wrong issuer).
import { base64url, SignJWT } from 'jose'

export const TOKEN = {
  secret: 'adapters-e2e-token-secret-long-enough-0123456',
  issuer: 'https://issuer.example',
  audience: 'https://api.example',
} as const

export interface TokenClaims {
  iss?: string
  aud?: string
  sub?: string
  scope?: string
  /** Seconds from now. */
  expiresIn?: number
}

/** An HS256 `at+jwt` signed with the shared secret. */
export async function accessToken(claims: TokenClaims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ scope: claims.scope ?? 'read' })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(claims.iss ?? TOKEN.issuer)
    .setAudience(claims.aud ?? TOKEN.audience)
    .setSubject(claims.sub ?? 'alice')
    .setIssuedAt(now - 600)
    .setExpirationTime(now + (claims.expiresIn ?? 300))
    .sign(new TextEncoder().encode(TOKEN.secret))
}

/** The same claims, unsigned: `{"alg":"none","typ":"at+jwt"}` and an empty signature. */
export function unsignedToken(): string {
  const now = Math.floor(Date.now() / 1000)
  const part = (value: object) => base64url.encode(JSON.stringify(value))
  const claims = { iss: TOKEN.issuer, aud: TOKEN.audience, sub: 'alice', iat: now, exp: now + 300 }
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part(claims)}.`
}
