/**
 * Session mode: a 256-bit random id in an `HttpOnly` cookie, stored under its SHA-256, with an
 * idle timeout (refreshed at most once a minute) and an absolute one. A login always makes a new
 * id and drops the old session, so a session id planted before login is worthless (no fixation).
 *
 * @module
 */

import { encodeBase64url } from '../../core/base64url.ts'
import type { Clock } from '../../core/clock.ts'
import { readCookie } from '../../core/cookies.ts'
import { defaultCrypto } from '../../core/crypto/index.ts'
import { randomToken } from '../../core/random.ts'
import type { AuthContext } from '../auth-context.ts'
import type { GuardRequest } from '../guards/types.ts'
import type { SessionStore, StoredSession } from './types.ts'

/** Timeouts in seconds. */
export interface SessionTimeouts {
  readonly idleSeconds: number
  readonly absoluteSeconds: number
}

/** A session as the app sees it. */
export interface Session<User> {
  readonly user: User
  readonly provider: string
  readonly subject: string
  readonly createdAt: Date
  /** When the session ends if the user stays active (absolute timeout). */
  readonly expiresAt: Date
  /** When it ends if the user goes idle now. */
  readonly idleExpiresAt: Date
  /** How the user authenticated at the provider (empty when it did not say). */
  readonly auth: AuthContext
}

const ID = /^[A-Za-z0-9_-]{43}$/
/** The context of a session whose provider said nothing: one shared object, not one per read. */
const NO_AUTH: AuthContext = Object.freeze({})
const TOUCH_EVERY_MS = 60_000

async function storageId(sessionId: string): Promise<string> {
  return encodeBase64url(await defaultCrypto.sha256(sessionId))
}

/** Session operations over a store. */
export class SessionManager {
  constructor(
    readonly store: SessionStore,
    private readonly timeouts: SessionTimeouts,
    private readonly clock: Clock,
  ) {}

  #ttl(session: StoredSession, now: number): number {
    return Math.max(
      1,
      Math.min(this.timeouts.idleSeconds, Math.ceil((session.expiresAt - now) / 1000)),
    )
  }

  #view<User>(session: StoredSession, lastSeenAt: number): Session<User> {
    const idleEnd = Math.min(session.expiresAt, lastSeenAt + this.timeouts.idleSeconds * 1000)
    return {
      user: session.user as User,
      provider: session.provider,
      subject: session.subject,
      createdAt: new Date(session.createdAt),
      expiresAt: new Date(session.expiresAt),
      idleExpiresAt: new Date(idleEnd),
      auth: session.auth ?? NO_AUTH,
    }
  }

  /**
   * Creates a session indexed under `userKey` (a user key hash); returns its id (for the
   * cookie) and max age. Drops `previousId`'s session.
   */
  async create(
    user: unknown,
    who: { provider: string; subject: string },
    previousId: string | undefined,
    userKey: string,
    login: {
      idToken?: string | undefined
      providerSid?: string | undefined
      auth?: AuthContext | undefined
    } = {},
  ) {
    if (previousId !== undefined && ID.test(previousId))
      await this.store.delete(await storageId(previousId))
    const now = this.clock.now()
    const session: StoredSession = {
      user,
      provider: who.provider,
      subject: who.subject,
      createdAt: now,
      expiresAt: now + this.timeouts.absoluteSeconds * 1000,
      lastSeenAt: now,
      userKey,
      ...(login.idToken === undefined ? {} : { idToken: login.idToken }),
      ...(login.providerSid === undefined ? {} : { providerSid: login.providerSid }),
      ...(login.auth === undefined || Object.keys(login.auth).length === 0
        ? {}
        : { auth: login.auth }),
    }
    const id = randomToken(32)
    await this.store.set(await storageId(id), session, this.#ttl(session, now))
    return { id, maxAgeSeconds: this.timeouts.absoluteSeconds }
  }

  /** The live session in cookie `cookieName` (resetting its idle timer), or null. */
  async read<User>(request: GuardRequest, cookieName: string): Promise<Session<User> | null> {
    return (await this.current<User>(request, cookieName))?.session ?? null
  }

  /**
   * The live session in cookie `cookieName` with its user key hash, or null. A session stored
   * without a user key (by a version before 0.2) is ended: "log out everywhere" could not find
   * it, so it must not outlive the upgrade (its user signs in again once).
   */
  async current<User>(
    request: GuardRequest,
    cookieName: string,
  ): Promise<{ session: Session<User>; userKey: string; idToken: string | undefined } | null> {
    const id = readCookie(request, cookieName)
    if (id === undefined || !ID.test(id)) return null
    const key = await storageId(id)
    const session = await this.store.get(key)
    const now = this.clock.now()
    if (!session || !this.#live(session, now)) {
      if (session) await this.store.delete(key)
      return null
    }
    const seenAt = now - session.lastSeenAt >= TOUCH_EVERY_MS ? now : session.lastSeenAt
    if (seenAt === now) await this.store.touch(key, now, this.#ttl(session, now))
    return {
      session: this.#view(session, seenAt),
      userKey: session.userKey as string,
      idToken: session.idToken,
    }
  }

  /** Ends every session of the user whose key hashes to `userKey`. */
  async destroyAll(userKey: string): Promise<void> {
    await this.store.deleteByUser(userKey)
  }

  /**
   * Ends the session in cookie `cookieName`, if any, and returns what a logout at its provider
   * needs when it was live (read once, never touched first).
   */
  async end(
    request: GuardRequest,
    cookieName: string,
  ): Promise<{ provider: string; idToken: string | undefined } | undefined> {
    const id = readCookie(request, cookieName)
    if (id === undefined || !ID.test(id)) return undefined
    const key = await storageId(id)
    const session = await this.store.get(key)
    await this.store.delete(key)
    if (!session || !this.#live(session, this.clock.now())) return undefined
    return { provider: session.provider, idToken: session.idToken }
  }

  /** Whether a stored session may still be used (see {@link SessionManager.current}). */
  #live(session: StoredSession, now: number): boolean {
    return (
      'userKey' in session &&
      session.expiresAt > now &&
      session.lastSeenAt + this.timeouts.idleSeconds * 1000 > now
    )
  }
}
