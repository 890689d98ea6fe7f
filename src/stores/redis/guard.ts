/**
 * Fault handling of the Redis stores: every operation runs under a deadline, and whatever goes
 * wrong (a command error, a refused connection, no reply in time) becomes one
 * `store_unavailable` error that names the operation and never a value.
 *
 * @module
 */
import { AuthkestraError } from '../../core/errors.ts'

/** Runs one store operation under the deadline, translating every failure. */
export type Guard = <T>(operation: string, run: () => Promise<T>) => Promise<T>

/** Thrown inside an operation when Redis answered something the store cannot read. */
export class UnreadableRecord extends Error {
  override name = 'UnreadableRecord'
}

/**
 * A copy of a driver error without what it carries beyond its text: ioredis attaches the failed
 * command with its arguments (`err.command.args`), which hold record values. Operators still see
 * the name, message and errno code.
 */
function safeCause(err: unknown): Error {
  if (!(err instanceof Error)) return new Error('non-error thrown by the redis client')
  const copy = new Error(err.message)
  copy.name = err.name
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') Object.assign(copy, { code })
  return copy
}

/** Builds the guard of one store pair; `isClosed` turns every later call into an error. */
export function createGuard(timeoutMs: number, isClosed: () => boolean): Guard {
  return async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (isClosed()) {
      throw new AuthkestraError('store_unavailable', `${operation} failed: the store is closed`)
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no reply from redis within ${timeoutMs} ms`)),
        timeoutMs,
      )
    })
    try {
      // The losing promise keeps its rejection handler from `race`: a late failure is not unhandled.
      return await Promise.race([run(), deadline])
    } catch (err) {
      if (err instanceof UnreadableRecord) {
        throw new AuthkestraError('store_unavailable', `${operation} failed: unreadable record`, {
          cause: safeCause(err),
        })
      }
      throw new AuthkestraError('store_unavailable', `${operation} failed: redis unavailable`, {
        cause: safeCause(err),
      })
    } finally {
      clearTimeout(timer)
    }
  }
}

/** `JSON.parse` that reports an unreadable record instead of a `SyntaxError` with its text. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UnreadableRecord('a stored value is not valid JSON')
  }
}
