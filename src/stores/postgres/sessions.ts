/**
 * The PostgreSQL {@link SessionStore}: one row per session (the engine passes the SHA-256 of the
 * session id), expiry checked on every read against the injected clock, the user key hash in the
 * indexed `user_key` column for `deleteByUser` (one `DELETE`).
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import type { SessionStore, StoredSession } from '../../engine/sessions/types.ts'
import type { Run } from './run.ts'
import type { Tables } from './schema.ts'
import { expiryMs, fromJson, nowMs, toJson } from './values.ts'

/** Builds the session store over `run`. */
export function postgresSessionStore(run: Run, t: Tables, clock: Clock): SessionStore {
  return {
    get(id) {
      const now = nowMs(clock)
      return run('sessions.get', async (query) => {
        const rows = await query(
          `SELECT value::text AS value FROM ${t.sessions} WHERE id = $1 AND expires_at > $2`,
          [id, now],
        )
        return fromJson<StoredSession>(rows[0])
      })
    },

    async set(id, session, ttlSeconds) {
      const expiresAt = expiryMs(clock, ttlSeconds)
      await run('sessions.set', async (query) => {
        await query(
          `INSERT INTO ${t.sessions} (id, value, expires_at, user_key)
           VALUES ($1, $2::jsonb, $3, $4)
           ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at,
             user_key = EXCLUDED.user_key`,
          [id, toJson(session), expiresAt, session.userKey ?? null],
        )
      })
    },

    delete: (id) =>
      run('sessions.delete', async (query) => {
        await query(`DELETE FROM ${t.sessions} WHERE id = $1`, [id])
      }),

    deleteByUser: (userKey) =>
      run('sessions.deleteByUser', async (query) => {
        await query(`DELETE FROM ${t.sessions} WHERE user_key = $1`, [userKey])
      }),

    deleteByProviderSubject: (provider, subject) =>
      run('sessions.deleteByProviderSubject', async (query) => {
        await query(
          `DELETE FROM ${t.sessions} WHERE value->>'provider' = $1 AND value->>'subject' = $2`,
          [provider, subject],
        )
      }),

    deleteByProviderSession: (provider, sid) =>
      run('sessions.deleteByProviderSession', async (query) => {
        await query(
          `DELETE FROM ${t.sessions}
           WHERE value ? 'providerSid' AND value->>'provider' = $1 AND value->>'providerSid' = $2`,
          [provider, sid],
        )
      }),

    // Only a live session is touched: touching never brings an expired one back.
    async touch(id, lastSeenAt, ttlSeconds) {
      const expiresAt = expiryMs(clock, ttlSeconds)
      const now = nowMs(clock)
      await run('sessions.touch', async (query) => {
        await query(
          `UPDATE ${t.sessions}
           SET value = jsonb_set(value, '{lastSeenAt}', $2::jsonb), expires_at = $3
           WHERE id = $1 AND expires_at > $4`,
          [id, toJson(lastSeenAt), expiresAt, now],
        )
      })
    },
  }
}
