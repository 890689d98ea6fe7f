/**
 * The keys of the `bearer` guard. Remote keys come from the client's `remoteJwks` (timeout, size
 * cap, no redirects, 10-minute cache, one refetch per 30 seconds for an unknown `kid`, one fetch
 * in flight, backoff after failures) and are
 * looked up only once jose has checked the token's shape and `alg`, so garbage never causes a
 * fetch. A failure to get keys (provider down, broken discovery or JWKS) is a
 * {@link KeysUnavailable}, which the guard answers with 503, not with a blame on the token.
 *
 * @module
 */

import {
  type CompactJWSHeaderParameters,
  type JWTVerifyGetKey,
  type JWTVerifyResult,
  errors as joseErrors,
  jwtVerify,
} from 'jose'
import type { ResolvedHttpOptions } from '../../client/http.ts'
import { remoteJwks } from '../../client/jwks.ts'
import type { Clock } from '../../core/clock.ts'
import {
  isRejection,
  type JwtExpectations,
  joseOptions,
  verifyJwt,
} from '../../core/compact-jwt.ts'
import { defaultCrypto } from '../../core/crypto/index.ts'
import { AuthkestraError } from '../../core/errors.ts'
import type { JwtPayload, KeyResolver } from '../../core/jwt-types.ts'

/** Where verification keys come from. */
export type KeySource =
  | { readonly kind: 'secret'; readonly secrets: readonly Uint8Array[] }
  | { readonly kind: 'remote'; readonly getKey: KeyResolver }

/** The keys could not be had. The message names the failure, never a token. */
export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable'
}

function unavailable(err: unknown): KeysUnavailable {
  const message = err instanceof Error ? err.message : 'unknown failure'
  return new KeysUnavailable(`verification keys unavailable: ${message}`, { cause: err })
}

/**
 * A key resolver over the JWKS at `jwksUri()` (re-read on each call, so a discovery refresh
 * that moves the JWKS is followed); one remote key set per URI.
 */
export function remoteKeys(
  jwksUri: () => Promise<URL>,
  http: ResolvedHttpOptions,
  clock: Clock,
): KeyResolver {
  let current: { href: string; getKey: KeyResolver } | undefined
  return async (header, token) => {
    let getKey: KeyResolver
    try {
      const uri = await jwksUri()
      if (current?.href !== uri.href)
        current = { href: uri.href, getKey: remoteJwks(uri, http, {}, clock) }
      getKey = current.getKey
    } catch (err) {
      // The issuer answered, with metadata for another issuer: the configuration is wrong (a
      // trailing slash, another host or port), and no retry will fix it. Say so, not "outage".
      if (err instanceof AuthkestraError && err.code === 'discovery_issuer_mismatch')
        throw new AuthkestraError(
          'config_invalid',
          `bearer(): ${err.message}: set "issuer" to the "issuer" value of its discovery document`,
          { cause: err },
        )
      throw unavailable(err)
    }
    try {
      return await getKey(header, token)
    } catch (err) {
      // No key for this token's `kid`/`alg`: the token's fault. Anything else: the provider's.
      if (
        err instanceof joseErrors.JWKSNoMatchingKey ||
        err instanceof joseErrors.JWKSMultipleMatchingKeys ||
        err instanceof joseErrors.JOSENotSupported
      ) {
        throw err
      }
      throw unavailable(err)
    }
  }
}

const HMAC_HASH: Readonly<Record<string, string>> = {
  HS256: 'SHA-256',
  HS384: 'SHA-384',
  HS512: 'SHA-512',
}
const hmacKeys = new WeakMap<Uint8Array, Map<string, Promise<CryptoKey>>>()

/**
 * The secret as a Web Crypto key for `alg`, imported once (not on every token: the import is a
 * large share of a verification's cost). jose has already checked `alg` against the allow-list.
 */
function hmacKey(secret: Uint8Array, alg: string): Promise<CryptoKey> | Uint8Array {
  const hash = HMAC_HASH[alg]
  if (!hash) return secret
  let byAlg = hmacKeys.get(secret)
  if (!byAlg) {
    byAlg = new Map()
    hmacKeys.set(secret, byAlg)
  }
  let key = byAlg.get(alg)
  if (!key) {
    key = crypto.subtle.importKey('raw', secret as BufferSource, { name: 'HMAC', hash }, false, [
      'verify',
    ])
    byAlg.set(alg, key)
  }
  return key
}

/** A token the synchronous verifier refused: the reason, and whether it had expired. */
export class RejectedToken extends Error {
  override name = 'RejectedToken'
  constructor(
    message: string,
    readonly expired: boolean,
  ) {
    super(message)
  }
}

const asFlattened = (token: string) => {
  const [, payload = '', signature = ''] = token.split('.')
  return { payload, signature }
}

/**
 * The synchronous path (crypto seam `jws`, see `core/compact-jwt.ts`): the same checks as jose
 * with the options below. Undefined when it cannot decide (no primitives, or no key of a kind it
 * verifies), so the caller falls back to jose.
 */
async function verifyFast(
  token: string,
  keys: KeySource,
  expected: JwtExpectations,
): Promise<JWTVerifyResult<JwtPayload> | undefined> {
  const jws = defaultCrypto.jws
  if (!jws) return undefined
  const result = await verifyJwt(
    token,
    jws,
    async (header) =>
      keys.kind === 'secret'
        ? keys.secrets
        : [
            (await keys.getKey(header as CompactJWSHeaderParameters, asFlattened(token))) as
              | CryptoKey
              | Uint8Array,
          ],
    expected,
  )
  if (!isRejection(result)) {
    return {
      payload: result.payload as JwtPayload,
      protectedHeader: result.header as JWTVerifyResult['protectedHeader'],
    } as JWTVerifyResult<JwtPayload>
  }
  if (result.reason === 'key') return undefined
  throw new RejectedToken(result.message, result.reason === 'expired')
}

/**
 * `jwtVerify` with the key source: the synchronous path where the runtime has one, else jose —
 * remote keys through the resolver; shared secrets newest first, the next one tried only after a
 * signature mismatch. Failures throw {@link RejectedToken} or jose's errors.
 */
export async function verifyWith(
  token: string,
  keys: KeySource,
  expected: JwtExpectations,
): Promise<{ readonly payload: JwtPayload }> {
  const fast = await verifyFast(token, keys, expected)
  if (fast) return fast
  const options = joseOptions(expected)
  if (keys.kind === 'remote') return jwtVerify(token, keys.getKey, options)
  let failure: unknown
  for (const secret of keys.secrets) {
    try {
      return await jwtVerify(
        token,
        ((header) => hmacKey(secret, header.alg)) as JWTVerifyGetKey,
        options,
      )
    } catch (err) {
      if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw err
      failure = err
    }
  }
  throw failure
}
