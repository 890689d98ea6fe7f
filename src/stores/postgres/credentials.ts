/**
 * The PostgreSQL {@link CredentialStore}: credentials as rows of `<prefix>credentials` (the JSON
 * record, with id, account, kind and version as columns), challenges and attempt counters as rows
 * of `<prefix>mfa_ephemeral` with an expiry by the injected clock. Each write is one statement:
 * compare-and-set is `UPDATE … WHERE version = $n`, taking a challenge `DELETE … RETURNING`, a hit
 * one upsert (row-locked, so concurrent hits count one by one).
 *
 * @module
 */
import type { Clock } from '../../core/clock.ts'
import type { CredentialStore, StoredCredential } from '../../mfa/store/types.ts'
import type { Run } from './run.ts'
import type { Tables } from './schema.ts'
import { expiryMs, fromJson, nowMs, toJson } from './values.ts'

/** Builds the credential store over `run`. */
export function postgresCredentialStore(run: Run, t: Tables, clock: Clock): CredentialStore {
  const c = t.credentials
  const e = t.ephemeral
  return {
    list: (accountId) =>
      run('credentials.list', async (query) => {
        const rows = await query(
          `SELECT value::text AS value FROM ${c} WHERE account_id = $1 ORDER BY created_at, id`,
          [accountId],
        )
        return rows.map((row) => fromJson<StoredCredential>(row) as StoredCredential)
      }),
    get: (id) =>
      run('credentials.get', async (query) =>
        fromJson<StoredCredential>(
          (await query(`SELECT value::text AS value FROM ${c} WHERE id = $1`, [id]))[0],
        ),
      ),
    add: (cred) =>
      run('credentials.add', async (query) => {
        const rows = await query(
          `INSERT INTO ${c} (id, account_id, kind, version, created_at, value)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (id) DO NOTHING RETURNING 1`,
          [cred.id, cred.accountId, cred.kind, cred.version, cred.createdAt, toJson(cred)],
        )
        return rows.length === 1
      }),
    update: (cred) =>
      run('credentials.update', async (query) => {
        const rows = await query(
          `UPDATE ${c} SET version = $1, value = $2::jsonb
           WHERE id = $3 AND account_id = $4 AND version = $5 RETURNING 1`,
          [cred.version, toJson(cred), cred.id, cred.accountId, cred.version - 1],
        )
        return rows.length === 1
      }),
    remove: (accountId, id) =>
      run('credentials.remove', async (query) => {
        const rows = await query(`DELETE FROM ${c} WHERE id = $1 AND account_id = $2 RETURNING 1`, [
          id,
          accountId,
        ])
        return rows.length === 1
      }),
    removeAll: (accountId, kind) =>
      run('credentials.removeAll', async (query) => {
        const rows = await query(
          `DELETE FROM ${c} WHERE account_id = $1 AND ($2::text IS NULL OR kind = $2) RETURNING 1`,
          [accountId, kind ?? null],
        )
        return rows.length
      }),
    putChallenge: (id, value, ttlSeconds) => {
      const expires = expiryMs(clock, ttlSeconds)
      return run('credentials.putChallenge', async (query) => {
        await query(
          `INSERT INTO ${e} (key, value, hits, expires_at) VALUES ($1, $2::jsonb, 0, $3)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
          [`c:${id}`, toJson(value), expires],
        )
      })
    },
    takeChallenge: (id) =>
      run('credentials.takeChallenge', async (query) =>
        fromJson<Record<string, unknown>>(
          (
            await query(
              `DELETE FROM ${e} WHERE key = $1 AND expires_at > $2 RETURNING value::text AS value`,
              [`c:${id}`, nowMs(clock)],
            )
          )[0],
        ),
      ),
    hit: (key, windowSeconds) => {
      const expires = expiryMs(clock, windowSeconds)
      return run('credentials.hit', async (query) => {
        // Every right-hand side reads the row as it was: a window that ended starts again.
        const rows = await query(
          `INSERT INTO ${e} AS x (key, value, hits, expires_at) VALUES ($1, NULL, 1, $2)
           ON CONFLICT (key) DO UPDATE SET
             hits = CASE WHEN x.expires_at <= $3 THEN 1 ELSE x.hits + 1 END,
             expires_at = CASE WHEN x.expires_at <= $3 THEN EXCLUDED.expires_at ELSE x.expires_at END
           RETURNING hits`,
          [`h:${key}`, expires, nowMs(clock)],
        )
        return Number(rows[0]?.hits)
      })
    },
    clearHits: (key) =>
      run('credentials.clearHits', async (query) => {
        await query(`DELETE FROM ${e} WHERE key = $1`, [`h:${key}`])
      }),
  }
}
