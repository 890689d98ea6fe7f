/**
 * Stateless mode's tokens: after login the user gets a signed JWT (HS256 under a key derived
 * from the app secret; newest secret signs, all verify) instead of a server-side session.
 * Checked on every use: `alg`, `typ`, `iss`, `aud`, `exp`, and the claims this mode adds.
 *
 * Every token of one login repeats that login's claims, so a refreshed token is still the same
 * login: `sid` (a random login id, what a logout revokes), `uky` (the SHA-256 of the user key,
 * what "log out everywhere" revokes), `lat` (when the user logged in, in ms) and `sxp` (the
 * absolute end of the login, in seconds: no refresh goes past it); for a provider set up for
 * back- or front-channel logout, `psi` and `psu` (hashes of the provider's session id and
 * subject, what those logouts revoke).
 *
 * @module
 */

import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import type { Clock } from '../core/clock.ts'
import { compactSigner, isRejection, joseOptions, verifyJwt } from '../core/compact-jwt.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import type { DerivedKey, Keyring } from '../core/keyring.ts'
import { randomToken } from '../core/random.ts'
import { type AuthContext, authContextOf } from './auth-context.ts'

/** The claims of an Authkestra session JWT, as the app sees them. */
export interface SessionJwt<User> {
  readonly user: User
  readonly provider: string
  readonly subject: string
  readonly issuedAt: Date
  readonly expiresAt: Date
  /** When the user logged in; refreshed tokens keep it. */
  readonly loginAt: Date
  /** The absolute end of this login: refreshing never extends a token past it. */
  readonly sessionExpiresAt: Date
  /** How the user authenticated at the provider (empty when it did not say). */
  readonly auth: AuthContext
}

/** What every token of one login carries. */
export interface LoginClaims {
  /** Login id (22 base64url characters). */
  readonly sid: string
  /** SHA-256 of the user key, base64url. */
  readonly uky: string
  /** Login time, ms since the epoch. */
  readonly lat: number
  /** Absolute end of the login, seconds since the epoch. */
  readonly sxp: number
  /**
   * The provider's login, for its back- and front-channel logouts: the SHA-256 (base64url) of
   * the provider id and the provider's session id (`psi`), and of the provider id and the
   * subject its ID token named (`psu`). Only for providers set up for those logouts.
   */
  readonly psi?: string
  readonly psu?: string
  /** The provider's `acr`, `amr` and `auth_time` for this login (see {@link AuthContext}). */
  readonly acr?: string
  readonly amr?: readonly string[]
  readonly aat?: number
}

/** The provider's login of a new login, for {@link StatelessTokens.newLogin}. */
export interface ProviderLoginHashes {
  readonly psi?: string
  readonly psu?: string
}

/** A token that verified, with its login claims. */
export interface VerifiedToken<User> {
  readonly view: SessionJwt<User>
  readonly login: LoginClaims
}

const TYP = 'authkestra-session+jwt'
/**
 * Clock tolerance of verification, in seconds: a revocation must outlive the token it ends by
 * as much, or the token would verify again in that window.
 */
export const TOKEN_LEEWAY_SECONDS = 5
const PURPOSE = 'session-jwt'
const SID = /^[A-Za-z0-9_-]{22}$/
const UKY = /^[A-Za-z0-9_-]{43}$/

/** A login's {@link AuthContext} under its claim names (`acr`, `amr`, `aat`). */
function authFields(auth: AuthContext): Pick<LoginClaims, 'acr' | 'amr' | 'aat'> {
  return {
    ...(auth.acr === undefined ? {} : { acr: auth.acr }),
    ...(auth.amr === undefined ? {} : { amr: auth.amr }),
    ...(auth.authTime === undefined ? {} : { aat: auth.authTime }),
  }
}

/** Absent, or a base64url SHA-256 like `uky`. */
function optionalHash(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && UKY.test(value))
}

/** Issues and verifies session JWTs. */
export class StatelessTokens {
  constructor(
    private readonly keys: Keyring,
    private readonly options: {
      ttlSeconds: number
      absoluteSeconds: number
      issuer: string
      audience: string
    },
    private readonly clock: Clock,
  ) {}

  get ttlSeconds(): number {
    return this.options.ttlSeconds
  }

  get absoluteSeconds(): number {
    return this.options.absoluteSeconds
  }

  /** The claims of a new login by the user whose key hashes to `uky`. */
  newLogin(uky: string, provider: ProviderLoginHashes = {}, auth: AuthContext = {}): LoginClaims {
    const now = Math.floor(this.clock.now())
    return {
      sid: randomToken(16),
      uky,
      lat: now,
      sxp: Math.floor(now / 1000) + this.options.absoluteSeconds,
      ...(provider.psi === undefined ? {} : { psi: provider.psi }),
      ...(provider.psu === undefined ? {} : { psu: provider.psu }),
      ...authFields(auth),
    }
  }

  /** A JWT for `user` in `login`, living `ttlSeconds` but never past the login's end. */
  async issue(
    user: unknown,
    who: { provider: string; subject: string },
    login: LoginClaims,
  ): Promise<{ token: string; expiresAt: number; expiresIn: number }> {
    const [key] = await this.keys.keys(PURPOSE)
    if (!key) throw new Error('no key')
    const iat = Math.floor(this.clock.now() / 1000)
    const exp = Math.min(iat + this.options.ttlSeconds, login.sxp)
    const claims = {
      usr: user as Record<string, unknown>,
      prv: who.provider,
      sid: login.sid,
      uky: login.uky,
      lat: login.lat,
      sxp: login.sxp,
      ...(login.psi === undefined ? {} : { psi: login.psi }),
      ...(login.psu === undefined ? {} : { psu: login.psu }),
      ...(login.acr === undefined ? {} : { acr: login.acr }),
      ...(login.amr === undefined ? {} : { amr: login.amr }),
      ...(login.aat === undefined ? {} : { aat: login.aat }),
      iss: this.options.issuer,
      aud: this.options.audience,
      sub: who.subject,
      jti: randomToken(16),
      iat,
      exp,
    }
    const sign = this.#signer(key)
    const token = sign
      ? sign(claims)
      : await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: TYP })
          .sign(key.key)
    return { token, expiresAt: exp * 1000, expiresIn: Math.max(0, exp - iat) }
  }

  /** The synchronous signer of `key` (made once per key), where the crypto seam has one. */
  #signer(key: DerivedKey): ((claims: Readonly<Record<string, unknown>>) => string) | undefined {
    const jws = defaultCrypto.jws
    if (!jws) return undefined
    if (!this.#signers.has(key.key))
      this.#signers.set(
        key.key,
        compactSigner(jws, key.key, { alg: 'HS256', kid: key.kid, typ: TYP }),
      )
    return this.#signers.get(key.key)
  }

  readonly #signers = new WeakMap<
    Uint8Array,
    ((claims: Readonly<Record<string, unknown>>) => string) | undefined
  >()

  /**
   * The verified claims, by the key the token names (synchronously on `node:crypto`, else with
   * jose), or null.
   */
  async #claims(token: string, ignoreExpiry: boolean): Promise<Record<string, unknown> | null> {
    const keys = await this.keys.keys(PURPOSE)
    const expected = {
      ignoreExpiry,
      algorithms: ['HS256'],
      typ: TYP,
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockToleranceSeconds: TOKEN_LEEWAY_SECONDS,
      now: this.clock.now(),
      requiredClaims: ['sub', 'exp', 'iat'],
    }
    const jws = defaultCrypto.jws
    if (jws) {
      const result = await verifyJwt(
        token,
        jws,
        (header) => keys.filter((k) => k.kid === header.kid).map((k) => k.key),
        expected,
      )
      return isRejection(result) ? null : result.payload
    }
    let kid: unknown
    try {
      kid = decodeProtectedHeader(token).kid
    } catch {
      return null
    }
    const key = keys.find((k) => k.kid === kid)
    if (!key) return null
    try {
      return (await jwtVerify(token, key.key, joseOptions(expected))).payload
    } catch (err) {
      // jose checks `exp` last: a JWTExpired token passed every other check.
      if (ignoreExpiry && err instanceof joseErrors.JWTExpired) return err.payload
      throw err
    }
  }

  /**
   * The claims of a validly signed, unexpired token, or null (never throws for a bad token).
   * With `allowExpired`, a token past its `exp` but within its login passes too: only to end
   * that login.
   */
  async verify<User>(
    token: string,
    options: { allowExpired?: boolean } = {},
  ): Promise<VerifiedToken<User> | null> {
    if (token.length > 8192) return null
    try {
      const p = await this.#claims(token, options.allowExpired === true)
      if (!p) return null
      if (
        typeof p.prv !== 'string' ||
        typeof p.sub !== 'string' ||
        typeof p.sid !== 'string' ||
        !SID.test(p.sid) ||
        typeof p.uky !== 'string' ||
        !UKY.test(p.uky) ||
        !Number.isSafeInteger(p.lat) ||
        !Number.isSafeInteger(p.sxp) ||
        !optionalHash(p.psi) ||
        !optionalHash(p.psu)
      ) {
        return null
      }
      // Signed by us from a validated ID token; reread through the same filter all the same.
      const auth = authContextOf({ acr: p.acr, amr: p.amr, auth_time: p.aat })
      const login: LoginClaims = {
        sid: p.sid,
        uky: p.uky,
        lat: p.lat as number,
        sxp: p.sxp as number,
        ...(p.psi === undefined ? {} : { psi: p.psi as string }),
        ...(p.psu === undefined ? {} : { psu: p.psu as string }),
        ...authFields(auth),
      }
      return {
        login,
        view: {
          user: p.usr as User,
          provider: p.prv,
          subject: p.sub,
          issuedAt: new Date((p.iat as number) * 1000),
          expiresAt: new Date((p.exp as number) * 1000),
          loginAt: new Date(login.lat),
          sessionExpiresAt: new Date(login.sxp * 1000),
          auth,
        },
      }
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null
      throw err
    }
  }
}
