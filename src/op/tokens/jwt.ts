/**
 * The OP's JWTs: access tokens (RFC 9068, `typ: at+jwt`, the OP's default algorithm) and ID
 * tokens (OIDC Core §2, with `at_hash`; the client's `id_token_signed_response_alg`), signed with
 * the current key of the algorithm by its signer (synchronous on `node:crypto`, jose
 * elsewhere), and the verification of the OP's own access tokens at userinfo and introspection
 * (`alg`, `typ`, `iss`, `exp`, revocation).
 *
 * @module
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose'
import type { Clock } from '../../core/clock.ts'
import {
  isRejection,
  type JwtExpectations,
  joseOptions,
  verifyJwt,
} from '../../core/compact-jwt.ts'
import { defaultCrypto } from '../../core/crypto/index.ts'
import type { JwtPayload } from '../../core/jwt-types.ts'
import { randomToken } from '../../core/random.ts'
import { accessTokenHash } from '../../core/token-hash.ts'
import type { KeyManager } from '../keys.ts'
import { SIGNING_ALGS, type SigningAlg } from '../signing-algs.ts'
import type { GrantBinding, OpStore } from '../store/types.ts'

/** What signing needs. */
export interface SignDeps {
  readonly keys: KeyManager
  readonly issuer: string
  readonly clock: Clock
}

/** An issued access token. */
export interface IssuedAccessToken {
  readonly token: string
  readonly jti: string
  readonly expiresIn: number
}

const nowSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000)

/** `amr` and `acr` (OIDC Core §2; RFC 9068 §2.2.1 for access tokens), when the grant has them. */
function authClaims(grant: Pick<GrantBinding, 'amr' | 'acr'>): Record<string, unknown> {
  return {
    ...(grant.acr === undefined ? {} : { acr: grant.acr }),
    ...(grant.amr === undefined ? {} : { amr: grant.amr }),
  }
}

/** Signs an RFC 9068 access token. `gid` (private claim) names the grant for revocation. */
export async function issueAccessToken(
  grant: Pick<GrantBinding, 'grantId' | 'clientId' | 'sub' | 'scopes' | 'amr' | 'acr'> & {
    authTime?: number
  },
  audience: string | readonly string[],
  ttlSeconds: number,
  deps: SignDeps,
  /** Further claims (a token exchange's `act`); never one of the registered ones above. */
  extra: Readonly<Record<string, unknown>> = {},
): Promise<IssuedAccessToken> {
  const { signer } = await deps.keys.signingKey()
  const jti = randomToken(16)
  const iat = nowSeconds(deps.clock)
  const token = await signer.sign('at+jwt', {
    ...extra,
    client_id: grant.clientId,
    scope: grant.scopes.join(' '),
    gid: grant.grantId,
    ...(grant.authTime === undefined ? {} : { auth_time: grant.authTime }),
    ...authClaims(grant),
    iss: deps.issuer,
    sub: grant.sub,
    aud: audience,
    jti,
    iat,
    exp: iat + ttlSeconds,
  })
  return { token, jti, expiresIn: ttlSeconds }
}

/**
 * Signs an ID token for `grant`, with `nonce`, `at_hash`, `auth_time`, `azp`, the OP session's
 * `sid` (Back-Channel Logout §2.1) and scope claims, signed with `extra.alg` (the client's
 * `id_token_signed_response_alg`; default: the OP's default algorithm). `at_hash` uses that
 * algorithm's hash (OIDC Core §3.1.3.6).
 */
export async function issueIdToken(
  grant: Pick<GrantBinding, 'clientId' | 'sub' | 'authTime' | 'sid' | 'amr' | 'acr'>,
  extra: {
    nonce?: string | undefined
    accessToken: string
    claims: Record<string, unknown>
    alg?: SigningAlg | undefined
  },
  ttlSeconds: number,
  deps: SignDeps,
): Promise<string> {
  const { signer } = await deps.keys.signingKey(extra.alg)
  const iat = nowSeconds(deps.clock)
  return signer.sign('JWT', {
    ...extra.claims,
    auth_time: grant.authTime,
    ...authClaims(grant),
    azp: grant.clientId,
    at_hash: await accessTokenHash(extra.accessToken, signer.alg),
    ...(extra.nonce === undefined ? {} : { nonce: extra.nonce }),
    ...(grant.sid === undefined ? {} : { sid: grant.sid }),
    iss: deps.issuer,
    sub: grant.sub,
    aud: grant.clientId,
    iat,
    exp: iat + ttlSeconds,
  })
}

/** Signing algorithms the OP's keys may have (each key verifies with its own only). */
const KEY_ALGS: readonly string[] = SIGNING_ALGS

/**
 * The claims of a token signed by one of the OP's keys (`kid`, and that key's own algorithm) for
 * this issuer, as `expected` says (type, audience, required claims, whether an expired token
 * still counts); synchronous on `node:crypto`, jose elsewhere.
 */
async function verifiedClaims(
  token: string,
  deps: SignDeps,
  expected: Pick<JwtExpectations, 'typ' | 'audience' | 'requiredClaims' | 'ignoreExpiry'>,
): Promise<JwtPayload | undefined> {
  const full: JwtExpectations = {
    ...expected,
    algorithms: KEY_ALGS,
    issuer: deps.issuer,
    clockToleranceSeconds: 5,
    now: deps.clock.now(),
  }
  const keyOf = async (header: Readonly<Record<string, unknown>>) => {
    const key =
      typeof header.kid === 'string' ? await deps.keys.verificationKey(header.kid) : undefined
    return key && key.alg === header.alg ? key : undefined
  }
  const jws = defaultCrypto.jws
  if (jws) {
    const result = await verifyJwt(
      token,
      jws,
      async (h) => {
        const key = await keyOf(h)
        return key ? [key.key] : []
      },
      full,
    )
    if (!isRejection(result)) return result.payload as JwtPayload
    if (result.reason !== 'key') return undefined
  }
  try {
    const key = await keyOf(decodeProtectedHeader(token))
    if (!key) return undefined
    return (await jwtVerify(token, key.key, joseOptions(full))).payload
  } catch (err) {
    // jose has no "ignore expiry": an expired token that passed every other check is this.
    if (err instanceof joseErrors.JWTExpired && full.ignoreExpiry) return err.payload
    if (err instanceof joseErrors.JOSEError) return undefined
    throw err
  }
}

/**
 * One of the OP's own ID tokens, as an `id_token_hint` (RP-Initiated Logout 1.0 §2): signed by
 * one of its keys for this issuer, typed as the OP types its ID tokens; an expired one counts
 * (the logout of a session whose ID token has expired is the usual case). Undefined otherwise.
 */
export async function verifyIdTokenHint(
  token: string,
  deps: SignDeps,
): Promise<JwtPayload | undefined> {
  return verifiedClaims(token, deps, {
    typ: 'JWT',
    requiredClaims: ['sub', 'aud', 'iat'],
    ignoreExpiry: true,
  })
}

/** The claims of a valid access token of this OP. */
export interface AccessTokenClaims extends JwtPayload {
  readonly sub: string
  readonly client_id: string
  readonly scope: string
  readonly jti: string
  readonly gid: string
  readonly exp: number
}

/**
 * Verifies one of the OP's own access tokens: a known `kid`, its algorithm, `typ: at+jwt`,
 * `iss`, `exp`, and neither the token nor its grant revoked. Returns undefined when invalid.
 */
export async function verifyAccessToken(
  token: string,
  deps: SignDeps & { store: OpStore; audience: string | readonly string[] },
): Promise<AccessTokenClaims | undefined> {
  const payload = await verifiedClaims(token, deps, {
    typ: 'at+jwt',
    audience: deps.audience,
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
  })
  if (!payload) return undefined
  const { client_id, scope, gid, jti } = payload as Record<string, unknown>
  if (
    typeof client_id !== 'string' ||
    typeof scope !== 'string' ||
    typeof gid !== 'string' ||
    typeof jti !== 'string'
  ) {
    return undefined
  }
  if (
    (await deps.store.get('revocation', `jti:${jti}`)) ||
    (await deps.store.get('revocation', `grant:${gid}`))
  ) {
    return undefined
  }
  return payload as AccessTokenClaims
}
