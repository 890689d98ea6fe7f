/**
 * The PostgreSQL {@link RateLimitStore}: one row per limiter key holding its GCRA "theoretical
 * arrival time" (`tat`, `double precision` ms on the caller's timeline), `expires_at` (the TAT
 * rounded up, `bigint`, for the sweep) and `allowed` (whether the last hit was spent). A hit is
 * one `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING` whose `CASE` does what `gcraStep` does,
 * the same IEEE double arithmetic in the same order, so the decisions are identical. A TAT at or
 * before "now" counts as absent. Concurrent hits on one key queue on its row lock, and each
 * update sees the one before it (READ COMMITTED re-reads the conflicting row), so exactly
 * `limit` of a burst get through whatever the number of connections.
 *
 * Keys are opaque strings (callers hash what a user typed, so they stay short: ≤ 200 characters
 * is the expectation); they are stored as given.
 *
 * @module
 */
import { decisionAfter, gcraStep, type RateLimitStore } from '../../core/rate-limit.ts'
import type { Row, Run } from './run.ts'
import type { Tables } from './schema.ts'

// $1 key, $2 now, $3 interval, $4 window (ms, float8). `next` and `ok` of gcraStep for a stored
// TAT; a new key counts from now. Every SET expression reads the row's old values.
const next = (tat: string) => `(GREATEST(${tat}, $2::float8) + $3::float8)`
const ok = (tat: string) => `(${next(tat)} - $4::float8 <= $2::float8)`
const FRESH = '$2::float8'
// The TAT's eight IEEE bytes: exact whatever `extra_float_digits` or the pool's type parsers say
// (a float8 read as text may lose its last digits).
const EXACT_TAT = `encode(float8send(tat), 'hex') AS tat`

/** The TAT of a row selected as {@link EXACT_TAT}. */
function tatOf(row: Row): number {
  const hex = String(row.tat)
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new Error('unreadable rate-limit row')
  return Buffer.from(hex, 'hex').readDoubleBE(0)
}

/** Builds the rate-limit store over `run`. */
export function postgresRateLimitStore(run: Run, t: Tables): RateLimitStore {
  // Refused, the row stays as it was (or, new, holds tat = now: the same as absent).
  const hit = `INSERT INTO ${t.rateLimits} AS r (key, tat, expires_at, allowed)
    VALUES ($1,
      CASE WHEN ${ok(FRESH)} THEN ${next(FRESH)} ELSE $2::float8 END,
      ceil(CASE WHEN ${ok(FRESH)} THEN ${next(FRESH)} ELSE $2::float8 END)::bigint,
      ${ok(FRESH)})
    ON CONFLICT (key) DO UPDATE SET
      tat = CASE WHEN ${ok('r.tat')} THEN ${next('r.tat')} ELSE r.tat END,
      expires_at = CASE WHEN ${ok('r.tat')} THEN ceil(${next('r.tat')})::bigint
        ELSE r.expires_at END,
      allowed = ${ok('r.tat')}
    RETURNING ${EXACT_TAT}, allowed::int AS allowed`

  return {
    hit(key, rule, nowMs) {
      const windowMs = rule.windowSeconds * 1000
      return run('rateLimits.hit', async (query) => {
        const [row] = await query(hit, [key, nowMs, windowMs / rule.limit, windowMs])
        if (row === undefined) throw new Error('no row returned')
        const tat = tatOf(row)
        return Number(row.allowed) === 1
          ? decisionAfter(tat, rule, nowMs)
          : gcraStep(tat, rule, nowMs).decision
      })
    },
    peek(key, rule, nowMs) {
      return run('rateLimits.peek', async (query) => {
        const [row] = await query(`SELECT ${EXACT_TAT} FROM ${t.rateLimits} WHERE key = $1`, [key])
        return gcraStep(row === undefined ? undefined : tatOf(row), rule, nowMs).decision
      })
    },
    async reset(key) {
      await run('rateLimits.reset', (query) =>
        query(`DELETE FROM ${t.rateLimits} WHERE key = $1`, [key]),
      )
    },
  }
}
