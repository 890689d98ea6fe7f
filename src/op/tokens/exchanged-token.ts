/**
 * Tokens presented to a token exchange (RFC 8693 §2.1 `subject_token`, `actor_token`), checked by
 * their declared type (§3): this OP's access tokens (signature, `typ`, expiry, not revoked), its
 * refresh tokens (live, not rotated, grant not revoked; never spent by being looked at), its ID
 * tokens (signature, not expired), and JWTs of configured trusted issuers (their keys, `iss`,
 * `aud`, `exp`). Anything else, or a token that fails, is undefined.
 *
 * @module
 */
import { decodeJwt, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose'
import type { ExchangedToken } from '../config.ts'
import { rotatedMarker } from '../endpoints/token/issue.ts'
import type { OpRuntime } from '../setup.ts'
import { verifyAccessToken, verifyIdTokenHint } from './jwt.ts'
import { secretId } from './secrets.ts'

/** The token type URIs of RFC 8693 §3. */
export const TOKEN_TYPES = {
  access: 'urn:ietf:params:oauth:token-type:access_token',
  refresh: 'urn:ietf:params:oauth:token-type:refresh_token',
  id: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const

type Deps = Pick<OpRuntime, 'settings' | 'store' | 'keys' | 'clock'>

const scopesOf = (value: unknown): string[] =>
  typeof value === 'string' ? value.split(' ').filter(Boolean) : []

/** The checked token, or undefined when it is not a valid token of that type. */
export async function checkExchangedToken(
  token: string,
  tokenType: string,
  deps: Deps,
): Promise<ExchangedToken | undefined> {
  const { issuer, audience } = deps.settings
  const sign = { keys: deps.keys, issuer, clock: deps.clock }
  switch (tokenType) {
    case TOKEN_TYPES.access: {
      const claims = await verifyAccessToken(token, { ...sign, store: deps.store, audience })
      if (!claims) return undefined
      return {
        tokenType,
        issuer,
        sub: claims.sub,
        clientId: claims.client_id,
        scopes: scopesOf(claims.scope),
        claims,
      }
    }
    case TOKEN_TYPES.refresh: {
      const id = await secretId(token)
      const record = await deps.store.get('refresh', id)
      const now = Math.floor(deps.clock.now() / 1000)
      if (
        !record ||
        record.familyExpiresAt <= now ||
        (await deps.store.get('revocation', rotatedMarker(id))) ||
        (await deps.store.get('revocation', `grant:${record.grantId}`))
      )
        return undefined
      return {
        tokenType,
        issuer,
        sub: record.sub,
        clientId: record.clientId,
        scopes: record.scopes,
        claims: { gid: record.grantId },
      }
    }
    case TOKEN_TYPES.id: {
      const claims = await verifyIdTokenHint(token, sign)
      const now = Math.floor(deps.clock.now() / 1000)
      if (!claims || typeof claims.sub !== 'string' || (claims.exp ?? 0) <= now) return undefined
      const clientId = typeof claims.azp === 'string' ? claims.azp : claims.aud
      return {
        tokenType,
        issuer,
        sub: claims.sub,
        ...(typeof clientId === 'string' ? { clientId } : {}),
        scopes: [],
        claims,
      }
    }
    case TOKEN_TYPES.jwt:
      return trustedJwt(token, tokenType, deps)
    default:
      return undefined
  }
}

/** A JWT of a configured trusted issuer, checked with that issuer's keys. */
async function trustedJwt(
  token: string,
  tokenType: string,
  deps: Deps,
): Promise<ExchangedToken | undefined> {
  let iss: unknown
  try {
    iss = decodeJwt(token).iss
  } catch {
    return undefined
  }
  const trusted = typeof iss === 'string' ? deps.settings.tokenExchange.trusted.get(iss) : undefined
  if (!trusted) return undefined
  try {
    const { payload } = await jwtVerify(token, trusted.keys as unknown as JWTVerifyGetKey, {
      issuer: iss as string,
      audience: trusted.audience,
      requiredClaims: ['sub', 'exp'],
      algorithms: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'],
      clockTolerance: 5,
      currentDate: new Date(deps.clock.now()),
    })
    return {
      tokenType,
      issuer: iss as string,
      sub: payload.sub as string,
      ...(typeof payload.client_id === 'string' ? { clientId: payload.client_id } : {}),
      scopes: scopesOf(payload.scope),
      claims: payload,
    }
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return undefined
    throw err
  }
}
