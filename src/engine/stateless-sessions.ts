/**
 * Logout in stateless mode. A JWT cannot be taken back, so ending one means remembering it until
 * it would have expired anyway, in a {@link RevocationStore} that every verification consults
 * (one lookup for both keys below):
 *
 * - logout revokes `sid:<login id>` until the login's absolute end (`sxp`), which ends the token
 *   and every token refreshed from the same login; the token it names may already be past its
 *   `exp` (a copy elsewhere may have been refreshed since), not past the login's end;
 * - "log out everywhere" revokes `usr:<user key hash>` at a time T, which ends every token of a
 *   login that started at or before T (`lat`), for as long as such a login could live.
 *
 * With `revocations: 'none-logout-keeps-tokens-valid-until-exp'` there is no store: logout only
 * clears the cookie, and a copied token stays valid until its `exp`; no token is renewed (the
 * engine serves no refresh route then), so a login is one token's life.
 *
 * @module
 */

import { encodeBase64url } from '../core/base64url.ts'
import type { Clock } from '../core/clock.ts'
import { defaultCrypto } from '../core/crypto/index.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { AuthContext } from './auth-context.ts'
import type { RevocationStore } from './revocations/types.ts'
import {
  type LoginClaims,
  type ProviderLoginHashes,
  type StatelessTokens,
  TOKEN_LEEWAY_SECONDS,
  type VerifiedToken,
} from './stateless.ts'

const LEEWAY_MS = TOKEN_LEEWAY_SECONDS * 1000

/** Stateless tokens with server-side revocation (or, by explicit choice, without). */
export class StatelessSessions {
  constructor(
    readonly tokens: StatelessTokens,
    private readonly revocations: RevocationStore | undefined,
    private readonly clock: Clock,
  ) {}

  /** Whether logouts are remembered (false: the explicit opt-out). */
  get revokes(): boolean {
    return this.revocations !== undefined
  }

  /**
   * The claims of a new login by the user whose key hashes to `uky`; `provider`, for a provider
   * set up for channel logouts, is its login (see {@link providerLoginHashes}).
   */
  startLogin(uky: string, provider?: ProviderLoginHashes, auth?: AuthContext): LoginClaims {
    return this.tokens.newLogin(uky, provider, auth)
  }

  /** A token in `login` (never living past the login's end). */
  issue(
    user: unknown,
    who: { provider: string; subject: string },
    login: LoginClaims,
  ): Promise<{ token: string; expiresAt: number; expiresIn: number }> {
    return this.tokens.issue(user, who, login)
  }

  /** A token that verifies and whose login was not ended, or null. */
  async verify<User>(token: string): Promise<VerifiedToken<User> | null> {
    const verified = await this.tokens.verify<User>(token)
    if (!verified || !this.revocations) return verified
    const { sid, uky, lat, psi, psu } = verified.login
    const keys = [`sid:${sid}`, `usr:${uky}`]
    if (psi !== undefined) keys.push(`psi:${psi}`)
    if (psu !== undefined) keys.push(`psu:${psu}`)
    const [loginEnded, ...since] = await this.revocations.revokedAt(keys)
    if (loginEnded !== undefined) return null
    for (const endedAt of since) if (endedAt !== undefined && lat <= endedAt) return null
    return verified
  }

  /**
   * The login a logout names: its token must be validly signed, but may be past its `exp` (the
   * browser's copy expired while a copy elsewhere kept being refreshed) as long as the login
   * itself has not ended.
   */
  async loginToEnd(token: string): Promise<LoginClaims | null> {
    const verified = await this.tokens.verify(token, { allowExpired: true })
    if (!verified || this.clock.now() >= verified.login.sxp * 1000 + LEEWAY_MS) return null
    return verified.login
  }

  /**
   * Ends one login: this token and every token refreshed from it, remembered until the last of
   * them could verify (the login's end plus the verification leeway).
   */
  async endLogin(login: LoginClaims): Promise<void> {
    await this.revocations?.revoke(
      `sid:${login.sid}`,
      this.clock.now(),
      login.sxp * 1000 + LEEWAY_MS,
    )
  }

  /** Ends every login of the user whose key hashes to `uky` that started until now. */
  async endUser(uky: string): Promise<void> {
    await this.#revokeSince(`usr:${uky}`, 'log out everywhere')
  }

  /**
   * Ends the logins of one provider login (`sid`, the provider's session id) or, with only
   * `sub`, of that provider user, that started until now: a back- or front-channel logout.
   */
  async endProviderLogin(
    provider: string,
    named: { sid?: string | undefined; sub?: string | undefined },
  ): Promise<void> {
    const { psi, psu } = await providerLoginHashes(provider, named)
    if (psi !== undefined) await this.#revokeSince(`psi:${psi}`, 'a provider logout')
    else if (psu !== undefined) await this.#revokeSince(`psu:${psu}`, 'a provider logout')
  }

  /** Revokes `key` now, for every login that started until now, as long as one could live. */
  async #revokeSince(key: string, what: string): Promise<void> {
    if (!this.revocations) {
      throw new AuthkestraError(
        'unsupported_operation',
        `${what} needs "jwt.revocations" (a store): tokens cannot be ended without one`,
      )
    }
    const now = this.clock.now()
    const until = now + this.tokens.absoluteSeconds * 1000 + LEEWAY_MS
    await this.revocations.revoke(key, now, until)
  }
}

/**
 * The hashes a stateless login keeps of the provider's login: of the provider id and its
 * session id (`psi`), of the provider id and the subject its ID token named (`psu`). A newline
 * separates them (provider ids never hold one), so no two pairs hash alike.
 */
export async function providerLoginHashes(
  provider: string,
  named: { sid?: string | undefined; sub?: string | undefined },
): Promise<ProviderLoginHashes> {
  const hash = async (value: string) =>
    encodeBase64url(await defaultCrypto.sha256(`${provider}\n${value}`))
  return {
    ...(named.sid === undefined ? {} : { psi: await hash(named.sid) }),
    ...(named.sub === undefined ? {} : { psu: await hash(named.sub) }),
  }
}
