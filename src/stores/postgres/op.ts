/**
 * The PostgreSQL {@link OpStore}: one row per record, keyed by `(kind, id)`. `consume` is one
 * `UPDATE … RETURNING` (row locks make exactly one concurrent caller see `consumed = 1`);
 * `revokeFamily` is one `DELETE`. Expiry is checked on every read against the injected clock.
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
import type { Run } from './run.ts'
import type { Tables } from './schema.ts'
import { expiryMs, fromJson, nowMs, toJson } from './values.ts'

const LIVE = '(expires_at IS NULL OR expires_at > $3)'

/** Builds the OP store over `run`. */
export function postgresOpStore(run: Run, t: Tables, clock: Clock): OpStore {
  return {
    get<K extends OpRecordKind>(kind: K, id: string) {
      const now = nowMs(clock)
      return run('op.get', async (query) => {
        const rows = await query(
          `SELECT value::text AS value FROM ${t.op} WHERE kind = $1 AND id = $2 AND ${LIVE}`,
          [kind, id, now],
        )
        return fromJson<OpRecords[K]>(rows[0])
      })
    },

    // Overwriting starts afresh: a new value is not consumed and takes the new family and TTL.
    async set<K extends OpRecordKind>(
      kind: K,
      id: string,
      value: OpRecords[K],
      opts: OpSetOptions = {},
    ) {
      const expiresAt = expiryMs(clock, opts.ttlSeconds)
      await run('op.set', async (query) => {
        await query(
          `INSERT INTO ${t.op} (kind, id, value, expires_at, consumed, family)
           VALUES ($1, $2, $3::jsonb, $4, 0, $5)
           ON CONFLICT (kind, id) DO UPDATE SET value = EXCLUDED.value,
             expires_at = EXCLUDED.expires_at, consumed = 0, family = EXCLUDED.family`,
          [kind, id, toJson(value), expiresAt, opts.family ?? null],
        )
      })
    },

    delete(kind: OpRecordKind, id: string) {
      return run('op.delete', async (query) => {
        await query(`DELETE FROM ${t.op} WHERE kind = $1 AND id = $2`, [kind, id])
      })
    },

    // `consumed` counts 1 for the first use and stays at 2 for every replay (no overflow).
    consume<K extends ConsumableKind>(kind: K, id: string) {
      const now = nowMs(clock)
      return run('op.consume', async (query): Promise<Consumed<OpRecords[K]> | undefined> => {
        const rows = await query(
          `UPDATE ${t.op} SET consumed = LEAST(consumed + 1, 2)
           WHERE kind = $1 AND id = $2 AND ${LIVE}
           RETURNING value::text AS value, consumed`,
          [kind, id, now],
        )
        const row = rows[0]
        const value = fromJson<OpRecords[K]>(row)
        if (row === undefined || value === undefined) return undefined
        return { value, alreadyConsumed: Number(row.consumed) > 1 }
      })
    },

    // One statement: a new id is inserted, an expired one taken over; a live one yields no row.
    useOnce(id: string, ttlSeconds: number) {
      const now = nowMs(clock)
      const expiresAt = expiryMs(clock, ttlSeconds)
      return run('op.useOnce', async (query) => {
        const rows = await query(
          `INSERT INTO ${t.op} AS r (kind, id, value, expires_at, consumed, family)
           VALUES ('once', $1, '1'::jsonb, $2, 1, NULL)
           ON CONFLICT (kind, id) DO UPDATE SET expires_at = EXCLUDED.expires_at
             WHERE r.expires_at IS NOT NULL AND r.expires_at <= $3
           RETURNING id`,
          [id, expiresAt, now],
        )
        return rows.length === 1
      })
    },

    revokeFamily(family: string) {
      return run('op.revokeFamily', async (query) => {
        await query(`DELETE FROM ${t.op} WHERE family = $1`, [family])
      })
    },

    list<K extends ListableKind>(kind: K) {
      const now = nowMs(clock)
      return run('op.list', async (query) => {
        const rows = await query(
          `SELECT value::text AS value FROM ${t.op}
           WHERE kind = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY id`,
          [kind, now],
        )
        return rows.map((row) => fromJson<OpRecords[K]>(row) as OpRecords[K])
      })
    },
  }
}
