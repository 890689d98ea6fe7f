/**
 * The SQLite {@link SessionStore}: one row per session, its JSON in `value`, its end in
 * `expires_at` (ms), its user key hash in the indexed `user_key` (for `deleteByUser`, one
 * `DELETE`); the provider's subject and session id are found through indexes on the JSON (for
 * back-channel logout). A row past `expires_at` is absent for every method, swept or not.
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import type { SessionStore, StoredSession } from '../../engine/sessions/types.ts'
import { expiryMs, type SqliteDriver } from './driver.ts'
import { SESSION_JSON } from './schema.ts'

/** A session store over the sessions table `table` (a quoted name from `sqliteTables`). */
export function sqliteSessionStore(db: SqliteDriver, table: string, clock: Clock): SessionStore {
  const sql = {
    get: `SELECT value FROM ${table} WHERE id = ? AND expires_at > ?`,
    set: `INSERT INTO ${table} (id, value, expires_at, user_key) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
        user_key = excluded.user_key`,
    deleteByUser: `DELETE FROM ${table} WHERE user_key = ?`,
    deleteByProviderSubject: `DELETE FROM ${table}
      WHERE ${SESSION_JSON.provider} = ? AND ${SESSION_JSON.subject} = ?`,
    deleteByProviderSession: `DELETE FROM ${table}
      WHERE ${SESSION_JSON.provider} = ? AND ${SESSION_JSON.providerSid} = ?`,
    delete: `DELETE FROM ${table} WHERE id = ?`,
    // One statement: the JSON is patched in place, and an expired session is not revived.
    touch: `UPDATE ${table} SET value = json_set(value, '$.lastSeenAt', json(?)), expires_at = ?
      WHERE id = ? AND expires_at > ?`,
  }

  return {
    async get(id) {
      return db.guard('session get', () => {
        const row = db.statement(sql.get).get(id, clock.now()) as { value: string } | undefined
        return row ? (JSON.parse(row.value) as StoredSession) : undefined
      })
    },
    async set(id, session, ttlSeconds) {
      db.guard('session set', () => {
        db.statement(sql.set).run(
          id,
          JSON.stringify(session),
          expiryMs(clock, ttlSeconds),
          session.userKey ?? null,
        )
      })
    },
    async delete(id) {
      db.guard('session delete', () => {
        db.statement(sql.delete).run(id)
      })
    },
    async deleteByUser(userKey) {
      db.guard('session deleteByUser', () => {
        db.statement(sql.deleteByUser).run(userKey)
      })
    },
    async deleteByProviderSubject(provider, subject) {
      db.guard('session deleteByProviderSubject', () => {
        db.statement(sql.deleteByProviderSubject).run(provider, subject)
      })
    },
    async deleteByProviderSession(provider, sid) {
      db.guard('session deleteByProviderSession', () => {
        db.statement(sql.deleteByProviderSession).run(provider, sid)
      })
    },
    async touch(id, lastSeenAt, ttlSeconds) {
      db.guard('session touch', () => {
        db.statement(sql.touch).run(
          JSON.stringify(lastSeenAt),
          expiryMs(clock, ttlSeconds),
          id,
          clock.now(),
        )
      })
    },
  }
}
