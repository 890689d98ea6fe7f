/**
 * The SQLite {@link RevocationStore}: one row per revoked key with when it was revoked and until
 * when it matters (ms). Revoking again keeps the later of each (one upsert); `revokedAt` reads
 * every key in one `SELECT`. A row past `expires_at` is absent, swept or not.
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import type { RevocationStore } from '../../engine/revocations/types.ts'
import type { SqliteDriver } from './driver.ts'

/** A revocation store over the table `table` (a quoted name from `sqliteTables`). */
export function sqliteRevocationStore(
  db: SqliteDriver,
  table: string,
  clock: Clock,
): RevocationStore {
  const revoke = `INSERT INTO ${table} (key, revoked_at, expires_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET revoked_at = max(revoked_at, excluded.revoked_at),
      expires_at = max(expires_at, excluded.expires_at)`
  const select = (n: number) =>
    `SELECT key, revoked_at FROM ${table} WHERE expires_at > ? AND key IN (${Array(n).fill('?').join(', ')})`

  return {
    async revoke(key, revokedAt, until) {
      db.guard('revocation revoke', () => {
        db.statement(revoke).run(key, Math.floor(revokedAt), Math.ceil(until))
      })
    },
    async revokedAt(keys) {
      if (keys.length === 0) return []
      return db.guard('revocation revokedAt', () => {
        const rows = db.statement(select(keys.length)).all(clock.now(), ...keys) as {
          key: string
          revoked_at: number
        }[]
        const found = new Map(rows.map((r) => [r.key, Number(r.revoked_at)]))
        return keys.map((key) => found.get(key))
      })
    },
  }
}
