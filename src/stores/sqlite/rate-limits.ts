/**
 * The SQLite {@link RateLimitStore}: one row per limiter key holding its GCRA "theoretical arrival
 * time" (`tat`, fractional ms on the caller's timeline), `expires_at` (the TAT rounded up, for the
 * sweep) and `allowed` (whether the last hit was spent). A hit is one upsert whose `CASE` does
 * what `gcraStep` does: the same double arithmetic in the same order, so the decisions are
 * identical. A TAT at or before "now" counts as absent. SQLite runs the statement under its write
 * lock, so hits are atomic across connections and processes.
 *
 * Keys are opaque strings (callers hash what a user typed, so they stay short: ≤ 200 characters
 * is the expectation); they are stored as given.
 *
 * @module
 */
import {
  decisionAfter,
  gcraStep,
  type RateLimitRule,
  type RateLimitStore,
} from '../../core/rate-limit.ts'
import type { SqliteDriver } from './driver.ts'

/** `ceil(x)` without the optional math functions: CAST truncates toward zero. */
const ceil = (x: string) => `(CAST(${x} AS INTEGER) + (${x} > CAST(${x} AS INTEGER)))`

/** The bound parameters of a hit: the numbers exactly as `gcraStep` derives them. */
function parameters(key: string, rule: RateLimitRule, nowMs: number) {
  const windowMs = rule.windowSeconds * 1000
  return { key, now: nowMs, interval: windowMs / rule.limit, window: windowMs }
}

/** A rate-limit store over the table `table` (a quoted name from `sqliteTables`). */
export function sqliteRateLimitStore(db: SqliteDriver, table: string): RateLimitStore {
  // `next` and `ok` of gcraStep, for a stored TAT `tat` (in the SET, the row's old value).
  const next = (tat: string) => `(max(${tat}, @now) + @interval)`
  const ok = (tat: string) => `(${next(tat)} - @window <= @now)`
  const fresh = '@now'
  const sql = {
    // Absent: tat = now. Present: the old row (every SET expression reads the old values).
    // Refused, the row stays as it was (or, new, holds tat = now: the same as absent).
    hit: `INSERT INTO ${table} (key, tat, expires_at, allowed)
      VALUES (@key,
        CASE WHEN ${ok(fresh)} THEN ${next(fresh)} ELSE @now END,
        CASE WHEN ${ok(fresh)} THEN ${ceil(next(fresh))} ELSE ${ceil('@now')} END,
        ${ok(fresh)})
      ON CONFLICT (key) DO UPDATE SET
        tat = CASE WHEN ${ok('tat')} THEN ${next('tat')} ELSE tat END,
        expires_at = CASE WHEN ${ok('tat')} THEN ${ceil(next('tat'))} ELSE expires_at END,
        allowed = ${ok('tat')}
      RETURNING tat, allowed`,
    peek: `SELECT tat FROM ${table} WHERE key = ?`,
    reset: `DELETE FROM ${table} WHERE key = ?`,
  }

  return {
    async hit(key, rule, nowMs) {
      return db.guard('rate limit hit', () => {
        const row = db.statement(sql.hit).get(parameters(key, rule, nowMs)) as {
          tat: number
          allowed: number | bigint
        }
        // Number(): the connection may read integers as BigInt.
        const tat = Number(row.tat)
        return Number(row.allowed) === 1
          ? decisionAfter(tat, rule, nowMs)
          : gcraStep(tat, rule, nowMs).decision
      })
    },
    async peek(key, rule, nowMs) {
      return db.guard('rate limit peek', () => {
        const row = db.statement(sql.peek).get(key) as { tat: number } | undefined
        return gcraStep(row === undefined ? undefined : Number(row.tat), rule, nowMs).decision
      })
    },
    async reset(key) {
      db.guard('rate limit reset', () => {
        db.statement(sql.reset).run(key)
      })
    },
  }
}
