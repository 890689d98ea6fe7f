/**
 * The SQLite {@link CredentialStore}: credentials as rows of `<prefix>credentials` (the JSON
 * record with its id, account, kind and version as columns), challenges and attempt counters as
 * rows of `<prefix>mfa_ephemeral` with an expiry. Every write is one statement: compare-and-set is
 * `UPDATE … WHERE version = ?`, taking a challenge `DELETE … RETURNING`, a hit one upsert.
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import type { CredentialKind, CredentialStore, StoredCredential } from '../../mfa/store/types.ts'
import { expiryMs, type SqliteDriver } from './driver.ts'

/** A credential store over the two tables (quoted names from `sqliteTables`). */
export function sqliteCredentialStore(
  db: SqliteDriver,
  tables: { credentials: string; ephemeral: string },
  clock: Clock,
): CredentialStore {
  const { credentials: t, ephemeral: e } = tables
  const rows = (sql: string, ...args: unknown[]) =>
    (db.statement(sql).all(...args) as { value: string }[]).map(
      (r) => JSON.parse(r.value) as StoredCredential,
    )
  return {
    async list(accountId) {
      return db.guard('credentials list', () =>
        rows(`SELECT value FROM ${t} WHERE account_id = ? ORDER BY created_at, id`, accountId),
      )
    },
    async get(id) {
      return db.guard('credentials get', () => rows(`SELECT value FROM ${t} WHERE id = ?`, id)[0])
    },
    async add(c) {
      return db.guard('credentials add', () => {
        const sql = `INSERT INTO ${t} (id, account_id, kind, version, created_at, value)
          VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
        const info = db
          .statement(sql)
          .run(c.id, c.accountId, c.kind, c.version, c.createdAt, JSON.stringify(c))
        return info.changes === 1
      })
    },
    async update(c) {
      return db.guard('credentials update', () => {
        const sql = `UPDATE ${t} SET version = ?, value = ?
          WHERE id = ? AND account_id = ? AND version = ?`
        const info = db
          .statement(sql)
          .run(c.version, JSON.stringify(c), c.id, c.accountId, c.version - 1)
        return info.changes === 1
      })
    },
    async remove(accountId, id) {
      return db.guard('credentials remove', () => {
        const sql = `DELETE FROM ${t} WHERE id = ? AND account_id = ?`
        return db.statement(sql).run(id, accountId).changes === 1
      })
    },
    async removeAll(accountId, kind?: CredentialKind) {
      return db.guard('credentials removeAll', () => {
        const sql =
          kind === undefined
            ? `DELETE FROM ${t} WHERE account_id = ?`
            : `DELETE FROM ${t} WHERE account_id = ? AND kind = ?`
        const args = kind === undefined ? [accountId] : [accountId, kind]
        return db.statement(sql).run(...args).changes
      })
    },
    async putChallenge(id, value, ttlSeconds) {
      const expires = expiryMs(clock, ttlSeconds)
      db.guard('credentials putChallenge', () => {
        const sql = `INSERT INTO ${e} (key, value, hits, expires_at) VALUES (?, ?, 0, ?)
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`
        db.statement(sql).run(`c:${id}`, JSON.stringify(value), expires)
      })
    },
    async takeChallenge(id) {
      return db.guard('credentials takeChallenge', () => {
        const sql = `DELETE FROM ${e} WHERE key = ? AND expires_at > ? RETURNING value`
        const row = db.statement(sql).get(`c:${id}`, clock.now()) as { value: string } | undefined
        return row && (JSON.parse(row.value) as Record<string, unknown>)
      })
    },
    async hit(key, windowSeconds) {
      const expires = expiryMs(clock, windowSeconds)
      return db.guard('credentials hit', () => {
        // Every right-hand side reads the row as it was: a window that ended starts again.
        const sql = `INSERT INTO ${e} (key, value, hits, expires_at) VALUES (?, NULL, 1, ?)
          ON CONFLICT (key) DO UPDATE SET
            hits = CASE WHEN expires_at <= ? THEN 1 ELSE hits + 1 END,
            expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END
          RETURNING hits`
        const now = clock.now()
        const row = db.statement(sql).get(`h:${key}`, expires, now, now) as { hits: number }
        return Number(row.hits)
      })
    },
    async clearHits(key) {
      db.guard('credentials clearHits', () => {
        db.statement(`DELETE FROM ${e} WHERE key = ?`).run(`h:${key}`)
      })
    },
  }
}
