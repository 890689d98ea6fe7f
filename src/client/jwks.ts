/**
 * The provider's signing keys, fetched through the flow's HTTP policy (timeout, size cap, no
 * redirects) and kept in a {@link RemoteCache}: fresh for 10 minutes; a token with an unknown
 * `kid` triggers one refetch, then no other for 30 seconds (the cooldown) whether that fetch
 * worked or not (after a failed one, unknown `kid`s report that failure, not a missing key); one fetch in flight at a time; after a failure, none until a backoff has passed
 * (1 s doubling to 60 s). Forged `kid`s and a failing JWKS endpoint therefore cost the provider
 * at most one request per cooldown or backoff, never one per token. Key selection and import are
 * jose's (`createLocalJWKSet`).
 *
 * @module
 */
import {
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  errors as joseErrors,
} from 'jose'
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { KeyResolver } from '../core/jwt-types.ts'
import { httpRequest, parseJsonObject, type ResolvedHttpOptions } from './http.ts'
import { type BackoffPolicy, RemoteCache } from './remote-cache.ts'

/** Cache and cooldown of the remote key set, in milliseconds. */
export interface JwksTiming {
  /** How long a fetched key set is used (default 600 000). */
  readonly cacheMaxAgeMs?: number
  /** Least time between two fetches caused by an unknown `kid` (default 30 000). */
  readonly cooldownMs?: number
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>

/**
 * A key resolver for `jwtVerify` that reads `jwksUri` through `http`.
 *
 * @example
 * ```ts
 * const keys = remoteJwks(new URL('https://id.example/jwks'), resolveHttpOptions())
 * const { payload } = await jwtVerify(token, keys, { issuer: 'https://id.example' })
 * ```
 */
export function remoteJwks(
  jwksUri: URL,
  http: ResolvedHttpOptions,
  timing: JwksTiming & BackoffPolicy = {},
  clock: Clock = systemClock,
): KeyResolver {
  const ttlMs = timing.cacheMaxAgeMs ?? 600_000
  const cooldownMs = timing.cooldownMs ?? 30_000
  const cache = new RemoteCache<LocalKeySet>(
    async () => {
      const response = await httpRequest(
        jwksUri,
        { method: 'GET', headers: { accept: 'application/jwk-set+json, application/json' } },
        http,
        'JWKS endpoint',
      )
      if (response.status !== 200) {
        throw new AuthkestraError(
          'provider_bad_response',
          `JWKS endpoint answered ${response.status}, expected 200`,
          { status: response.status },
        )
      }
      try {
        const keySet = parseJsonObject(response, 'JWKS endpoint') as unknown as JSONWebKeySet
        return { value: createLocalJWKSet(keySet), ttlMs }
      } catch (err) {
        if (err instanceof AuthkestraError) throw err
        throw new AuthkestraError('provider_bad_response', 'JWKS endpoint returned no key set', {
          cause: err,
        })
      }
    },
    { ...timing, clock },
  )
  return async (given, flattened) => {
    // jose's key set wants its own header and token types; these are what it was handed.
    const header = given as JWSHeaderParameters
    const token = flattened as FlattenedJWSInput
    const keys = await cache.get()
    try {
      return await keys(header, token)
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err
      const fresher = await cache.refresh(keys, cooldownMs)
      if (fresher !== keys) return fresher(header, token)
      // The last refetch failed: the key may exist (a rotation) and the JWKS could not say.
      const failure = cache.lastFailure()
      throw failure === undefined ? err : failure
    }
  }
}
