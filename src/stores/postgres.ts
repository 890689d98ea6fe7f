/**
 * `authkestra/stores/postgres`: the session store of the engine and the store of the embedded OP
 * over PostgreSQL (`pg`), sharing the app's own pool.
 *
 * Every operation is one short transaction under `SET LOCAL statement_timeout` with a JS-side
 * deadline on top; every failure of the database or the network becomes `store_unavailable`
 * (the OP answers 503 `temporarily_unavailable`, the engine its 503 page), and the stores recover
 * by themselves when the database is back, as the pool opens new connections.
 *
 * Rate limits (`rateLimits`, also set as `op.rateLimits` and `sessions.rateLimits`): one row per
 * limiter key with its GCRA "theoretical arrival time"; a hit is one upsert, atomic under any
 * number of connections, so every instance sharing the database shares its limits.
 *
 * @module
 */
import type { Pool } from 'pg'
import { type Clock, systemClock } from '../core/clock.ts'
import { AuthkestraError } from '../core/errors.ts'
import type { RateLimitStore } from '../core/rate-limit.ts'
import type { RevocationStore } from '../engine/revocations/types.ts'
import type { SessionStore } from '../engine/sessions/types.ts'
import type { CredentialStore } from '../mfa/store/types.ts'
import type { OpStore } from '../op/store/types.ts'
import { postgresCredentialStore } from './postgres/credentials.ts'
import { postgresOpStore } from './postgres/op.ts'
import { postgresRateLimitStore } from './postgres/rate-limits.ts'
import { postgresRevocationStore } from './postgres/revocations.ts'
import { createRunner, type Run } from './postgres/run.ts'
import { migrate, type Tables, tableNames } from './postgres/schema.ts'
import { postgresSessionStore } from './postgres/sessions.ts'
import { nowMs } from './postgres/values.ts'

/** Options of {@link createPostgresStores}. */
export interface PostgresStoresOptions {
  /** The app's pool (`new pg.Pool(…)`): the stores borrow clients from it and never end it. */
  readonly pool: Pool
  /** Schema of the tables (default `public`); `migrate` creates it when missing. */
  readonly schema?: string | undefined
  /** Prefix of the table and index names (default `authkestra_`). */
  readonly tablePrefix?: string | undefined
  /** Decides what has expired (default: the system clock). */
  readonly clock?: Clock | undefined
  /** How often expired rows are deleted, in ms (default 60,000). */
  readonly sweepIntervalMs?: number | undefined
  /** Server-side limit of each statement, in ms (default 5,000); the JS deadline adds a grace. */
  readonly statementTimeoutMs?: number | undefined
}

/** The stores, their migration and their shutdown. */
export interface PostgresStores {
  /** For `createAuthkestra({ session: { store } })`. */
  readonly sessions: SessionStore
  /** For `createOp({ store })`. */
  readonly op: OpStore
  /** For `createAuthkestra({ jwt: { revocations } })`. */
  readonly revocations: RevocationStore
  /** Second factors (`createMfa({ store })`, `createOp({ mfa: { store } })`). */
  readonly credentials: CredentialStore
  /**
   * The rate limiter's state (GCRA, one row per key). The same object is `op.rateLimits` and
   * `sessions.rateLimits`, so every instance sharing the database shares its limits.
   */
  readonly rateLimits: RateLimitStore
  /**
   * Creates the schema, tables and indexes if missing. Idempotent; safe from many processes.
   * The rate-limit table, for those who create the schema with their own migration tool:
   *
   * ```sql
   * CREATE TABLE authkestra_rate_limits (key text PRIMARY KEY, tat double precision NOT NULL,
   *   expires_at bigint NOT NULL, allowed boolean NOT NULL DEFAULT false);
   * CREATE INDEX authkestra_rate_limits_expires_idx ON authkestra_rate_limits (expires_at);
   * ```
   */
  migrate(): Promise<void>
  /** Stops the background sweep. Never ends the pool: that is the app's. */
  close(): void
}

const MAX_TIMER_MS = 2_147_483_647
const SWEEP_BATCH = 5_000
const SWEEP_MAX_BATCHES = 20

function positiveInteger(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS)
    throw new AuthkestraError('config_invalid', `"${name}" must be a positive integer (ms)`)
  return value
}

/** Deletes expired rows in batches, so a large backlog never runs into the statement timeout. */
async function sweep(run: Run, t: Tables, clock: Clock): Promise<void> {
  const targets = [
    { table: t.op, key: '(kind, id)', columns: 'kind, id' },
    { table: t.sessions, key: 'id', columns: 'id' },
    { table: t.revocations, key: 'key', columns: 'key' },
    { table: t.ephemeral, key: 'key', columns: 'key' },
    { table: t.rateLimits, key: 'key', columns: 'key' },
  ]
  for (const { table, key, columns } of targets) {
    for (let batch = 0; batch < SWEEP_MAX_BATCHES; batch++) {
      const now = nowMs(clock)
      const deleted = await run('sweep', async (query) => {
        // The outer `expires_at <= $1` is re-checked on rows touched meanwhile: never deletes a
        // session whose expiry was just extended.
        const rows = await query(
          `WITH gone AS (
             DELETE FROM ${table} WHERE expires_at <= $1 AND ${key} IN (
               SELECT ${columns} FROM ${table} WHERE expires_at <= $1 LIMIT ${SWEEP_BATCH})
             RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [now],
        )
        return Number(rows[0]?.n ?? 0)
      })
      if (deleted < SWEEP_BATCH) break
    }
  }
}

// Without a listener, an idle client dropped by the server (a restart, a failover) makes the pool
// emit an unhandled 'error' and ends the process; the pool has already discarded that client.
const ignorePoolError = () => {}

/**
 * Creates the PostgreSQL stores over the app's pool. Call `migrate()` once before use (at start).
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { createAuthkestra } from 'authkestra'
 * import { createOp } from 'authkestra/op'
 * import { createPostgresStores } from 'authkestra/stores/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 })
 * const stores = createPostgresStores({ pool })
 * await stores.migrate()
 * const auth = createAuthkestra({ providers, secret, session: { store: stores.sessions } })
 * const op = await createOp({ issuer, clients, store: stores.op })
 * // at shutdown: stores.close(); await pool.end()
 * ```
 */
export function createPostgresStores(options: PostgresStoresOptions): PostgresStores {
  if (typeof options !== 'object' || options === null)
    throw new AuthkestraError('config_invalid', 'options must be an object')
  const { pool } = options
  if (typeof pool !== 'object' || pool === null || typeof pool.connect !== 'function')
    throw new AuthkestraError('config_invalid', '"pool" must be a pg.Pool')
  const tables = tableNames(options.schema ?? 'public', options.tablePrefix ?? 'authkestra_')
  const timeoutMs = positiveInteger(options.statementTimeoutMs, 5_000, 'statementTimeoutMs')
  const intervalMs = positiveInteger(options.sweepIntervalMs, 60_000, 'sweepIntervalMs')
  const clock = options.clock ?? systemClock
  const run = createRunner(pool, timeoutMs)

  pool.on('error', ignorePoolError)
  let sweeping = false
  const timer = setInterval(() => {
    if (sweeping) return
    sweeping = true
    // A failed sweep (database away) is simply tried again at the next tick.
    sweep(run, tables, clock)
      .catch(() => {})
      .finally(() => {
        sweeping = false
      })
  }, intervalMs)
  timer.unref()
  let closed = false

  const rateLimits = postgresRateLimitStore(run, tables)
  return {
    sessions: { ...postgresSessionStore(run, tables, clock), rateLimits },
    op: { ...postgresOpStore(run, tables, clock), rateLimits },
    rateLimits,
    revocations: postgresRevocationStore(run, tables, clock),
    credentials: postgresCredentialStore(run, tables, clock),
    migrate: () => migrate(run, tables),
    close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      pool.off('error', ignorePoolError)
    },
  }
}
