// The SQLite stores' failures: a dead or unmigrated connection rejects with store_unavailable
// (never a raw driver error, never a value in the message); unsafe options are refused up front.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { AuthkestraError } from '../../src/core/errors.ts'
import { createSqliteStores } from '../../src/stores/sqlite.ts'
import { code } from '../helpers/assert-code.ts'

const RULE = { limit: 3, windowSeconds: 60 }

describe('sqlite store errors', () => {
  it('refuses an unsafe tablePrefix or sweep interval', () => {
    const database = new Database(':memory:')
    for (const tablePrefix of ['', 'a"; DROP TABLE x; --', '1abc', 'a-b']) {
      assert.throws(() => createSqliteStores({ database, tablePrefix }), code('config_invalid'))
    }
    for (const sweepIntervalMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      assert.throws(() => createSqliteStores({ database, sweepIntervalMs }), code('config_invalid'))
    }
    database.close()
  })

  it('refuses a TTL that SQLite would store as "never expires"', async () => {
    const database = new Database(':memory:')
    const stores = createSqliteStores({ database })
    await stores.migrate()
    const s = { user: {}, provider: 'p', subject: 's', createdAt: 0, expiresAt: 0, lastSeenAt: 0 }
    await assert.rejects(stores.sessions.set('s', s, Number.NaN), code('config_invalid'))
    await assert.rejects(
      stores.op.set('csrf', 'c', { uid: 'u' }, { ttlSeconds: Number.NaN }),
      code('config_invalid'),
    )
    assert.equal(await stores.op.get('csrf', 'c'), undefined)
    stores.close()
    database.close()
  })

  it('says to call migrate() when the tables are missing', async () => {
    const database = new Database(':memory:')
    const stores = createSqliteStores({ database })
    await assert.rejects(
      stores.sessions.get('secret-hash'),
      code('store_unavailable', undefined, (err) => {
        assert.match(err.message, /^SQLite store: session get failed .*migrate\(\)/)
        assert.doesNotMatch(err.message, /secret-hash/)
      }),
    )
    stores.close()
    database.close()
  })

  it('rejects every method with store_unavailable once the database is closed', async () => {
    const database = new Database(':memory:')
    const stores = createSqliteStores({ database })
    await stores.migrate()
    database.close()
    const calls: [string, () => Promise<unknown>][] = [
      ['session get', () => stores.sessions.get('secret-hash')],
      ['session set', () => stores.sessions.set('secret-hash', {} as never, 60)],
      ['session delete', () => stores.sessions.delete('secret-hash')],
      ['session touch', () => stores.sessions.touch('secret-hash', 1, 60)],
      ['op get', () => stores.op.get('code', 'secret-hash')],
      ['op set', () => stores.op.set('csrf', 'secret-hash', { uid: 'secret-uid' })],
      ['op delete', () => stores.op.delete('code', 'secret-hash')],
      ['op consume', () => stores.op.consume('code', 'secret-hash')],
      ['op revokeFamily', () => stores.op.revokeFamily('secret-family')],
      ['op list', () => stores.op.list('key')],
      ['rate limit hit', () => stores.rateLimits.hit('secret-hash', RULE, 1)],
      ['rate limit peek', () => stores.rateLimits.peek('secret-hash', RULE, 1)],
      ['rate limit reset', () => stores.rateLimits.reset('secret-hash')],
      ['migrate', () => stores.migrate()],
    ]
    for (const [operation, call] of calls) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof AuthkestraError, `${operation}: ${String(err)}`)
        assert.equal(err.code, 'store_unavailable')
        assert.equal(err.message, `SQLite store: ${operation} failed`)
        assert.ok(err.cause instanceof Error, 'the driver error is kept as cause')
        return true
      })
    }
    stores.close()
  })

  it('rejects writes to a read-only connection with store_unavailable', async () => {
    const database = new Database(':memory:')
    const stores = createSqliteStores({ database })
    await stores.migrate()
    database.pragma('query_only = ON') // the test's own connection, to simulate a read-only db
    await assert.rejects(stores.op.set('csrf', 'c', { uid: 'u' }), code('store_unavailable'))
    await assert.rejects(stores.op.consume('csrf', 'c'), code('store_unavailable'))
    assert.equal(await stores.op.get('csrf', 'c'), undefined, 'reads still work')
    stores.close()
    database.close()
  })

  it('rate limits: store_unavailable while the database refuses writes or is locked, then work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ak-sqlite-rl-'))
    const file = join(dir, 'locked.sqlite')
    const database = new Database(file, { timeout: 0 })
    const other = new Database(file)
    try {
      const stores = createSqliteStores({ database })
      await stores.migrate()
      const now = 1_795_000_000_000
      assert.equal((await stores.rateLimits.hit('secret-hash', RULE, now)).remaining, 2)
      database.pragma('query_only = ON')
      await assert.rejects(
        stores.rateLimits.hit('secret-hash', RULE, now),
        code('store_unavailable', undefined, (err) => {
          assert.equal(err.message, 'SQLite store: rate limit hit failed')
          assert.ok(err.cause instanceof Error)
        }),
      )
      assert.equal((await stores.rateLimits.peek('secret-hash', RULE, now)).remaining, 1)
      database.pragma('query_only = OFF')
      other.exec('BEGIN IMMEDIATE') // another connection holds the write lock: SQLITE_BUSY
      await assert.rejects(stores.rateLimits.hit('secret-hash', RULE, now), (err: unknown) => {
        assert.ok(err instanceof AuthkestraError && err.code === 'store_unavailable')
        assert.match(String((err.cause as { code?: string }).code), /^SQLITE_BUSY/)
        return true
      })
      await assert.rejects(stores.rateLimits.reset('secret-hash'), code('store_unavailable'))
      other.exec('COMMIT')
      assert.equal((await stores.rateLimits.hit('secret-hash', RULE, now)).remaining, 1)
      assert.equal((await stores.rateLimits.hit('secret-hash', RULE, now)).remaining, 0)
      stores.close()
    } finally {
      other.close()
      database.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
