// Session store throughput: writes (set) and reads (get) per second for each store, and rate-limit
// hits (one upsert or script each), as a ratio to the in-memory store measured in the same run. Stores whose server is not reachable are
// skipped with a printed reason.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import pg from 'pg'
import { systemClock } from '../src/core/clock.ts'
import { createMemoryRateLimitStore, type RateLimitStore } from '../src/core/rate-limit.ts'
import type { GuardRequest } from '../src/engine/guards/types.ts'
import type { RevocationStore } from '../src/engine/revocations/types.ts'
import { SessionManager } from '../src/engine/sessions/manager.ts'
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
  rateLimits: RateLimitStore
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
    rateLimits: sqlite.rateLimits,
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
      rateLimits: postgres.rateLimits,
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
      rateLimits: stores.rateLimits,
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
  const limits = createMemoryRateLimitStore()
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
    // Mostly allowed (a generous rule over 1000 keys): the upsert or script that spends a hit.
    const rule = { limit: 1_000_000, windowSeconds: 60 }
    rows.push(
      await compare(
        `rate-limit hit: ${candidate.name}`,
        ['memory', () => limits.hit(`ip:${n++ % 1000}`, rule, Date.now())],
        [candidate.name, () => candidate.rateLimits.hit(`ip:${n++ % 1000}`, rule, Date.now())],
        { rounds: 3, ms: 300 },
      ),
    )
    await candidate.close()
  }
  memory.close()
  return rows
}

/**
 * The simplest correct in-memory store, a `Map` of session objects (what the store was before its
 * compact layout): the baseline for "reads no slower".
 */
function mapSessionStore(): SessionStore {
  const map = new Map<string, { session: StoredSession; ttlEnd: number }>()
  return {
    async get(id) {
      const entry = map.get(id)
      if (!entry) return undefined
      if (entry.ttlEnd <= Date.now()) {
        map.delete(id)
        return undefined
      }
      return entry.session
    },
    async set(id, value, ttlSeconds) {
      map.set(id, { session: value, ttlEnd: Date.now() + ttlSeconds * 1000 })
    },
    async delete(id) {
      map.delete(id)
    },
    async touch(id, lastSeenAt, ttlSeconds) {
      const entry = map.get(id)
      if (entry)
        map.set(id, {
          session: { ...entry.session, lastSeenAt },
          ttlEnd: Date.now() + ttlSeconds * 1000,
        })
    },
    async deleteByUser(userKey) {
      for (const [id, entry] of map) if (entry.session.userKey === userKey) map.delete(id)
    },
  }
}

/**
 * Reads from the compact memory store against a `Map` of objects, 200,000 sessions each, keyed as
 * a login keys them; every read makes its id afresh (as a request does), in a scattered order.
 * At the store, and through the session manager as a guard reads a session from its cookie.
 */
export async function memoryReadBenchmarks(): Promise<Comparison[]> {
  const COUNT = 200_000
  const compact = createMemorySessionStore()
  const map = mapSessionStore()
  const cookies: string[] = []
  const digests: Buffer[] = []
  const now = Date.now()
  for (let i = 0; i < COUNT; i++) {
    const cookie = randomBytes(32).toString('base64url')
    const digest = createHash('sha256').update(cookie).digest()
    const stored: StoredSession = {
      user: { id: `u-${i}`, name: `User ${i}`, email: `user${i}@example.com` },
      provider: 'github',
      subject: String(10_000_000 + i),
      createdAt: now,
      expiresAt: now + 86_400_000,
      lastSeenAt: now,
      userKey: createHash('sha256').update(`github:${i}`).digest('base64url'),
    }
    await compact.set(digest.toString('base64url'), stored, 3600)
    await map.set(digest.toString('base64url'), stored, 3600)
    cookies.push(cookie)
    digests.push(digest)
  }
  const requests: GuardRequest[] = cookies.map((cookie) => {
    const header = `sid=${cookie}`
    return {
      url: 'https://app.example/',
      method: 'GET',
      headers: { get: (name: string) => (name === 'cookie' ? header : null) },
    }
  })
  let n = 0
  const next = () => (n++ * 7919) % COUNT
  const read = (store: SessionStore) => () =>
    store.get((digests[next()] as Buffer).toString('base64url'))
  const timeouts = { idleSeconds: 3600, absoluteSeconds: 86_400 }
  const byCookie = (store: SessionStore) => {
    const manager = new SessionManager(store, timeouts, systemClock)
    return () => manager.read(requests[next()] as GuardRequest, 'sid')
  }
  const rows = [
    await compare(
      'memory store read, 200,000 sessions',
      ['Map of session objects', read(map)],
      ['compact memory store', read(compact)],
      { rounds: 5, ms: 300, target: '>= 0.9x (no slower)' },
    ),
    await compare(
      'session read from its cookie (SessionManager), 200,000 sessions',
      ['Map of session objects', byCookie(map)],
      ['compact memory store', byCookie(compact)],
      { rounds: 5, ms: 300, target: '>= 0.9x (no slower)' },
    ),
  ]
  compact.close()
  return rows
}
