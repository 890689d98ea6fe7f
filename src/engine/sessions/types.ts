/**
 * `SessionStore`: where session mode keeps sessions. Five async methods with TTLs passed by the
 * caller; sessions are stored under the SHA-256 of their id, never the id itself, and indexed by
 * the hash of their user key, so "log out everywhere" can end all of a user's sessions at once.
 *
 * @module
 */
import type { RateLimitStore } from '../../core/rate-limit.ts'
import type { AuthContext } from '../auth-context.ts'

/** What a session holds. */
export interface StoredSession<User = unknown> {
  /** What `onLogin` returned for the identity. */
  readonly user: User
  /** Which provider account logged in. */
  readonly provider: string
  readonly subject: string
  /** Milliseconds since the epoch. */
  readonly createdAt: number
  /** Absolute end, ms since the epoch: idle refreshes never pass it. */
  readonly expiresAt: number
  /** Last time the idle timer was reset, ms since the epoch. */
  readonly lastSeenAt: number
  /**
   * The SHA-256 (base64url) of the user key (`userKey` of the engine config): what
   * {@link SessionStore.deleteByUser} finds the session by. Absent on sessions stored by
   * versions before 0.2.
   */
  readonly userKey?: string
  /**
   * The provider's ID token of the login, kept only when the provider is set up for
   * RP-initiated logout: the `id_token_hint` of that logout, never shown to the app.
   */
  readonly idToken?: string
  /**
   * The provider's own session id of the login (the ID token's `sid`): what a back-channel
   * logout token names (OpenID Connect Back-Channel Logout 1.0 §2.4).
   */
  readonly providerSid?: string
  /** How the user authenticated at the provider (`acr`, `amr`, `auth_time` of its ID token). */
  readonly auth?: AuthContext
}

/** Session storage. Implementations expire records after their TTL. */
export interface SessionStore {
  get(id: string): Promise<StoredSession | undefined>
  set(id: string, session: StoredSession, ttlSeconds: number): Promise<void>
  delete(id: string): Promise<void>
  /** Extends the TTL and records `lastSeenAt`. */
  touch(id: string, lastSeenAt: number, ttlSeconds: number): Promise<void>
  /** Deletes every session whose `userKey` is `userKey` (one statement or script). */
  deleteByUser(userKey: string): Promise<void>
  /**
   * Deletes every session that `provider`'s login session `sid` made (a back-channel logout
   * naming `sid`). Optional for stores written before 0.3; back-channel logout needs it.
   */
  deleteByProviderSession?(provider: string, sid: string): Promise<void>
  /** Deletes every session of `provider`'s user `subject` (a back-channel logout naming `sub`). */
  deleteByProviderSubject?(provider: string, subject: string): Promise<void>
  /**
   * The limiter state of the same backend, so that every instance sharing this store shares its
   * rate limits (the engine's login starts per IP). Absent: the engine counts per process.
   */
  readonly rateLimits?: RateLimitStore
}
