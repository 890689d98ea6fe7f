/**
 * The thin layer between the stores and a better-sqlite3 connection: statements prepared once
 * (lazily, so the tables may be created after the store), every driver failure turned into a
 * `store_unavailable` error that names the operation and carries no value, and TTL arithmetic.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { Clock } from '../../core/clock.ts'
import { AuthkestraError } from '../../core/errors.ts'

/** A connection with a statement cache and error mapping. */
export interface SqliteDriver {
  /** The cached prepared statement for `sql` (prepares it on first use). */
  statement(sql: string): BetterSqlite3.Statement
  /**
   * Runs `fn`; a driver error (SQLITE_BUSY, SQLITE_IOERR, closed connection, missing table, …)
   * becomes `AuthkestraError('store_unavailable')` naming `operation`, with the error as `cause`.
   */
  guard<T>(operation: string, fn: () => T): T
}

/** Wraps `database` (never closed or reconfigured here). */
export function sqliteDriver(database: BetterSqlite3.Database): SqliteDriver {
  const statements = new Map<string, BetterSqlite3.Statement>()
  return {
    statement(sql) {
      let stmt = statements.get(sql)
      if (!stmt) {
        stmt = database.prepare(sql)
        statements.set(sql, stmt)
      }
      return stmt
    },
    guard(operation, fn) {
      try {
        return fn()
      } catch (err) {
        if (err instanceof AuthkestraError) throw err
        const hint = /no such table/i.test(String((err as Error | undefined)?.message))
          ? ' (its tables are missing: call migrate() first)'
          : ''
        throw new AuthkestraError('store_unavailable', `SQLite store: ${operation} failed${hint}`, {
          cause: err,
        })
      }
    },
  }
}

/**
 * The absolute expiry (ms since the epoch, an integer) of something living `ttlSeconds` from now.
 * A non-finite TTL is refused: SQLite would store NaN as NULL, which means "never expires".
 */
export function expiryMs(clock: Clock, ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds)) {
    throw new AuthkestraError('config_invalid', 'SQLite store: "ttlSeconds" must be finite')
  }
  return Math.ceil(clock.now() + ttlSeconds * 1000)
}
