/**
 * Stateless mode: after login the user gets a signed JWT (HS256 under a key derived from the app
 * secret; newest secret signs, all verify) instead of a server-side session. Checked on every
 * use: `alg`, `typ`, `iss`, `aud`, `exp`.
 *
 * @module
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import type { Clock } from '../core/clock.ts'
import type { Keyring } from '../core/keyring.ts'
import { randomToken } from '../core/random.ts'

/** The claims of an Authkestra session JWT. */
export interface SessionJwt<User> {
  readonly user: User
  readonly provider: string
  readonly subject: string
  readonly issuedAt: Date
  readonly expiresAt: Date
}

const TYP = 'authkestra-session+jwt'
const PURPOSE = 'session-jwt'

/** Issues and verifies session JWTs. */
export class StatelessTokens {
  constructor(
    private readonly keys: Keyring,
    private readonly options: { ttlSeconds: number; issuer: string; audience: string },
    private readonly clock: Clock,
  ) {}

  get ttlSeconds(): number {
    return this.options.ttlSeconds
  }

  /** A JWT for `user`. */
  async issue(
    user: unknown,
    who: { provider: string; subject: string },
  ): Promise<{ token: string; expiresAt: number }> {
    const [key] = await this.keys.keys(PURPOSE)
    if (!key) throw new Error('no key')
    const iat = Math.floor(this.clock.now() / 1000)
    const exp = iat + this.options.ttlSeconds
    const token = await new SignJWT({ usr: user as Record<string, unknown>, prv: who.provider })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: TYP })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(who.subject)
      .setJti(randomToken(16))
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key.key)
    return { token, expiresAt: exp * 1000 }
  }

  /** The claims of a valid token, or null (never throws for a bad token). */
  async verify<User>(token: string): Promise<SessionJwt<User> | null> {
    if (token.length > 8192) return null
    let kid: unknown
    try {
      kid = decodeProtectedHeader(token).kid
    } catch {
      return null
    }
    const key = (await this.keys.keys(PURPOSE)).find((k) => k.kid === kid)
    if (!key) return null
    try {
      const { payload } = await jwtVerify(token, key.key, {
        algorithms: ['HS256'],
        typ: TYP,
        issuer: this.options.issuer,
        audience: this.options.audience,
        currentDate: new Date(this.clock.now()),
        clockTolerance: 5,
        requiredClaims: ['sub', 'exp', 'iat'],
      })
      if (typeof payload.prv !== 'string' || typeof payload.sub !== 'string') return null
      return {
        user: payload.usr as User,
        provider: payload.prv,
        subject: payload.sub,
        issuedAt: new Date((payload.iat as number) * 1000),
        expiresAt: new Date((payload.exp as number) * 1000),
      }
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null
      throw err
    }
  }
}
