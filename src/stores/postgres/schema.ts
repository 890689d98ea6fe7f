/**
 * The PostgreSQL schema of the stores: six tables (OP records, sessions, revocations, credentials
 * and their challenges, rate limits) and their indexes,
 * created by an explicit, idempotent `migrate()` under an advisory lock so that several instances
 * starting at once do not collide. Times are `bigint` milliseconds since the epoch, compared with
 * the injected clock (never the database's `now()`), so tests move time and servers may disagree.
 *
 * @module
 */
import { AuthkestraError } from '../../core/errors.ts'
import type { Run } from './run.ts'

/** Quoted, schema-qualified names of everything the stores touch. */
export interface Tables {
  readonly schema: string
  /** `"schema"."<prefix>op_records"` */
  readonly op: string
  /** `"schema"."<prefix>sessions"` */
  readonly sessions: string
  /** `"schema"."<prefix>revocations"` */
  readonly revocations: string
  /** `"schema"."<prefix>credentials"`: second factors (`authkestra/mfa`). */
  readonly credentials: string
  /** `"schema"."<prefix>mfa_ephemeral"`: WebAuthn challenges and attempt counters. */
  readonly ephemeral: string
  /** `"schema"."<prefix>rate_limits"`: the rate limiter's TAT per key. */
  readonly rateLimits: string
  /** Unquoted names, for `migrate` and for operators. */
  readonly prefix: string
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
// "op_records_expires_idx" is the longest suffix (22 characters); PostgreSQL cuts names at 63.
const MAX_PREFIX = 40

/** Checks `schema` and `tablePrefix` (they become identifiers) and builds the names. */
export function tableNames(schema: unknown, prefix: unknown): Tables {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema) || schema.length > 63) {
    throw new AuthkestraError(
      'config_invalid',
      '"schema" must be a PostgreSQL identifier (letters, digits, "_"; at most 63 characters)',
    )
  }
  if (
    typeof prefix !== 'string' ||
    (prefix !== '' && !IDENTIFIER.test(prefix)) ||
    prefix.length > MAX_PREFIX
  ) {
    throw new AuthkestraError(
      'config_invalid',
      `"tablePrefix" must be letters, digits and "_" (at most ${MAX_PREFIX} characters)`,
    )
  }
  return {
    schema,
    prefix,
    op: `"${schema}"."${prefix}op_records"`,
    sessions: `"${schema}"."${prefix}sessions"`,
    revocations: `"${schema}"."${prefix}revocations"`,
    credentials: `"${schema}"."${prefix}credentials"`,
    ephemeral: `"${schema}"."${prefix}mfa_ephemeral"`,
    rateLimits: `"${schema}"."${prefix}rate_limits"`,
  }
}

// One key for every authkestra migration in the database: migrations are rare and short.
const MIGRATION_LOCK = `SELECT pg_advisory_xact_lock(hashtext('authkestra.stores.postgres.migrate'))`

/** The DDL, in order. Every statement is idempotent. */
export function migrationStatements(t: Tables): string[] {
  const p = t.prefix
  return [
    `CREATE TABLE IF NOT EXISTS ${t.op} (
      kind text NOT NULL,
      id text NOT NULL,
      value jsonb NOT NULL,
      expires_at bigint NULL,
      consumed integer NOT NULL DEFAULT 0,
      family text NULL,
      PRIMARY KEY (kind, id)
    )`,
    `CREATE INDEX IF NOT EXISTS "${p}op_records_family_idx" ON ${t.op} (family) WHERE family IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS "${p}op_records_expires_idx" ON ${t.op} (expires_at) WHERE expires_at IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${t.sessions} (
      id text PRIMARY KEY,
      value jsonb NOT NULL,
      expires_at bigint NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS "${p}sessions_expires_idx" ON ${t.sessions} (expires_at)`,
    // Sessions tables created before 0.2 have no user_key column.
    `ALTER TABLE ${t.sessions} ADD COLUMN IF NOT EXISTS user_key text NULL`,
    `CREATE INDEX IF NOT EXISTS "${p}sessions_user_key_idx" ON ${t.sessions} (user_key) WHERE user_key IS NOT NULL`,
    // Back-channel logout finds sessions by the provider's subject or session id: indexes on the
    // JSON itself, so rows stored before 0.3 are found too (no column to backfill).
    `CREATE INDEX IF NOT EXISTS "${p}sessions_provider_subject_idx" ON ${t.sessions} ((value->>'provider'), (value->>'subject'))`,
    `CREATE INDEX IF NOT EXISTS "${p}sessions_provider_sid_idx" ON ${t.sessions} ((value->>'provider'), (value->>'providerSid')) WHERE value ? 'providerSid'`,
    `CREATE TABLE IF NOT EXISTS ${t.revocations} (
      key text PRIMARY KEY,
      revoked_at bigint NOT NULL,
      expires_at bigint NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS "${p}revocations_expires_idx" ON ${t.revocations} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${t.credentials} (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      kind text NOT NULL,
      version integer NOT NULL,
      created_at bigint NOT NULL,
      value jsonb NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS "${p}credentials_account_idx" ON ${t.credentials} (account_id, created_at)`,
    `CREATE TABLE IF NOT EXISTS ${t.ephemeral} (
      key text PRIMARY KEY,
      value jsonb NULL,
      hits integer NOT NULL DEFAULT 0,
      expires_at bigint NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS "${p}mfa_ephemeral_expires_idx" ON ${t.ephemeral} (expires_at)`,
    // GCRA: `tat` is fractional ms on the caller's timeline; `expires_at` is it rounded up.
    `CREATE TABLE IF NOT EXISTS ${t.rateLimits} (
      key text PRIMARY KEY,
      tat double precision NOT NULL,
      expires_at bigint NOT NULL,
      allowed boolean NOT NULL DEFAULT false
    )`,
    `CREATE INDEX IF NOT EXISTS "${p}rate_limits_expires_idx" ON ${t.rateLimits} (expires_at)`,
  ]
}

/**
 * Creates the schema (when missing), tables and indexes. Safe to run on every start and from
 * several processes at once.
 */
export async function migrate(run: Run, t: Tables): Promise<void> {
  const ddl = migrationStatements(t)
  await run(
    'migrate',
    async (query) => {
      await query(MIGRATION_LOCK)
      // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists:
      // only ask for it when it is really missing.
      const found = await query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [t.schema])
      if (found.length === 0) await query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`)
      for (const statement of ddl) await query(statement)
    },
    ddl.length + 3,
  )
}
