// Two OP instances without a `secret` over one database agree on the sealing key of interaction
// cookies (src/op/seal-keys.ts): one seals, the other opens; two first starts at once may each
// make a key, and each still opens the other's cookies. SQLite (one file, two connections) and
// PostgreSQL (two pools; skips, saying why, without a server at DATABASE_URL).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { RELOAD_AFTER_MS } from '../../src/op/seal-keys.ts'
import type { OpStore } from '../../src/op/store/types.ts'
import { createPostgresStores } from '../../src/stores/postgres.ts'
import { createSqliteStores } from '../../src/stores/sqlite.ts'
import { Browser } from '../op/helpers/browser.ts'
import { ISSUER, testOp } from '../op/helpers/op-setup.ts'
import { DATABASE_URL, probePostgres } from './helpers/postgres.ts'

const dir = mkdtempSync(join(tmpdir(), 'ak-seal-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Starts an interaction at `a` and opens its page at `b` with the cookie `a` set. */
async function sealedAtOpenedAt(a: Browser['handler'], b: Browser['handler']): Promise<number> {
  const browser = new Browser(a)
  const start = await browser.get(
    `${ISSUER}/authorize?response_type=code&client_id=web&redirect_uri=${encodeURIComponent('https://app.example/cb')}&scope=openid&state=s-0123456789abcdef&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`,
  )
  assert.equal(start.status, 303)
  const sealed = browser.cookies.get('ak_op_interaction')
  assert.equal(sealed?.value.split('.').length, 5, 'sealed, not stored')
  const other = new Browser(b)
  other.setCookie('ak_op_interaction', sealed?.value ?? '', sealed?.path)
  return (await other.get(start.headers.get('location') ?? '')).status
}

async function agree(stores: () => Promise<OpStore>) {
  const one = await stores()
  const a = await testOp({ store: one })
  const b = await testOp({ store: await stores() })
  assert.equal((await one.list('sealKey')).length, 1, 'the second instance made none')
  assert.equal(await sealedAtOpenedAt(a.op.handler, b.op.handler), 200)
  assert.equal(await sealedAtOpenedAt(b.op.handler, a.op.handler), 200)
}

async function concurrentFirstStarts(stores: () => Promise<OpStore>) {
  const [x, y] = await Promise.all([stores(), stores()])
  const [a, b] = await Promise.all([testOp({ store: x }), testOp({ store: y })])
  const made = (await x.list('sealKey')).length
  assert.ok(made === 1 || made === 2, `${made} keys`)
  assert.equal(await sealedAtOpenedAt(a.op.handler, b.op.handler), 200)
  assert.equal(await sealedAtOpenedAt(b.op.handler, a.op.handler), 200)
  // The race made visible: a key another instance wrote (older: it seals) after `a` started.
  const z = await stores()
  await z.set('sealKey', 'raced', {
    id: 'raced',
    secret: 'r'.repeat(43),
    createdAt: Math.min(...(await z.list('sealKey')).map((k) => k.createdAt)) - 1,
  })
  const c = await testOp({ store: z })
  // An instance reads the keys again at most once every RELOAD_AFTER_MS: `a` may have just done so.
  a.now.value += RELOAD_AFTER_MS
  assert.equal(await sealedAtOpenedAt(c.op.handler, a.op.handler), 200, 'a reads the keys again')
  assert.equal(await sealedAtOpenedAt(a.op.handler, c.op.handler), 200)
}

describe('sealing key shared over SQLite', () => {
  let files = 0
  const over = (file: string) => async () => {
    const stores = createSqliteStores({ database: new Database(file) })
    await stores.migrate()
    return stores.op
  }
  it('one instance seals, the other opens', () => agree(over(join(dir, `${++files}.sqlite`))))
  it('two first starts at once each open the other’s cookies', () =>
    concurrentFirstStarts(over(join(dir, `${++files}.sqlite`))))
})

const skip = await probePostgres()
if (skip) console.log(`# ${skip}`)

describe('sealing key shared over PostgreSQL', { skip }, () => {
  const pools: pg.Pool[] = []
  const schema = `seal_${Date.now().toString(36)}`
  after(async () => {
    const admin = new pg.Pool({ connectionString: DATABASE_URL })
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
    await Promise.all(pools.map((p) => p.end()))
  })
  const over = (tablePrefix: string) => async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
    pools.push(pool)
    const stores = createPostgresStores({ pool, schema, tablePrefix })
    await stores.migrate()
    return stores.op
  }
  it('one instance seals, the other opens', () => agree(over('one_')))
  it('two first starts at once each open the other’s cookies', () =>
    concurrentFirstStarts(over('two_')))
})
