/**
 * The PostgreSQL {@link RevocationStore}: one row per revoked key, when it was revoked and until
 * when it matters (ms, by the injected clock). Revoking again keeps the later of each (one
 * upsert); `revokedAt` reads every key in one `SELECT … = ANY($1)`.
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import type { RevocationStore } from '../../engine/revocations/types.ts'
import type { Run } from './run.ts'
import type { Tables } from './schema.ts'
import { nowMs } from './values.ts'

/** Builds the revocation store over `run`. */
export function postgresRevocationStore(run: Run, t: Tables, clock: Clock): RevocationStore {
  return {
    revoke: (key, revokedAt, until) =>
      run('revocations.revoke', async (query) => {
        await query(
          `INSERT INTO ${t.revocations} AS r (key, revoked_at, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET
             revoked_at = GREATEST(r.revoked_at, EXCLUDED.revoked_at),
             expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at)`,
          [key, Math.floor(revokedAt), Math.ceil(until)],
        )
      }),

    async revokedAt(keys) {
      if (keys.length === 0) return []
      const now = nowMs(clock)
      const rows = await run('revocations.revokedAt', (query) =>
        query(
          `SELECT key, revoked_at FROM ${t.revocations} WHERE key = ANY($1::text[]) AND expires_at > $2`,
          [[...keys], now],
        ),
      )
      const found = new Map(rows.map((r) => [String(r.key), Number(r.revoked_at)]))
      return keys.map((key) => found.get(key))
    },
  }
}
