/**
 * `authkestra/stores/sqlite`: the {@link SessionStore} and {@link OpStore} over a
 * [better-sqlite3](https://github.com/WiseLibs/better-sqlite3) 12 connection that the app opens
 * and owns. Records survive restarts and are shared by every process using the same file.
 *
 * - Schema: six tables, `<prefix>op_records`, `<prefix>sessions`, `<prefix>revocations`,
 *   `<prefix>credentials`, `<prefix>mfa_ephemeral` and `<prefix>rate_limits`,
 *   created only by the explicit, idempotent `migrate()`; nothing touches the app's other tables.
 * - Expiry: `expires_at` (ms since the epoch) is checked against the injected clock on every read
 *   (expired = absent); an unref'd background sweep deletes expired rows.
 * - Atomicity: `consume` is one `UPDATE … RETURNING`, `revokeFamily` one `DELETE`, a rate-limit
 *   hit one `INSERT … ON CONFLICT DO UPDATE … RETURNING` (GCRA: one TAT per key).
 * - Pragmas are the app's choice and are never changed: WAL (`journal_mode = WAL`) is recommended
 *   for concurrent readers; better-sqlite3's `timeout` option (default 5000 ms) is the busy timeout.
 * - Driver failures (`SQLITE_BUSY`, `SQLITE_IOERR`, a closed connection, missing tables, …) reject
 *   with `AuthkestraError('store_unavailable')`, the driver error as `cause`.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3'
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { RateLimitStore } from '../core/rate-limit.ts'
import type { RevocationStore } from '../engine/revocations/types.ts'
import type { SessionStore } from '../engine/sessions/types.ts'
import type { CredentialStore } from '../mfa/store/types.ts'
import type { OpStore } from '../op/store/types.ts'
import { sqliteCredentialStore } from './sqlite/credentials.ts'
import { sqliteDriver } from './sqlite/driver.ts'
import { sqliteOpStore } from './sqlite/op.ts'
import { sqliteRateLimitStore } from './sqlite/rate-limits.ts'
import { sqliteRevocationStore } from './sqlite/revocations.ts'
import { sqliteTables } from './sqlite/schema.ts'
import { sqliteSessionStore } from './sqlite/sessions.ts'

/** Options of {@link createSqliteStores}. */
export interface SqliteStoresOptions {
  /** An open better-sqlite3 connection. The stores never close it nor change its pragmas. */
  readonly database: BetterSqlite3.Database
  /** Prefix of the tables and indexes (letters, digits, `_`). Default `'authkestra_'`. */
  readonly tablePrefix?: string
  /** Source of "now" for every expiry check. Default: the system clock. */
  readonly clock?: Clock
  /** How often expired rows are deleted, in ms. Default 60 000. */
  readonly sweepIntervalMs?: number
}

/** What {@link createSqliteStores} returns. */
export interface SqliteStores {
  /** Sessions of session mode (`createAuthkestra({ session: { store } })`). */
  readonly sessions: SessionStore
  /** Everything the embedded OpenID Provider keeps (`createOp({ store })`). */
  readonly op: OpStore
  /** What stateless mode's logouts revoke (`createAuthkestra({ jwt: { revocations } })`). */
  readonly revocations: RevocationStore
  /** Second factors (`createMfa({ store })`, `createOp({ mfa: { store } })`). */
  readonly credentials: CredentialStore
  /**
   * The rate limiter's state (GCRA, one row per key). The same object is `op.rateLimits` and
   * `sessions.rateLimits`, so every instance sharing the database shares its limits.
   */
  readonly rateLimits: RateLimitStore
  /**
   * Creates the tables and indexes if they do not exist, in one transaction; safe to run at
   * every start and from several processes. Run it before the first use, or create the same
   * schema with your own migration tool:
   *
   * ```sql
   * CREATE TABLE authkestra_op_records (kind TEXT NOT NULL, id TEXT NOT NULL,
   *   value TEXT NOT NULL, expires_at INTEGER, consumed INTEGER NOT NULL DEFAULT 0,
   *   family TEXT, PRIMARY KEY (kind, id));
   * CREATE INDEX authkestra_op_records_family ON authkestra_op_records (family)
   *   WHERE family IS NOT NULL;
   * CREATE INDEX authkestra_op_records_expires_at ON authkestra_op_records (expires_at)
   *   WHERE expires_at IS NOT NULL;
   * CREATE TABLE authkestra_sessions (id TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL,
   *   expires_at INTEGER NOT NULL, user_key TEXT);
   * CREATE INDEX authkestra_sessions_expires_at ON authkestra_sessions (expires_at);
   * CREATE INDEX authkestra_sessions_user_key ON authkestra_sessions (user_key)
   *   WHERE user_key IS NOT NULL;
   * CREATE TABLE authkestra_revocations (key TEXT PRIMARY KEY NOT NULL,
   *   revoked_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
   * CREATE INDEX authkestra_revocations_expires_at ON authkestra_revocations (expires_at);
   * CREATE TABLE authkestra_credentials (id TEXT PRIMARY KEY NOT NULL, account_id TEXT NOT NULL,
   *   kind TEXT NOT NULL, version INTEGER NOT NULL, created_at INTEGER NOT NULL,
   *   value TEXT NOT NULL);
   * CREATE INDEX authkestra_credentials_account ON authkestra_credentials (account_id, created_at);
   * CREATE TABLE authkestra_mfa_ephemeral (key TEXT PRIMARY KEY NOT NULL, value TEXT,
   *   hits INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL);
   * CREATE INDEX authkestra_mfa_ephemeral_expires_at ON authkestra_mfa_ephemeral (expires_at);
   * CREATE TABLE authkestra_rate_limits (key TEXT PRIMARY KEY NOT NULL, tat REAL NOT NULL,
   *   expires_at INTEGER NOT NULL, allowed INTEGER NOT NULL DEFAULT 0);
   * CREATE INDEX authkestra_rate_limits_expires_at ON authkestra_rate_limits (expires_at);
   * ```
   *
   * A database migrated by an earlier version gets the `user_key` column added.
   *
   * Rejects with `store_unavailable` when the database refuses (read-only, closed, …).
   */
  migrate(): Promise<void>
  /** Stops the background sweep. Never closes the database: that is the app's to do. */
  close(): void
}

/**
 * SQLite stores for sessions and the OP, over a better-sqlite3 connection you opened.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { createSqliteStores } from 'authkestra/stores/sqlite'
 *
 * const db = new Database('auth.db')
 * db.pragma('journal_mode = WAL')
 * const stores = createSqliteStores({ database: db })
 * await stores.migrate()
 * const auth = createAuthkestra({ providers, secret, session: { store: stores.sessions } })
 * const op = await createOp({ issuer, clients, store: stores.op })
 * // at shutdown
 * stores.close()
 * db.close()
 * ```
 */
export function createSqliteStores(options: SqliteStoresOptions): SqliteStores {
  const { database } = options
  const clock = options.clock ?? systemClock
  const interval = options.sweepIntervalMs ?? 60_000
  // Past 2^31 - 1 ms, Node's timers silently fire every millisecond instead.
  if (!(interval > 0 && interval <= 2_147_483_647)) {
    throw new AuthkestraError(
      'config_invalid',
      'SQLite store: "sweepIntervalMs" must be a positive number of at most 2147483647',
    )
  }
  const tables = sqliteTables(options.tablePrefix ?? 'authkestra_')
  const db = sqliteDriver(database)

  const sweepSql = [
    `DELETE FROM ${tables.op} WHERE expires_at <= ?`,
    `DELETE FROM ${tables.sessions} WHERE expires_at <= ?`,
    `DELETE FROM ${tables.revocations} WHERE expires_at <= ?`,
    `DELETE FROM ${tables.ephemeral} WHERE expires_at <= ?`,
    `DELETE FROM ${tables.rateLimits} WHERE expires_at <= ?`,
  ]
  const timer = setInterval(() => {
    // A closed better-sqlite3 connection never reopens: nothing left to sweep.
    if (!database.open) return clearInterval(timer)
    try {
      const now = clock.now()
      for (const sql of sweepSql) db.statement(sql).run(now)
    } catch {
      // Busy or not migrated yet: reads ignore expired rows anyway; the next sweep retries.
    }
  }, interval)
  ;(timer as { unref?: () => void }).unref?.()

  const rateLimits = sqliteRateLimitStore(db, tables.rateLimits)
  return {
    sessions: { ...sqliteSessionStore(db, tables.sessions, clock), rateLimits },
    op: { ...sqliteOpStore(db, tables.op, clock), rateLimits },
    rateLimits,
    revocations: sqliteRevocationStore(db, tables.revocations, clock),
    credentials: sqliteCredentialStore(db, tables, clock),
    async migrate() {
      db.guard('migrate', () => {
        // IMMEDIATE: take the write lock first (waiting up to the busy timeout), so processes
        // migrating at once queue up instead of failing to upgrade a read transaction.
        database
          .transaction(() => {
            for (const ddl of tables.ddl) database.exec(ddl)
            for (const [table, column, type] of tables.addedColumns) {
              const columns = database.pragma(`table_info(${table})`) as { name: string }[]
              if (!columns.some((c) => c.name === column))
                database.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`)
            }
            for (const ddl of tables.lateDdl) database.exec(ddl)
          })
          .immediate()
      })
    },
    close() {
      clearInterval(timer)
    },
  }
}
