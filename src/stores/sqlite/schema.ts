/**
 * The SQLite schema: table and index names derived from the table prefix, and the idempotent DDL
 * that `migrate()` runs. Nothing here touches the app's own tables or any pragma.
 *
 * @module
 */
import { AuthkestraError } from '../../core/errors.ts'

/** The names of everything the store creates, already double-quoted for SQL. */
export interface SqliteTables {
  /** OP records: `(kind, id)` primary key, JSON `value`, `expires_at`, `consumed`, `family`. */
  readonly op: string
  /** Sessions: `id` primary key, JSON `value`, `expires_at`, `user_key`. */
  readonly sessions: string
  /** Revocations of stateless mode: `key` primary key, `revoked_at`, `expires_at`. */
  readonly revocations: string
  /** Second factors (`authkestra/mfa`): `id` primary key, `account_id`, `kind`, `version`, JSON `value`. */
  readonly credentials: string
  /** WebAuthn challenges and attempt counters: `key` primary key, `value`, `hits`, `expires_at`. */
  readonly ephemeral: string
  /** Rate limits: `key` primary key, `tat` (REAL ms), `expires_at`, `allowed` (the last hit). */
  readonly rateLimits: string
  /** The DDL statements of `migrate()`, in order; each is `IF NOT EXISTS`. */
  readonly ddl: readonly string[]
  /** Columns added after a table's first release: `[table, column, type]`, added when missing. */
  readonly addedColumns: readonly (readonly [table: string, column: string, type: string])[]
  /** DDL that runs after the added columns exist (their indexes). */
  readonly lateDdl: readonly string[]
}

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/

/** The JSON fields of a session row that back-channel logout looks up (the same text in the
 * indexes and the queries, so that SQLite uses the indexes). */
export const SESSION_JSON = {
  provider: `json_extract(value, '$.provider')`,
  subject: `json_extract(value, '$.subject')`,
  providerSid: `json_extract(value, '$.providerSid')`,
} as const

/** Validates `prefix` (it is spliced into SQL identifiers) and derives every name from it. */
export function sqliteTables(prefix: string): SqliteTables {
  if (!PREFIX.test(prefix)) {
    throw new AuthkestraError(
      'config_invalid',
      'SQLite store: "tablePrefix" must be letters, digits and underscores, not starting with a digit',
    )
  }
  const name = (suffix: string) => `"${prefix}${suffix}"`
  const op = name('op_records')
  const sessions = name('sessions')
  const revocations = name('revocations')
  const credentials = name('credentials')
  const ephemeral = name('mfa_ephemeral')
  const rateLimits = name('rate_limits')
  return {
    op,
    sessions,
    revocations,
    credentials,
    ephemeral,
    rateLimits,
    ddl: [
      `CREATE TABLE IF NOT EXISTS ${op} (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at INTEGER,
        consumed INTEGER NOT NULL DEFAULT 0,
        family TEXT,
        PRIMARY KEY (kind, id)
      )`,
      `CREATE INDEX IF NOT EXISTS ${name('op_records_family')} ON ${op} (family)
        WHERE family IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${name('op_records_expires_at')} ON ${op} (expires_at)
        WHERE expires_at IS NOT NULL`,
      `CREATE TABLE IF NOT EXISTS ${sessions} (
        id TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        user_key TEXT
      )`,
      `CREATE INDEX IF NOT EXISTS ${name('sessions_expires_at')} ON ${sessions} (expires_at)`,
      `CREATE TABLE IF NOT EXISTS ${revocations} (
        key TEXT PRIMARY KEY NOT NULL,
        revoked_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${name('revocations_expires_at')} ON ${revocations} (expires_at)`,
      `CREATE TABLE IF NOT EXISTS ${credentials} (
        id TEXT PRIMARY KEY NOT NULL,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        value TEXT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${name('credentials_account')} ON ${credentials} (account_id, created_at)`,
      `CREATE TABLE IF NOT EXISTS ${ephemeral} (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT,
        hits INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${name('mfa_ephemeral_expires_at')} ON ${ephemeral} (expires_at)`,
      `CREATE TABLE IF NOT EXISTS ${rateLimits} (
        key TEXT PRIMARY KEY NOT NULL,
        tat REAL NOT NULL,
        expires_at INTEGER NOT NULL,
        allowed INTEGER NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX IF NOT EXISTS ${name('rate_limits_expires_at')} ON ${rateLimits} (expires_at)`,
    ],
    // Sessions tables created before 0.2 have no user_key column.
    addedColumns: [[sessions, 'user_key', 'TEXT']],
    lateDdl: [
      `CREATE INDEX IF NOT EXISTS ${name('sessions_user_key')} ON ${sessions} (user_key)
        WHERE user_key IS NOT NULL`,
      // Back-channel logout finds sessions by the provider's subject or session id: indexes on
      // the JSON itself, so rows stored before 0.3 are found too (no column to backfill).
      `CREATE INDEX IF NOT EXISTS ${name('sessions_provider_subject')} ON ${sessions}
        (${SESSION_JSON.provider}, ${SESSION_JSON.subject})`,
      `CREATE INDEX IF NOT EXISTS ${name('sessions_provider_sid')} ON ${sessions}
        (${SESSION_JSON.provider}, ${SESSION_JSON.providerSid})
        WHERE ${SESSION_JSON.providerSid} IS NOT NULL`,
    ],
  }
}
