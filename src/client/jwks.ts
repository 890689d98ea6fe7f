/**
 * The provider's signing keys, fetched through the flow's HTTP policy (timeout, size cap, no
 * redirects) and cached by jose's remote key set: 10 minutes at most, and a token with an unknown
 * `kid` triggers one refetch, then no other for 30 seconds (the cooldown), so forged `kid`s cannot
 * make us hammer the provider.
 *
 * @module
 */
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose'
import { httpRequest, type ResolvedHttpOptions } from './http.ts'

/** Cache and cooldown of the remote key set, in milliseconds. */
export interface JwksTiming {
  readonly cacheMaxAgeMs?: number
  readonly cooldownMs?: number
}

/** A key resolver for `jwtVerify` that reads `jwksUri` through `http`. */
export function remoteJwks(
  jwksUri: URL,
  http: ResolvedHttpOptions,
  timing: JwksTiming = {},
): JWTVerifyGetKey {
  return createRemoteJWKSet(jwksUri, {
    timeoutDuration: http.timeoutMs,
    cooldownDuration: timing.cooldownMs ?? 30_000,
    cacheMaxAge: timing.cacheMaxAgeMs ?? 600_000,
    [customFetch]: async (url: string) => {
      const response = await httpRequest(
        url,
        { method: 'GET', headers: { accept: 'application/jwk-set+json, application/json' } },
        http,
        'JWKS endpoint',
      )
      return new Response(response.body as BodyInit, {
        status: response.status,
        headers: response.headers,
      })
    },
  })
}
