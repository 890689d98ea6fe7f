/**
 * Small conversions shared by the PostgreSQL stores: JSON in and out (read as text, so a pool
 * with custom type parsers changes nothing) and times as whole milliseconds.
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import { AuthkestraError } from '../../core/errors.ts'
import type { Row } from './run.ts'

/** The current time in whole milliseconds, for `expires_at > $now`. */
export function nowMs(clock: Clock): number {
  return Math.floor(clock.now())
}

/** The expiry of a record living `ttlSeconds` from now; `null` for no expiry. */
export function expiryMs(clock: Clock, ttlSeconds: number | undefined): number | null {
  if (ttlSeconds === undefined || ttlSeconds === Number.POSITIVE_INFINITY) return null
  if (Number.isNaN(ttlSeconds))
    throw new AuthkestraError('config_invalid', '"ttlSeconds" must be a number')
  return Math.ceil(clock.now() + ttlSeconds * 1000)
}

/** The JSON text of a value, for a `$n::jsonb` parameter. */
export function toJson(value: unknown): string {
  return JSON.stringify(value)
}

/** The value of a row selected as `value::text AS value`. */
export function fromJson<T>(row: Row | undefined): T | undefined {
  if (row === undefined) return undefined
  return JSON.parse(String(row.value)) as T
}
