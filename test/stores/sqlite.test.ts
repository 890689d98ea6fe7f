// The SQLite stores: the conformance suite over an in-memory and a file database, plus what only
// a database store has: migrations, restarts, a dead connection, the background sweep.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { createSqliteStores } from '../../src/stores/sqlite.ts'
import { type StoreUnderTest, storeConformance, testClock } from './conformance.ts'
import { rateLimitConformance } from './rate-limit-conformance.ts'

const dir = mkdtempSync(join(tmpdir(), 'ak-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshFile = () => join(dir, `db-${++files}.sqlite`)

async function open(
  database: Database.Database,
  clock = testClock(),
  extra: { tablePrefix?: string; sweepIntervalMs?: number } = {},
) {
  const stores = createSqliteStores({ database, clock, ...extra })
  await stores.migrate()
  return stores
}

function underTest(database: Database.Database, stores: Awaited<ReturnType<typeof open>>) {
  return {
    sessions: stores.sessions,
    op: stores.op,
    revocations: stores.revocations,
    credentials: stores.credentials,
    async close() {
      stores.close()
      database.close()
    },
  } satisfies StoreUnderTest
}

storeConformance('sqlite (in-memory)', async (clock) => {
  const database = new Database(':memory:')
  return underTest(database, await open(database, clock))
})

// WAL, as an app should run it: the default rollback journal syncs every commit (the 10,000
// sessions case takes seconds), which is correct but slow.
storeConformance('sqlite (file, WAL)', async (clock) => {
  const database = new Database(freshFile())
  database.pragma('journal_mode = WAL')
  return underTest(database, await open(database, clock))
})

// Two connections to one WAL file: the twin sees what the first wrote, and races it.
rateLimitConformance('sqlite (file, WAL, two connections)', async () => {
  const file = freshFile()
  const first = new Database(file)
  first.pragma('journal_mode = WAL')
  const second = new Database(file)
  const stores = await open(first)
  const twin = await open(second)
  return {
    store: stores.rateLimits,
    twin: twin.rateLimits,
    carriers: [stores.op, stores.sessions],
    async close() {
      stores.close()
      twin.close()
      first.close()
      second.close()
    },
  }
})

const count = (db: Database.Database, table: string) =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

describe('sqlite stores', () => {
  it('migrate() is idempotent, honours tablePrefix and leaves other tables alone', async () => {
    const db = new Database(':memory:')
    db.exec("CREATE TABLE app_users (id TEXT); INSERT INTO app_users VALUES ('u1')")
    const stores = await open(db, testClock(), { tablePrefix: 'ak_' })
    await stores.migrate()
    await stores.migrate()
    const names = db
      .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")
      .pluck()
      .all()
    assert.deepEqual(
      names.filter((n) => !String(n).startsWith('sqlite_autoindex')),
      [
        'ak_credentials',
        'ak_credentials_account',
        'ak_mfa_ephemeral',
        'ak_mfa_ephemeral_expires_at',
        'ak_op_records',
        'ak_op_records_expires_at',
        'ak_op_records_family',
        'ak_rate_limits',
        'ak_rate_limits_expires_at',
        'ak_revocations',
        'ak_revocations_expires_at',
        'ak_sessions',
        'ak_sessions_expires_at',
        'ak_sessions_provider_sid',
        'ak_sessions_provider_subject',
        'ak_sessions_user_key',
        'app_users',
      ],
    )
    assert.equal(count(db, 'app_users'), 1)
    stores.close()
    assert.equal(db.open, true, 'close() leaves the database to the app')
    db.close()
  })

  it('migrate() adds user_key to a sessions table of an earlier version, keeping its rows', async () => {
    const db = new Database(':memory:')
    const clock = testClock()
    db.exec(`CREATE TABLE "authkestra_sessions" (id TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL,
      expires_at INTEGER NOT NULL)`)
    const legacy = {
      user: 'u',
      provider: 'idp',
      subject: 's',
      createdAt: 1,
      expiresAt: 2,
      lastSeenAt: 1,
    }
    db.prepare('INSERT INTO authkestra_sessions VALUES (?, ?, ?)').run(
      'legacy',
      JSON.stringify(legacy),
      clock.now() + 60_000,
    )
    const stores = await open(db, clock)
    await stores.migrate()
    assert.deepEqual(await stores.sessions.get('legacy'), legacy)
    await stores.sessions.set('new', { ...legacy, userKey: 'k' }, 60)
    await stores.sessions.deleteByUser('k')
    assert.equal(await stores.sessions.get('new'), undefined)
    assert.ok(await stores.sessions.get('legacy'))
    stores.close()
    db.close()
  })

  it('keeps sessions, records, families and consumed marks across a restart', async () => {
    const file = freshFile()
    const clock = testClock()
    let db = new Database(file)
    let stores = await open(db, clock)
    const session = {
      user: { id: 'u1' },
      provider: 'idp',
      subject: 's',
      createdAt: 1,
      expiresAt: 2,
      lastSeenAt: 1,
    }
    await stores.sessions.set('h-session', session, 600)
    const grant = { grantId: 'g', clientId: 'c', sub: 'a', scopes: [], authTime: 1 }
    const family = { ttlSeconds: 600, family: 'g' }
    await stores.op.set('refresh', 'r1', { ...grant, familyExpiresAt: 2 }, family)
    await stores.op.set('refresh', 'r2', { ...grant, familyExpiresAt: 2 }, family)
    assert.equal((await stores.op.consume('refresh', 'r1'))?.alreadyConsumed, false)
    stores.close()
    db.close()

    db = new Database(file)
    stores = await open(db, clock)
    assert.deepEqual(await stores.sessions.get('h-session'), session)
    assert.equal((await stores.op.consume('refresh', 'r1'))?.alreadyConsumed, true)
    await stores.op.revokeFamily('g')
    assert.equal(await stores.op.get('refresh', 'r2'), undefined)
    clock.advance(601_000)
    assert.equal(await stores.sessions.get('h-session'), undefined)
    stores.close()
    db.close()
  })

  it('finds sessions for back-channel logout through the JSON indexes, not a table scan', async () => {
    const { SESSION_JSON } = await import('../../src/stores/sqlite/schema.ts')
    const db = new Database(':memory:')
    await createSqliteStores({ database: db }).migrate()
    for (const field of ['subject', 'providerSid'] as const) {
      const plan = db
        .prepare(
          `EXPLAIN QUERY PLAN DELETE FROM "authkestra_sessions"
           WHERE ${SESSION_JSON.provider} = ? AND ${SESSION_JSON[field]} = ?`,
        )
        .all('op', 'x') as { detail: string }[]
      const index = field === 'subject' ? 'provider_subject' : 'provider_sid'
      assert.match(plan[0]?.detail ?? '', new RegExp(`USING INDEX authkestra_sessions_${index}`))
    }
    db.close()
  })

  it('does not revive an expired session on touch', async () => {
    const db = new Database(':memory:')
    const clock = testClock()
    const stores = await open(db, clock)
    const s = { user: {}, provider: 'p', subject: 's', createdAt: 0, expiresAt: 0, lastSeenAt: 0 }
    await stores.sessions.set('gone', s, 10)
    clock.advance(10_000)
    await stores.sessions.touch('gone', clock.now(), 600)
    assert.equal(await stores.sessions.get('gone'), undefined)
    stores.close()
    db.close()
  })

  it('works on a connection that reads integers as BigInt', async () => {
    const db = new Database(':memory:')
    db.defaultSafeIntegers(true)
    const stores = await open(db)
    await stores.op.set('csrf', 'c', { uid: 'u' }, { ttlSeconds: 60 })
    assert.equal((await stores.op.consume('csrf', 'c'))?.alreadyConsumed, false)
    assert.equal((await stores.op.consume('csrf', 'c'))?.alreadyConsumed, true)
    stores.close()
    db.close()
  })

  it('deletes expired rows in the background sweep, keeps live ones', async () => {
    const db = new Database(':memory:')
    const clock = testClock()
    const stores = await open(db, clock, { sweepIntervalMs: 5 })
    const s = { user: {}, provider: 'p', subject: 's', createdAt: 0, expiresAt: 0, lastSeenAt: 0 }
    await stores.sessions.set('old', s, 10)
    await stores.sessions.set('live', s, 600)
    await stores.op.set('revocation', 'old', { reason: 'x' }, { ttlSeconds: 10 })
    await stores.op.set('csrf', 'old', { uid: 'x' }, { ttlSeconds: 10 })
    await stores.op.set('consent', 'forever', { scopes: [] })
    clock.advance(11_000)
    // Wait (real time) until a sweep has run; no assertion on how long it took.
    while (count(db, 'authkestra_sessions') + count(db, 'authkestra_op_records') > 2) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    assert.deepEqual(db.prepare('SELECT id FROM authkestra_sessions').pluck().all(), ['live'])
    assert.deepEqual(db.prepare('SELECT id FROM authkestra_op_records').pluck().all(), ['forever'])
    stores.close()
    db.close()
  })

  it('sweeps rate-limit rows once their TAT has passed, keeps live ones', async () => {
    const db = new Database(':memory:')
    const clock = testClock()
    const stores = await open(db, clock, { sweepIntervalMs: 5 })
    const rule = { limit: 2, windowSeconds: 10 } // one every 5 s
    await stores.rateLimits.hit('short', rule, clock.now())
    await stores.rateLimits.hit('long', { limit: 1, windowSeconds: 60 }, clock.now())
    const row = db.prepare('SELECT tat, expires_at FROM authkestra_rate_limits WHERE key = ?')
    assert.deepEqual(row.get('short'), { tat: clock.now() + 5000, expires_at: clock.now() + 5000 })
    clock.advance(5000)
    while (count(db, 'authkestra_rate_limits') > 1) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    assert.deepEqual(db.prepare('SELECT key FROM authkestra_rate_limits').pluck().all(), ['long'])
    stores.close()
    db.close()
  })

  it('keeps fractional TATs exact, also on a connection that reads integers as BigInt', async () => {
    const db = new Database(':memory:')
    db.defaultSafeIntegers(true)
    const stores = await open(db)
    const rule = { limit: 3, windowSeconds: 1 }
    const now = 1_795_000_000_000.125
    assert.equal((await stores.rateLimits.hit('k', rule, now)).remaining, 2)
    const row = db.prepare('SELECT tat, expires_at FROM authkestra_rate_limits').get() as {
      tat: number
      expires_at: bigint
    }
    assert.equal(row.tat, now + 1000 / 3)
    assert.equal(row.expires_at, BigInt(Math.ceil(now + 1000 / 3)))
    assert.equal((await stores.rateLimits.hit('k', rule, now)).remaining, 1)
    assert.equal((await stores.rateLimits.peek('k', rule, now)).remaining, 0)
    stores.close()
    db.close()
  })
})
