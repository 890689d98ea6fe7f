// What the stateless logout costs: `verifyRequest` of a session JWT (HS256 signature and claims)
// without a revocation store (baseline: the explicit opt-out) and with one (the token's login
// and user looked up in one call), for each store. Serial calls, as one request would make them;
// the process CPU per verification is measured beside the rate (the driver is this process).
// Stores whose server is not reachable are skipped with a printed reason.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import pg from 'pg'
import { createKeyring } from '../src/core/keyring.ts'
import { StatelessTokens } from '../src/engine/stateless.ts'
import {
  createAuthkestra,
  createMemoryRevocationStore,
  type RevocationStore,
  type StatelessAuthkestra,
} from '../src/index.ts'
import { github } from '../src/providers/github.ts'
import { createPostgresStores } from '../src/stores/postgres.ts'
import { createRedisStores } from '../src/stores/redis.ts'
import { createSqliteStores } from '../src/stores/sqlite.ts'
import type { Comparison } from './lib.ts'

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'
const ORIGIN = 'http://127.0.0.1:3000'

function engine(revocations: RevocationStore | 'none-logout-keeps-tokens-valid-until-exp') {
  return createAuthkestra({
    providers: [
      github({ clientId: 'bench', clientSecret: 'bench', redirectUri: `${ORIGIN}/auth/cb` }),
    ],
    secret: SECRET,
    jwt: { revocations, delivery: 'json' },
  })
}

interface Rate {
  opsPerSec: number
  cpuUsPerOp: number
}

async function rate(op: () => Promise<unknown>, ms: number): Promise<Rate> {
  let n = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  while (performance.now() - start < ms) {
    for (let i = 0; i < 32; i++) await op()
    n += 32
  }
  const elapsed = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { opsPerSec: (n * 1000) / elapsed, cpuUsPerOp: (used.user + used.system) / n }
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

async function stores(): Promise<
  { name: string; store: RevocationStore; close(): Promise<void> }[]
> {
  const out: { name: string; store: RevocationStore; close(): Promise<void> }[] = [
    { name: 'memory', store: createMemoryRevocationStore(), close: async () => {} },
  ]
  const dir = mkdtempSync(join(tmpdir(), 'authkestra-bench-'))
  const db = new Database(join(dir, 'revocations.sqlite'))
  db.pragma('journal_mode = WAL')
  const sqlite = createSqliteStores({ database: db })
  await sqlite.migrate()
  out.push({
    name: 'sqlite (file, WAL)',
    store: sqlite.revocations,
    close: async () => {
      db.close()
    },
  })
  try {
    const pool = new pg.Pool({
      connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      connectionTimeoutMillis: 2000,
      max: 4,
    })
    const schema = `authkestra_bench_rev_${process.pid}`
    const postgres = createPostgresStores({ pool, schema })
    await postgres.migrate()
    out.push({
      name: 'postgres',
      store: postgres.revocations,
      close: async () => {
        postgres.close()
        await pool.query(`DROP SCHEMA ${schema} CASCADE`)
        await pool.end()
      },
    })
  } catch (err) {
    console.log(`stateless bench: PostgreSQL skipped (${(err as Error).message})`)
  }
  try {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    })
    await redis.connect()
    const prefix = `authkestra-bench-rev-${process.pid}:`
    out.push({
      name: 'redis',
      store: createRedisStores({ redis, prefix }).revocations,
      close: async () => {
        const keys = await redis.keys(`${prefix}*`)
        if (keys.length > 0) await redis.del(...keys)
        redis.disconnect()
      },
    })
  } catch (err) {
    console.log(`stateless bench: Redis skipped (${(err as Error).message})`)
  }
  return out
}

export async function statelessBenchmarks(
  options: { ms?: number; rounds?: number } = {},
): Promise<Comparison[]> {
  const ms = options.ms ?? 300
  const rounds = options.rounds ?? 5
  const plain = engine('none-logout-keeps-tokens-valid-until-exp')
  // A token as a login issues it, signed by the engine's own token code under the same secret.
  const tokens = new StatelessTokens(
    createKeyring(SECRET),
    { ttlSeconds: 3600, absoluteSeconds: 86_400, issuer: 'authkestra', audience: 'authkestra' },
    { now: () => Date.now() },
  )
  const who = { provider: 'github', subject: '583231' }
  const user = { id: 'u-1', name: 'Alice Liddell', email: 'alice@example.com' }
  const { token } = await tokens.issue(user, who, tokens.newLogin('A'.repeat(43)))
  const request = new Request(`${ORIGIN}/api`, { headers: { authorization: `Bearer ${token}` } })
  const verifyWith = (auth: StatelessAuthkestra<unknown>) => async () => {
    if (!(await auth.verifyRequest(request))) throw new Error('token refused')
  }
  const rows: Comparison[] = []
  for (const candidate of await stores()) {
    try {
      const withStore = engine(candidate.store)
      // a few unrelated revocations, so the lookup is not of an empty table
      for (let i = 0; i < 100; i++)
        await candidate.store.revoke(`sid:bench${i}`, Date.now(), Date.now() + 3_600_000)
      await rate(verifyWith(plain), 50)
      await rate(verifyWith(withStore), 50)
      const b: Rate[] = []
      const c: Rate[] = []
      for (let r = 0; r < rounds; r++) {
        b.push(await rate(verifyWith(plain), ms))
        c.push(await rate(verifyWith(withStore), ms))
      }
      const bOps = median(b.map((x) => x.opsPerSec))
      const cOps = median(c.map((x) => x.opsPerSec))
      const bCpu = median(b.map((x) => x.cpuUsPerOp))
      const cCpu = median(c.map((x) => x.cpuUsPerOp))
      rows.push({
        name: `stateless verifyRequest, serial (CPU µs/op ${bCpu.toFixed(1)} → ${cCpu.toFixed(1)})`,
        baseline: 'no revocation store',
        candidate: `revocations: ${candidate.name}`,
        baselineOpsPerSec: bOps,
        candidateOpsPerSec: cOps,
        ratio: cOps / bOps,
      })
    } finally {
      await candidate.close()
    }
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printTable } = await import('./lib.ts')
  printTable(await statelessBenchmarks())
}
