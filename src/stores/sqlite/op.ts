/**
 * The SQLite {@link OpStore}: one row per record, keyed by `(kind, id)`. `consume` is a single
 * `UPDATE … RETURNING` (SQLite runs it under its write lock, so it is atomic across connections
 * and processes); `revokeFamily` is a single `DELETE`. A row past `expires_at` is absent.
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import type {
  ConsumableKind,
  Consumed,
  ListableKind,
  OpRecordKind,
  OpRecords,
  OpSetOptions,
  OpStore,
} from '../../op/store/types.ts'
import { expiryMs, type SqliteDriver } from './driver.ts'

const LIVE = '(expires_at IS NULL OR expires_at > ?)'

/** An OP store over the records table `table` (a quoted name from `sqliteTables`). */
export function sqliteOpStore(db: SqliteDriver, table: string, clock: Clock): OpStore {
  const sql = {
    get: `SELECT value FROM ${table} WHERE kind = ? AND id = ? AND ${LIVE}`,
    set: `INSERT INTO ${table} (kind, id, value, expires_at, consumed, family)
      VALUES (?, ?, ?, ?, 0, ?)
      ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value,
        expires_at = excluded.expires_at, consumed = 0, family = excluded.family`,
    delete: `DELETE FROM ${table} WHERE kind = ? AND id = ?`,
    consume: `UPDATE ${table} SET consumed = consumed + 1
      WHERE kind = ? AND id = ? AND ${LIVE} RETURNING value, consumed`,
    revokeFamily: `DELETE FROM ${table} WHERE family = ?`,
    // One statement: a new id is inserted, an expired one taken over; a live one is left alone
    // and RETURNING yields no row.
    useOnce: `INSERT INTO ${table} (kind, id, value, expires_at, consumed, family)
      VALUES ('once', ?, '1', ?, 1, NULL)
      ON CONFLICT (kind, id) DO UPDATE SET expires_at = excluded.expires_at
        WHERE ${table}.expires_at IS NOT NULL AND ${table}.expires_at <= ?
      RETURNING id`,
    list: `SELECT value FROM ${table} WHERE kind = ? AND ${LIVE} ORDER BY id`,
  }

  return {
    async get<K extends OpRecordKind>(kind: K, id: string) {
      return db.guard('op get', () => {
        const row = db.statement(sql.get).get(kind, id, clock.now()) as
          | { value: string }
          | undefined
        return row ? (JSON.parse(row.value) as OpRecords[K]) : undefined
      })
    },
    async set<K extends OpRecordKind>(
      kind: K,
      id: string,
      value: OpRecords[K],
      options: OpSetOptions = {},
    ) {
      db.guard('op set', () => {
        const expiresAt =
          options.ttlSeconds === undefined ? null : expiryMs(clock, options.ttlSeconds)
        db.statement(sql.set).run(
          kind,
          id,
          JSON.stringify(value),
          expiresAt,
          options.family ?? null,
        )
      })
    },
    async delete(kind: OpRecordKind, id: string) {
      db.guard('op delete', () => {
        db.statement(sql.delete).run(kind, id)
      })
    },
    async consume<K extends ConsumableKind>(
      kind: K,
      id: string,
    ): Promise<Consumed<OpRecords[K]> | undefined> {
      return db.guard('op consume', () => {
        const row = db.statement(sql.consume).get(kind, id, clock.now()) as
          | { value: string; consumed: number | bigint }
          | undefined
        if (!row) return undefined
        // `consumed` counts calls: the first caller is the one that moved it from 0 to 1.
        // Number(): the connection may have been opened with safe integers (BigInt) on.
        const alreadyConsumed = Number(row.consumed) !== 1
        return { value: JSON.parse(row.value) as OpRecords[K], alreadyConsumed }
      })
    },
    async useOnce(id: string, ttlSeconds: number) {
      return db.guard('op useOnce', () => {
        const now = clock.now()
        const row = db.statement(sql.useOnce).get(id, expiryMs(clock, ttlSeconds), now)
        return row !== undefined
      })
    },
    async revokeFamily(family: string) {
      db.guard('op revokeFamily', () => {
        db.statement(sql.revokeFamily).run(family)
      })
    },
    async list<K extends ListableKind>(kind: K) {
      return db.guard('op list', () => {
        const rows = db.statement(sql.list).all(kind, clock.now()) as { value: string }[]
        return rows.map((row) => JSON.parse(row.value) as OpRecords[K])
      })
    },
  }
}
