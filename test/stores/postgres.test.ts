// The PostgreSQL stores: the conformance suite, migrations (idempotent, concurrent), the sweep,
// options and what is stored. Needs a server at DATABASE_URL; skips (saying why) without one.
// Everything lives in a schema of its own, dropped at the end.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { gcraStep } from '../../src/core/rate-limit.ts'
import { createPostgresStores } from '../../src/stores/postgres.ts'
import { storeConformance, testClock } from './conformance.ts'
import { DATABASE_URL, probePostgres } from './helpers/postgres.ts'
import { rateLimitConformance } from './rate-limit-conformance.ts'

const SCHEMA = `authkestra_test_${randomBytes(6).toString('hex')}`

const skip = await probePostgres()
let pool: pg.Pool

before(async () => {
  if (skip) return
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
  await pool.query(`CREATE SCHEMA "${SCHEMA}"`)
})
after(async () => {
  if (skip) return
  await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`)
  await pool.end()
})

storeConformance(
  'postgres',
  async (clock) => {
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'conf_', clock })
    await stores.migrate()
    return {
      sessions: stores.sessions,
      op: stores.op,
      revocations: stores.revocations,
      credentials: stores.credentials,
      async close() {
        stores.close()
        await pool.query(
          `DROP TABLE "${SCHEMA}".conf_op_records, "${SCHEMA}".conf_sessions, "${SCHEMA}".conf_revocations`,
        )
      },
    }
  },
  skip,
)

// The twin has a pool of its own (4 connections), as another instance would.
rateLimitConformance(
  'postgres (two pools)',
  async () => {
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'rl_conf_' })
    await stores.migrate()
    const other = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
    const twin = createPostgresStores({ pool: other, schema: SCHEMA, tablePrefix: 'rl_conf_' })
    return {
      store: stores.rateLimits,
      twin: twin.rateLimits,
      carriers: [stores.op, stores.sessions],
      async close() {
        stores.close()
        twin.close()
        await other.end()
      },
    }
  },
  skip,
)

/** Fresh stores on their own tables of the test schema. */
async function fresh(
  prefix: string,
  extra: Partial<Parameters<typeof createPostgresStores>[0]> = {},
) {
  const clock = testClock()
  const stores = createPostgresStores({
    pool,
    schema: SCHEMA,
    tablePrefix: prefix,
    clock,
    ...extra,
  })
  await stores.migrate()
  return { stores, clock }
}

const count = async (table: string) =>
  Number((await pool.query(`SELECT count(*) AS n FROM "${SCHEMA}".${table}`)).rows[0].n)

describe('postgres stores', { skip }, () => {
  it('migrate is idempotent and safe when many instances run it at once', async () => {
    const many = Array.from({ length: 8 }, () =>
      createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'mig_' }),
    )
    await Promise.all(many.map((s) => s.migrate()))
    await Promise.all(many.map((s) => s.migrate()))
    for (const s of many) s.close()
    const indexes = await pool.query(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename LIKE $2 ORDER BY 1',
      [SCHEMA, 'mig\\_%'],
    )
    assert.deepEqual(
      indexes.rows.map((r) => r.indexname),
      [
        'mig_credentials_account_idx',
        'mig_credentials_pkey',
        'mig_mfa_ephemeral_expires_idx',
        'mig_mfa_ephemeral_pkey',
        'mig_op_records_expires_idx',
        'mig_op_records_family_idx',
        'mig_op_records_pkey',
        'mig_rate_limits_expires_idx',
        'mig_rate_limits_pkey',
        'mig_revocations_expires_idx',
        'mig_revocations_pkey',
        'mig_sessions_expires_idx',
        'mig_sessions_pkey',
        'mig_sessions_provider_sid_idx',
        'mig_sessions_provider_subject_idx',
        'mig_sessions_user_key_idx',
      ],
    )
  })

  it('migrate adds user_key to a sessions table of an earlier version, keeping its rows', async () => {
    await pool.query(`CREATE TABLE "${SCHEMA}".old_sessions (
      id text PRIMARY KEY, value jsonb NOT NULL, expires_at bigint NOT NULL)`)
    const clock = testClock()
    const legacy = {
      user: 'u',
      provider: 'idp',
      subject: 's',
      createdAt: 1,
      expiresAt: 2,
      lastSeenAt: 1,
    }
    await pool.query(`INSERT INTO "${SCHEMA}".old_sessions VALUES ('legacy', $1, $2)`, [
      JSON.stringify(legacy),
      clock.now() + 60_000,
    ])
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'old_', clock })
    await stores.migrate()
    await stores.migrate()
    assert.deepEqual(await stores.sessions.get('legacy'), legacy)
    await stores.sessions.set('new', { ...legacy, userKey: 'k' }, 60)
    await stores.sessions.deleteByUser('k')
    assert.equal(await stores.sessions.get('new'), undefined)
    assert.ok(await stores.sessions.get('legacy'))
    stores.close()
  })

  it('migrate creates a missing schema', async () => {
    const schema = `${SCHEMA}_new`
    const stores = createPostgresStores({ pool, schema })
    try {
      await stores.migrate()
      await stores.op.set('username', 'alice', { sub: 'a' })
      assert.deepEqual(await stores.op.get('username', 'alice'), { sub: 'a' })
    } finally {
      stores.close()
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    }
  })

  it('sweeps expired rows in the background and keeps the rest', async () => {
    const { stores, clock } = await fresh('sweep_', { sweepIntervalMs: 20 })
    await stores.op.set('code', 'old', { grantId: 'g' } as never, { ttlSeconds: 60, family: 'g' })
    await stores.op.set('consent', 'forever', { scopes: ['openid'] })
    await stores.sessions.set('s-old', { lastSeenAt: 1 } as never, 60)
    await stores.sessions.set('s-new', { lastSeenAt: 1 } as never, 600)
    clock.advance(120_000)
    for (let i = 0; i < 100 && (await count('sweep_op_records')) > 1; i++) await sleep(20)
    for (let i = 0; i < 100 && (await count('sweep_sessions')) > 1; i++) await sleep(20)
    stores.close()
    const ops = await pool.query(`SELECT kind, id FROM "${SCHEMA}".sweep_op_records`)
    assert.deepEqual(ops.rows, [{ kind: 'consent', id: 'forever' }])
    const sessions = await pool.query(`SELECT id FROM "${SCHEMA}".sweep_sessions`)
    assert.deepEqual(sessions.rows, [{ id: 's-new' }])
  })

  it('sweeps rate-limit rows once their TAT has passed, keeps live ones', async () => {
    const { stores, clock } = await fresh('rl_sweep_', { sweepIntervalMs: 20 })
    await stores.rateLimits.hit('short', { limit: 2, windowSeconds: 10 }, clock.now())
    await stores.rateLimits.hit('long', { limit: 1, windowSeconds: 60 }, clock.now())
    const rows = await pool.query(
      `SELECT key, tat, expires_at::float8 AS e FROM "${SCHEMA}".rl_sweep_rate_limits ORDER BY key`,
    )
    assert.deepEqual(rows.rows, [
      { key: 'long', tat: clock.now() + 60_000, e: clock.now() + 60_000 },
      { key: 'short', tat: clock.now() + 5000, e: clock.now() + 5000 },
    ])
    clock.advance(5000)
    for (let i = 0; i < 100 && (await count('rl_sweep_rate_limits')) > 1; i++) await sleep(20)
    stores.close()
    const left = await pool.query(`SELECT key FROM "${SCHEMA}".rl_sweep_rate_limits`)
    assert.deepEqual(left.rows, [{ key: 'long' }])
  })

  it('reads TATs exactly, whatever extra_float_digits and the type parsers say', async () => {
    const lossy = new pg.Pool({
      connectionString: DATABASE_URL,
      max: 2,
      options: '-c extra_float_digits=-15',
      types: { getTypeParser: () => (value: string) => value },
    })
    try {
      const stores = createPostgresStores({ pool: lossy, schema: SCHEMA, tablePrefix: 'rl_raw_' })
      await stores.migrate()
      const rule = { limit: 3, windowSeconds: 1 }
      const now = 1_795_000_000_000.125
      let model: number | undefined
      for (const at of [now, now, now, now + 333.4, now + 333.4, now + 1000]) {
        const step = gcraStep(model, rule, at)
        if (step.decision.allowed) model = step.tat
        assert.deepEqual(await stores.rateLimits.hit('k', rule, at), step.decision)
        assert.deepEqual(
          await stores.rateLimits.peek('k', rule, at),
          gcraStep(model, rule, at).decision,
        )
      }
      const shown = await lossy.query(`SELECT tat FROM "${SCHEMA}".rl_raw_rate_limits`)
      assert.notEqual(Number(shown.rows[0].tat), model, 'this connection prints floats lossily')
      const exact = await pool.query(`SELECT tat FROM "${SCHEMA}".rl_raw_rate_limits`)
      assert.equal(exact.rows[0].tat, model)
      stores.close()
    } finally {
      await lossy.end()
    }
  })

  it('overwriting a one-time record makes it unused again; touch never revives', async () => {
    const { stores, clock } = await fresh('rw_')
    const code = { grantId: 'g1' } as never
    await stores.op.set('code', 'c', code, { ttlSeconds: 60 })
    assert.equal((await stores.op.consume('code', 'c'))?.alreadyConsumed, false)
    assert.equal((await stores.op.consume('code', 'c'))?.alreadyConsumed, true)
    await stores.op.set('code', 'c', code, { ttlSeconds: 60 })
    assert.equal((await stores.op.consume('code', 'c'))?.alreadyConsumed, false)
    await stores.sessions.set('s', { lastSeenAt: 1 } as never, 10)
    clock.advance(11_000)
    await stores.sessions.touch('s', clock.now(), 600)
    assert.equal(await stores.sessions.get('s'), undefined)
    stores.close()
  })

  it('stores values as jsonb and works with a pool that parses no types', async () => {
    const raw = new pg.Pool({
      connectionString: DATABASE_URL,
      max: 2,
      types: { getTypeParser: () => (value: string) => value },
    })
    try {
      const stores = createPostgresStores({ pool: raw, schema: SCHEMA, tablePrefix: 'raw_' })
      await stores.migrate()
      await stores.op.set('code', 'c', { grantId: 'g', n: 1 } as never, { ttlSeconds: 60 })
      assert.deepEqual(await stores.op.consume('code', 'c'), {
        value: { grantId: 'g', n: 1 },
        alreadyConsumed: false,
      })
      assert.equal((await stores.op.consume('code', 'c'))?.alreadyConsumed, true)
      stores.close()
      const types = await pool.query(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'raw_op_records' ORDER BY ordinal_position`,
        [SCHEMA],
      )
      assert.deepEqual(
        types.rows.map((r) => `${r.column_name} ${r.data_type}`),
        [
          'kind text',
          'id text',
          'value jsonb',
          'expires_at bigint',
          'consumed integer',
          'family text',
        ],
      )
    } finally {
      await raw.end()
    }
  })

  it('close stops the sweep and never ends the pool', async () => {
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'close_' })
    const listeners = pool.listenerCount('error')
    stores.close()
    stores.close()
    assert.equal(pool.listenerCount('error'), listeners - 1)
    assert.equal(pool.ending, false)
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1)
  })
})

describe('postgres stores: options', () => {
  const fakePool = { connect: () => Promise.reject(new Error('not used')), on() {}, off() {} }
  for (const [name, options] of [
    ['schema', { schema: 'bad"name' }],
    ['schema', { schema: '' }],
    ['tablePrefix', { tablePrefix: 'x; DROP TABLE users' }],
    ['tablePrefix', { tablePrefix: 'p'.repeat(41) }],
    ['statementTimeoutMs', { statementTimeoutMs: 0 }],
    ['statementTimeoutMs', { statementTimeoutMs: 1.5 }],
    ['sweepIntervalMs', { sweepIntervalMs: -1 }],
  ] as const) {
    it(`rejects a bad "${name}" (${JSON.stringify(Object.values(options)[0])})`, () => {
      assert.throws(
        () => createPostgresStores({ pool: fakePool as never, ...options }),
        (err: { code?: string; message?: string }) =>
          err.code === 'config_invalid' && err.message?.includes(`"${name}"`) === true,
      )
    })
  }
  it('rejects a missing pool', () => {
    assert.throws(
      () => createPostgresStores({} as never),
      (err: { code?: string }) => err.code === 'config_invalid',
    )
  })
})
