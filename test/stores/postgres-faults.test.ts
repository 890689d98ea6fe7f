// The PostgreSQL stores when the database misbehaves: backends terminated under the pool, a port
// nobody listens on, a server that accepts and never answers, a lock that outlasts the statement
// timeout, and the OP and the engine answering 503 through their HTTP handlers while the database
// is away (through a TCP proxy the tests stop and start), then recovering by themselves.
// Needs a server at DATABASE_URL; skips (saying why) without one.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { Pkce } from '../../src/core/pkce.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createPostgresStores, type PostgresStores } from '../../src/stores/postgres.ts'
import { AppBrowser, sessionEngine, startIdp } from '../engine/helpers/setup.ts'
import { DATABASE_URL, probePostgres } from './helpers/postgres.ts'

const TARGET = new URL(DATABASE_URL)
const SCHEMA = `authkestra_test_${randomBytes(6).toString('hex')}`
const UNAVAILABLE =
  /^(sessions|op|rateLimits)\.\w+ failed: database unavailable$|^migrate failed: database unavailable$/

const skip = await probePostgres()
let admin: pg.Pool

before(async () => {
  if (skip) return
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 3 })
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`)
})
after(async () => {
  if (skip) return
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`)
  await admin.end()
})

/** `DATABASE_URL` with another port (and host 127.0.0.1). */
function urlAt(port: number): string {
  const url = new URL(DATABASE_URL)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return url.toString()
}

/** A TCP proxy to the database the test can take down (port closed), black-hole, or bring up. */
async function startProxy() {
  const pairs = new Set<[Socket, Socket | undefined]>()
  let mode: 'up' | 'blackhole' = 'up'
  const cut = () => {
    for (const [c, u] of pairs) {
      c.destroy()
      u?.destroy()
    }
  }
  const server: Server = createServer((client) => {
    const upstream =
      mode === 'up' ? tcpConnect(Number(TARGET.port || 5432), TARGET.hostname) : undefined
    const pair: [Socket, Socket | undefined] = [client, upstream]
    pairs.add(pair)
    const end = () => {
      client.destroy()
      upstream?.destroy()
      pairs.delete(pair)
    }
    client.on('error', end).on('close', end)
    if (upstream) {
      upstream.on('error', end).on('close', end)
      client.pipe(upstream)
      upstream.pipe(client)
    }
  })
  const listen = (port: number) =>
    new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  await listen(0)
  const port = (server.address() as { port: number }).port
  return {
    url: urlAt(port),
    /** Closes the port and cuts every connection (also the cleanup). */
    down: () =>
      new Promise<void>((resolve) => {
        cut()
        server.close(() => resolve()) // called (with an error) when already closed
      }),
    /** Keeps every connection open but stops passing bytes; new ones go nowhere. */
    blackhole() {
      mode = 'blackhole'
      for (const [c, u] of pairs) {
        if (!u) continue
        c.unpipe(u)
        u.unpipe(c)
      }
    },
    async up() {
      mode = 'up'
      if (!server.listening) await listen(port)
    },
  }
}

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Asserts `promise` rejects with exactly `store_unavailable`, no value in the message. */
async function assertUnavailable(promise: Promise<unknown>, secret = 'secret-id-9f8e7d') {
  await assert.rejects(promise, (err: { code?: string; message: string; cause?: unknown }) => {
    assert.equal(err.code, 'store_unavailable', `got ${err.code}: ${err.message}`)
    assert.match(err.message, UNAVAILABLE)
    assert.ok(!err.message.includes(secret))
    assert.ok(err.cause !== undefined, 'the driver error is kept as the cause')
    return true
  })
}

/** Every operation of both stores, each naming `id`. */
function everyOperation(stores: PostgresStores, id: string): Promise<unknown>[] {
  const session = {
    user: 1,
    provider: 'p',
    subject: 's',
    createdAt: 1,
    expiresAt: 2,
    lastSeenAt: 1,
  }
  return [
    stores.sessions.get(id),
    stores.sessions.set(id, session, 60),
    stores.sessions.touch(id, 5, 60),
    stores.sessions.delete(id),
    stores.op.get('code', id),
    stores.op.set('username', id, { sub: id }, { ttlSeconds: 60, family: id }),
    stores.op.delete('code', id),
    stores.op.consume('code', id),
    stores.op.revokeFamily(id),
    stores.op.list('key'),
    stores.rateLimits.hit(id, { limit: 3, windowSeconds: 60 }, 1_795_000_000_000),
    stores.rateLimits.peek(id, { limit: 3, windowSeconds: 60 }, 1_795_000_000_000),
    stores.rateLimits.reset(id),
    stores.migrate(),
  ]
}

/** Retries `call` until it succeeds (the store recovering by itself), at most ~5 s. */
async function eventually<T>(call: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call()
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'store_unavailable')
      if (i > 100) throw err
      await sleep(50)
    }
  }
}

describe('postgres stores under faults', { skip }, () => {
  it('terminated backends: calls succeed or fail with store_unavailable, then recover', async () => {
    const app = `authkestra_fault_${randomBytes(4).toString('hex')}`
    const pool = new pg.Pool({ connectionString: DATABASE_URL, application_name: app, max: 5 })
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'term_' })
    const terminate = async () =>
      (
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
          [app],
        )
      ).rowCount ?? 0
    const mixed = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        i % 3 === 0
          ? stores.op.set('consent', `c-${i}`, { scopes: ['openid'] })
          : i % 3 === 1
            ? stores.op.get('consent', `c-${i - 1}`)
            : stores.sessions.get(`s-${i}`),
      )
    try {
      await stores.migrate()
      await Promise.all(mixed(30)) // the pool now holds idle connections
      assert.ok((await terminate()) >= 1, 'the pool had connections to terminate')
      for (const batch of [mixed(30), [...mixed(30), terminate().then(() => undefined)]]) {
        for (const result of await Promise.allSettled(batch)) {
          if (result.status === 'rejected') await assertUnavailable(Promise.reject(result.reason))
        }
      }
      await eventually(() => stores.op.set('consent', 'after', { scopes: ['email'] }))
      await eventually(() => stores.op.get('consent', 'after')) // the last idle ones may be dead
      const results = await Promise.all(
        Array.from({ length: 20 }, () => stores.op.get('consent', 'after')),
      )
      for (const r of results) assert.deepEqual(r, { scopes: ['email'] })
    } finally {
      stores.close()
      await pool.end()
    }
  })

  it('an unreachable port: every operation fails quickly with store_unavailable', async () => {
    const pool = new pg.Pool({
      connectionString: urlAt(await closedPort()),
      connectionTimeoutMillis: 1000,
    })
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'dead_' })
    try {
      const started = Date.now()
      for (const call of everyOperation(stores, 'secret-id-9f8e7d')) await assertUnavailable(call)
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
    } finally {
      stores.close()
      await pool.end()
    }
  })

  it('a server that never answers: the JS deadline ends each call', async () => {
    const held = new Set<Socket>()
    const silent = createServer((socket) => void held.add(socket.on('error', () => {})))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
    // no connectionTimeoutMillis: only the store's own deadline (300 + 300 ms) protects the call
    const pool = new pg.Pool({
      connectionString: urlAt((silent.address() as { port: number }).port),
    })
    const stores = createPostgresStores({ pool, schema: SCHEMA, statementTimeoutMs: 300 })
    try {
      const started = Date.now()
      await Promise.all(
        [stores.op.get('code', 'x'), stores.sessions.get('y')].map((p) => assertUnavailable(p)),
      )
      const took = Date.now() - started
      assert.ok(took >= 500 && took < 2000, `took ${took} ms`)
    } finally {
      stores.close()
      for (const s of held) s.destroy()
      silent.close()
      await pool.end()
    }
  })

  it('a connection that hangs mid-use is dropped at the deadline and replaced', async () => {
    const proxy = await startProxy()
    const pool = new pg.Pool({ connectionString: proxy.url, max: 1 })
    const stores = createPostgresStores({
      pool,
      schema: SCHEMA,
      tablePrefix: 'hang_',
      statementTimeoutMs: 300,
    })
    try {
      await stores.migrate()
      await stores.op.set('consent', 'k', { scopes: ['openid'] })
      proxy.blackhole()
      await assertUnavailable(stores.op.get('consent', 'k'))
      await proxy.up()
      assert.deepEqual(await stores.op.get('consent', 'k'), { scopes: ['openid'] })
    } finally {
      stores.close()
      await proxy.down()
      await pool.end()
    }
  })

  it('rate limits: store_unavailable while the database is away, the count intact after', async () => {
    const proxy = await startProxy()
    const pool = new pg.Pool({ connectionString: proxy.url, max: 4, connectionTimeoutMillis: 1000 })
    const stores = createPostgresStores({
      pool,
      schema: SCHEMA,
      tablePrefix: 'rl_down_',
      statementTimeoutMs: 300,
    })
    const rule = { limit: 3, windowSeconds: 60 }
    const now = 1_795_000_000_000
    try {
      await stores.migrate()
      assert.equal((await stores.rateLimits.hit('secret-id-9f8e7d', rule, now)).remaining, 2)
      await proxy.down()
      await assertUnavailable(stores.rateLimits.hit('secret-id-9f8e7d', rule, now))
      await assertUnavailable(stores.rateLimits.peek('secret-id-9f8e7d', rule, now))
      await assertUnavailable(stores.rateLimits.reset('secret-id-9f8e7d'))
      await proxy.up()
      const back = await eventually(() => stores.rateLimits.hit('secret-id-9f8e7d', rule, now))
      assert.deepEqual(back, { allowed: true, remaining: 1, retryAfterSeconds: 0 })
    } finally {
      stores.close()
      await proxy.down()
      await pool.end()
    }
  })

  it('the statement timeout applies on the server, and nothing is half-written', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
    const stores = createPostgresStores({
      pool,
      schema: SCHEMA,
      tablePrefix: 'lock_',
      statementTimeoutMs: 300,
    })
    const locker = await admin.connect()
    try {
      await stores.migrate()
      await stores.op.set('code', 'c', { grantId: 'g' } as never, { ttlSeconds: 600 })
      await locker.query('BEGIN')
      await locker.query(`SELECT * FROM "${SCHEMA}".lock_op_records WHERE id = 'c' FOR UPDATE`)
      await assert.rejects(
        stores.op.consume('code', 'c'),
        (err: { code?: string; cause?: { code?: string } }) => {
          assert.equal(err.code, 'store_unavailable')
          assert.equal(
            err.cause?.code,
            '57014',
            'cancelled by statement_timeout, not by the JS deadline',
          )
          return true
        },
      )
      await locker.query('ROLLBACK')
      assert.equal((await stores.op.consume('code', 'c'))?.alreadyConsumed, false)
    } finally {
      await locker.query('ROLLBACK').catch(() => {})
      locker.release()
      stores.close()
      await pool.end()
    }
  })
})

describe('postgres stores under faults, through HTTP', { skip }, () => {
  it('the OP answers 503 temporarily_unavailable while the database is away; the code survives', async () => {
    const proxy = await startProxy()
    const pool = new pg.Pool({ connectionString: proxy.url, max: 4, connectionTimeoutMillis: 1000 })
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'op_http_' })
    const logged: string[] = []
    try {
      await stores.migrate()
      const issuer = 'http://127.0.0.1:9999'
      const op = await createOp({
        issuer,
        store: stores.op,
        logger: { warn: (m) => void logged.push(m), error: (m) => void logged.push(m) },
        clients: [
          {
            client_id: 'web',
            client_secret: 'web-secret-0123456789abcdef',
            redirect_uris: ['https://app.example/cb'],
            skip_consent: true,
          },
        ],
        accounts: [{ username: 'alice', password: 'wonderland' }],
        dangerouslyAutoLogin: 'alice',
      })
      const pkce = await Pkce.generate()
      const authorize = `${issuer}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: 'web',
        redirect_uri: 'https://app.example/cb',
        scope: 'openid',
        state: 'state-0123456789abcdef',
        code_challenge: pkce.codeChallenge,
        code_challenge_method: 'S256',
      })}`
      const issued = await op.handler(new Request(authorize))
      assert.ok([302, 303].includes(issued.status), `authorize answered ${issued.status}`)
      const code = new URL(issued.headers.get('location') ?? '').searchParams.get('code') ?? ''
      assert.ok(code)
      const redeem = () =>
        op.handler(
          new Request(`${issuer}/token`, {
            method: 'POST',
            headers: {
              authorization: `Basic ${btoa('web:web-secret-0123456789abcdef')}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({
              grant_type: 'authorization_code',
              code,
              redirect_uri: 'https://app.example/cb',
              code_verifier: pkce.codeVerifier,
            }),
          }),
        )

      await proxy.down()
      for (const response of [await redeem(), await op.handler(new Request(authorize))]) {
        assert.equal(response.status, 503)
        assert.equal((await response.json()).error, 'temporarily_unavailable')
      }
      assert.ok(logged.includes('store unavailable'))
      assert.ok(!logged.some((line) => line.includes(code)))

      await proxy.up()
      const response = await redeem()
      assert.equal(response.status, 200, 'the code was not consumed by the failed attempt')
      assert.ok(typeof (await response.json()).access_token === 'string')
    } finally {
      stores.close()
      await proxy.down()
      await pool.end()
    }
  })

  it('the engine answers 503 store_unavailable while the database is away; no session is written', async () => {
    const idp = await startIdp()
    const proxy = await startProxy()
    const pool = new pg.Pool({ connectionString: proxy.url, max: 4, connectionTimeoutMillis: 1000 })
    const stores = createPostgresStores({ pool, schema: SCHEMA, tablePrefix: 'engine_http_' })
    const sessionCount = async () =>
      Number(
        (await admin.query(`SELECT count(*) AS n FROM "${SCHEMA}".engine_http_sessions`)).rows[0].n,
      )
    try {
      await stores.migrate()
      const engine = sessionEngine(idp.issuer, { store: stores.sessions })
      const browser = new AppBrowser(engine.handler)
      const json = { accept: 'application/json' }
      const first = await browser.startLogin()
      assert.equal((await browser.request(first.callback.toString())).status, 302)
      assert.equal((await browser.request('/auth/session', { headers: json })).status, 200)
      assert.equal(await sessionCount(), 1)

      await proxy.down()
      const during = await browser.request('/auth/session', { headers: json })
      assert.equal(during.status, 503)
      assert.equal((await during.json()).error, 'store_unavailable')
      const second = await browser.startLogin()
      const failed = await browser.request(second.callback.toString())
      assert.equal(failed.status, 503)
      assert.match(await failed.text(), /store_unavailable/)
      assert.equal(await sessionCount(), 1, 'the failed login wrote no session')

      await proxy.up()
      const back = await browser.request('/auth/session', { headers: json })
      assert.equal(back.status, 200, 'the first session survived the outage')
    } finally {
      stores.close()
      await proxy.down()
      await pool.end()
      await idp.close()
    }
  })
})
