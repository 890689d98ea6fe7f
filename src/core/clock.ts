/**
 * The clock seam: everything that checks an expiry asks a {@link Clock}, so tests can move time.
 *
 * @module
 */

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/**
 * The real clock (`Date.now()`).
 *
 * @example
 * ```ts
 * const seconds = Math.floor(systemClock.now() / 1000)
 * ```
 */
export const systemClock: Clock = { now: () => Date.now() }
