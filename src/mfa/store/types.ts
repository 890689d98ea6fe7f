/**
 * `CredentialStore`: where second factors live. One record per credential (a TOTP secret, a
 * passkey, a recovery code), found by its id or by its account; plus short-lived challenges
 * (single use) and attempt counters. Nothing secret reaches the store in clear: TOTP secrets are
 * sealed under the keyring, recovery codes are kept as keyed hashes, passkeys hold public keys.
 *
 * `add`, `update` (compare-and-set on `version`), `remove`, `takeChallenge` and `hit` must be
 * atomic: exactly one of concurrent callers wins each.
 *
 * @module
 */

/** The kinds of credential. */
export type CredentialKind = 'totp' | 'webauthn' | 'recovery'

/** A stored credential. */
export interface StoredCredential {
  /**
   * Unique across accounts: the WebAuthn credential id (base64url), `totp_<random>`, or
   * `rc_<keyed hash>` of a recovery code.
   */
  readonly id: string
  readonly accountId: string
  readonly kind: CredentialKind
  /** What the user calls it (`'YubiKey'`, `'Phone'`); empty for recovery codes. */
  readonly name: string
  /** Milliseconds since the epoch. */
  readonly createdAt: number
  /** Milliseconds since the epoch of its last successful use. */
  readonly lastUsedAt?: number
  /** A TOTP secret is unconfirmed until a first code proves the app has it. */
  readonly confirmed: boolean
  /** 1 when added; each {@link CredentialStore.update} adds one. */
  readonly version: number
  /** Kind-specific fields (JSON-serialisable). */
  readonly data: Readonly<Record<string, unknown>>
}

/** Storage for second factors. Every method is async; implementations must be safe under concurrency. */
export interface CredentialStore {
  /** Every credential of an account, oldest first. */
  list(accountId: string): Promise<StoredCredential[]>
  /** A credential by its id, whatever its account. */
  get(id: string): Promise<StoredCredential | undefined>
  /** Adds a credential; false (and nothing changed) when its id exists already, in any account. */
  add(credential: StoredCredential): Promise<boolean>
  /**
   * Replaces a credential of the same id and account whose stored `version` is
   * `credential.version - 1`; false (and nothing changed) otherwise: someone else updated it.
   */
  update(credential: StoredCredential): Promise<boolean>
  /** Deletes a credential of this account; true only for the caller that deleted it. */
  remove(accountId: string, id: string): Promise<boolean>
  /** Deletes every credential of the account (of one kind if given); answers how many. */
  removeAll(accountId: string, kind?: CredentialKind): Promise<number>
  /** Keeps a challenge for `ttlSeconds`. */
  putChallenge(
    id: string,
    value: Readonly<Record<string, unknown>>,
    ttlSeconds: number,
  ): Promise<void>
  /** Returns and deletes a live challenge: exactly one concurrent caller gets it. */
  takeChallenge(id: string): Promise<Record<string, unknown> | undefined>
  /**
   * Counts one attempt under `key` in a fixed window that starts at the first attempt and lasts
   * `windowSeconds`; answers the count so far, this one included.
   */
  hit(key: string, windowSeconds: number): Promise<number>
  /** Forgets the attempts counted under `key`. */
  clearHits(key: string): Promise<void>
}
