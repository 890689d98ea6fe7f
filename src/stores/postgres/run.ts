/**
 * Every PostgreSQL store operation runs through here: one client from the user's pool, one short
 * transaction with `SET LOCAL statement_timeout` (so it works on any pool, PgBouncer in transaction
 * mode included, and never changes the pool's connections for other queries), and a JS-side
 * deadline so a hung connection cannot hang a request. Any failure, whatever the driver threw,
 * becomes `store_unavailable` with the operation's name and no values.
 *
 * @module
 */
import type { Pool, PoolClient } from 'pg'
import { AuthkestraError } from '../../core/errors.ts'

/** A row as read by the stores: columns by name. */
export type Row = Readonly<Record<string, unknown>>

/** Runs one parameterised statement inside the operation's transaction. */
export type Query = (text: string, values?: readonly unknown[]) => Promise<readonly Row[]>

/**
 * Runs `work` in one transaction, each statement under the statement timeout, the whole under a
 * JS deadline of `statements` × the timeout plus a grace period.
 */
export type Run = <T>(
  operation: string,
  work: (query: Query) => Promise<T>,
  statements?: number,
) => Promise<T>

/** The error every store operation fails with when the database cannot answer. */
export function unavailable(operation: string, cause: unknown): AuthkestraError {
  return new AuthkestraError('store_unavailable', `${operation} failed: database unavailable`, {
    cause,
  })
}

// Errors on a checked-out client (a backend terminated between two queries) would otherwise be
// an unhandled 'error' event; the failure reaches the pending query, and the client is discarded.
const ignoreClientError = () => {}

/** Builds the runner over the user's pool. `timeoutMs` is a validated positive integer. */
export function createRunner(pool: Pool, timeoutMs: number): Run {
  const begin = `BEGIN; SET LOCAL statement_timeout = ${timeoutMs}`
  const grace = Math.min(timeoutMs, 1000)

  return async function run<T>(
    operation: string,
    work: (query: Query) => Promise<T>,
    statements = 1,
  ): Promise<T> {
    let client: PoolClient | undefined
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined

    // Hands the client back: healthy after a commit, destroyed after anything else (a failed or
    // abandoned transaction, a dead socket): the pool opens a fresh connection next time.
    const giveBack = (failure: Error | undefined) => {
      const held = client
      client = undefined
      if (!held) return
      held.off('error', ignoreClientError)
      held.release(failure)
    }

    const attempt = (async () => {
      const connected = await pool.connect()
      if (settled) {
        // The deadline passed while connecting: nobody waits for this client any more.
        connected.release()
        throw new Error('abandoned')
      }
      client = connected
      connected.on('error', ignoreClientError)
      const query: Query = async (text, values) => {
        if (client !== connected) throw new Error('abandoned')
        const result = await connected.query(text, values as unknown[] | undefined)
        return result.rows as Row[]
      }
      await query(begin)
      const result = await work(query)
      await query('COMMIT')
      return result
    })()
    attempt.catch(() => {}) // a late failure after the deadline is already reported

    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${timeoutMs * statements + grace} ms`)),
        timeoutMs * statements + grace,
      )
    })

    try {
      const result = await Promise.race([attempt, deadline])
      giveBack(undefined)
      return result
    } catch (cause) {
      giveBack(cause instanceof Error ? cause : new Error('store operation failed'))
      throw unavailable(operation, cause)
    } finally {
      settled = true
      clearTimeout(timer)
    }
  }
}
