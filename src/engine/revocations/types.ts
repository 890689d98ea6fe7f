/**
 * `RevocationStore`: what stateless mode remembers so that a logout ends a token that is still
 * signed and unexpired. Entries are keyed by what tokens carry (`sid:<login session id>` for a
 * logout, `usr:<hash of the user key>` for "log out everywhere"), record when the revocation
 * happened, and are forgotten once every token they could match has expired anyway.
 *
 * @module
 */

/** Revocations shared by every instance that verifies the same tokens. */
export interface RevocationStore {
  /**
   * Records that `key` was revoked at `revokedAt` (ms since the epoch), to be remembered until
   * `until` (ms). Revoking a key again keeps the later of each time.
   */
  revoke(key: string, revokedAt: number, until: number): Promise<void>
  /**
   * When each of `keys` was revoked (ms), `undefined` for a key that is not (or no longer)
   * remembered; in the order of `keys`, in one round trip to the database.
   */
  revokedAt(keys: readonly string[]): Promise<readonly (number | undefined)[]>
}
