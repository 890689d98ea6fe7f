// Session store throughput: writes (set) and reads (get) per second for each store, as a ratio
// to the in-memory store measured in the same run. Stores whose server is not reachable are
// skipped with a printed reason.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { RevocationStore } from '../src/engine/revocations/types.ts'
import { createMemorySessionStore } from '../src/engine/sessions/memory.ts'
import type { SessionStore, StoredSession } from '../src/engine/sessions/types.ts'
import { createPostgresStores } from '../src/stores/postgres.ts'
import { createRedisStores } from '../src/stores/redis.ts'
import { createSqliteStores } from '../src/stores/sqlite.ts'
import { type Comparison, compare } from './lib.ts'

const session: StoredSession = {
  user: { id: 'u-1', name: 'Alice Liddell', email: 'alice@example.com' },
  provider: 'idp',
  subject: 'sub-1',
  createdAt: Date.now(),
  expiresAt: Date.now() + 3_600_000,
  lastSeenAt: Date.now(),
}

/** One database store of the run: its session and revocation stores, and a cleanup. */
export interface DatabaseStores {
  name: string
  sessions: SessionStore
  revocations: RevocationStore
  close(): Promise<void>
}

/** The database stores reachable from here (SQLite always; PostgreSQL and Redis when up). */
export async function databaseStores(label: string): Promise<DatabaseStores[]> {
  const out: DatabaseStores[] = []
  const dir = mkdtempSync(join(tmpdir(), 'authkestra-bench-'))
  const db = new Database(join(dir, `${label}.sqlite`))
  db.pragma('journal_mode = WAL')
  const sqlite = createSqliteStores({ database: db })
  await sqlite.migrate()
  out.push({
    name: 'sqlite (file, WAL)',
    sessions: sqlite.sessions,
    revocations: sqlite.revocations,
    close: async () => {
      db.close()
    },
  })
  try {
    const pool = new pg.Pool({
      connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      connectionTimeoutMillis: 2000,
      max: 8,
    })
    const schema = `authkestra_bench_${label}_${process.pid}`
    const postgres = createPostgresStores({ pool, schema })
    await postgres.migrate()
    out.push({
      name: 'postgres',
      sessions: postgres.sessions,
      revocations: postgres.revocations,
      close: async () => {
        postgres.close()
        await pool.query(`DROP SCHEMA ${schema} CASCADE`)
        await pool.end()
      },
    })
  } catch (err) {
    console.log(`postgres skipped: ${(err as Error).message}`)
  }
  try {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
    })
    await redis.connect()
    const prefix = `authkestra-bench-${label}-${process.pid}:`
    const stores = createRedisStores({ redis, prefix })
    out.push({
      name: 'redis',
      sessions: stores.sessions,
      revocations: stores.revocations,
      close: async () => {
        const keys = await redis.keys(`${prefix}*`)
        for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500))
        redis.disconnect()
      },
    })
  } catch (err) {
    console.log(`redis skipped: ${(err as Error).message}`)
  }
  return out
}

export async function storeBenchmarks(): Promise<Comparison[]> {
  const memory = createMemorySessionStore()
  const rows: Comparison[] = []
  let n = 0
  const ids = Array.from({ length: 1000 }, (_, i) => `bench-${i}`)
  for (const id of ids) await memory.set(id, session, 600)
  for (const candidate of await databaseStores('sessions')) {
    for (const id of ids) await candidate.sessions.set(id, session, 600)
    rows.push(
      await compare(
        `session write: ${candidate.name}`,
        ['memory', () => memory.set(`w-${n++ % 1000}`, session, 600)],
        [candidate.name, () => candidate.sessions.set(`w-${n++ % 1000}`, session, 600)],
        { rounds: 3, ms: 300 },
      ),
    )
    rows.push(
      await compare(
        `session read: ${candidate.name}`,
        ['memory', () => memory.get(ids[n++ % 1000] as string)],
        [candidate.name, () => candidate.sessions.get(ids[n++ % 1000] as string)],
        { rounds: 3, ms: 300 },
      ),
    )
    await candidate.close()
  }
  memory.close()
  return rows
}
