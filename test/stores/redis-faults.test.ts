// The Redis stores when Redis fails: a redis-server of our own on a spare port, killed (SIGKILL)
// or frozen (SIGSTOP) mid-test, then brought back. Every operation must reject with
// `store_unavailable` within about the deadline (never hang, never leak a value), and work again
// once the server is back; through HTTP, the OP and the engine answer 503 meanwhile.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { Redis } from 'ioredis'
import { AuthkestraError } from '../../src/core/errors.ts'
import { serve } from '../../src/dev-idp/serve.ts'
import type { StoredSession } from '../../src/engine/sessions/types.ts'
import { createAuthkestra } from '../../src/index.ts'
import { createOp } from '../../src/op/create-op.ts'
import { createRedisStores, type RedisStores } from '../../src/stores/redis.ts'
import { APP, AppBrowser, idpProvider, SECRET } from '../engine/helpers/setup.ts'
import { connect, uniquePrefix } from './redis-helpers.ts'

const hasServer = spawnSync('redis-server', ['--version']).status === 0
const skip = hasServer
  ? false
  : 'redis-server is not installed (these tests start, kill and restart their own server)'
if (skip) console.log(`# skipping the Redis fault tests: ${skip}`)

async function sparePort(): Promise<number> {
  const probe = createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** A redis-server we own: started, killed, frozen and restarted on one port. */
class OwnRedis {
  #child: ChildProcess | undefined
  constructor(
    readonly port: number,
    /** A directory for an append-only file that survives SIGKILL, or none (nothing persists). */
    readonly dir?: string,
  ) {}

  async start(): Promise<void> {
    const persistence = this.dir
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir]
      : ['--appendonly', 'no']
    const child = spawn('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...persistence,
    ])
    this.#child = child
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start: ${output}`)),
        10_000,
      )
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code}): ${output}`))
      })
    })
  }

  /** SIGKILL, and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }

  freeze(): void {
    this.#child?.kill('SIGSTOP')
  }

  thaw(): void {
    this.#child?.kill('SIGCONT')
  }
}

const session = (): StoredSession => ({
  user: { id: 'u-secret-user' },
  provider: 'idp',
  subject: 'sub-secret',
  createdAt: Date.now(),
  expiresAt: Date.now() + 3_600_000,
  lastSeenAt: Date.now(),
})

const code = {
  grantId: 'g-1',
  clientId: 'web',
  sub: 'alice',
  scopes: ['openid'],
  authTime: 1_700_000_000,
  redirectUri: 'https://app.example/cb',
}

const RULE = { limit: 3, windowSeconds: 60 }

/** One call of every store operation. */
const OPERATIONS: readonly [string, (s: RedisStores) => Promise<unknown>][] = [
  ['sessions.get', (s) => s.sessions.get('s-1')],
  ['sessions.set', (s) => s.sessions.set('s-1', session(), 60)],
  ['sessions.touch', (s) => s.sessions.touch('s-1', Date.now(), 60)],
  ['sessions.delete', (s) => s.sessions.delete('s-1')],
  ['op.get', (s) => s.op.get('code', 'c-1')],
  ['op.set', (s) => s.op.set('code', 'c-1', code, { ttlSeconds: 60, family: 'g-1' })],
  ['op.consume', (s) => s.op.consume('code', 'c-1')],
  ['op.list', (s) => s.op.list('key')],
  ['op.revokeFamily', (s) => s.op.revokeFamily('g-1')],
  ['op.delete', (s) => s.op.delete('code', 'c-1')],
  ['rateLimits.hit', (s) => s.rateLimits.hit('rl-1', RULE, Date.now())],
  ['rateLimits.peek', (s) => s.rateLimits.peek('rl-1', RULE, Date.now())],
  ['rateLimits.reset', (s) => s.rateLimits.reset('rl-1')],
]

/** Every operation rejects with store_unavailable, each within `withinMs`. */
async function assertAllUnavailable(stores: RedisStores, withinMs: number): Promise<void> {
  for (const [name, call] of OPERATIONS) {
    const started = performance.now()
    const err = await call(stores).then(
      () => assert.fail(`${name} succeeded while redis is down`),
      (e: unknown) => e,
    )
    const elapsed = performance.now() - started
    assert.ok(err instanceof AuthkestraError, `${name}: ${String(err)}`)
    assert.equal(err.code, 'store_unavailable')
    assert.equal(err.message, `${name} failed: redis unavailable`)
    assert.ok(err.cause instanceof Error, `${name} keeps the cause`)
    assert.equal((err.cause as { command?: unknown }).command, undefined)
    assert.doesNotMatch(`${err.message} ${String(err.cause)}`, /secret|alice|s-1|c-1|g-1/)
    assert.ok(elapsed < withinMs, `${name} took ${Math.round(elapsed)} ms`)
  }
}

/** Every operation works (the data may have been lost with the server). */
async function assertAllWork(stores: RedisStores): Promise<void> {
  await stores.sessions.set('s-1', session(), 60)
  await stores.sessions.touch('s-1', Date.now(), 60)
  assert.equal((await stores.sessions.get('s-1'))?.subject, 'sub-secret')
  await stores.sessions.delete('s-1')
  assert.equal(await stores.sessions.get('s-1'), undefined)
  await stores.op.set('code', 'c-1', code, { ttlSeconds: 60, family: 'g-1' })
  assert.equal((await stores.op.consume('code', 'c-1'))?.alreadyConsumed, false)
  assert.equal((await stores.op.consume('code', 'c-1'))?.alreadyConsumed, true)
  await stores.op.revokeFamily('g-1')
  assert.equal(await stores.op.get('code', 'c-1'), undefined)
  assert.ok(Array.isArray(await stores.op.list('key')))
  await stores.rateLimits.reset('rl-1')
  const now = Date.now()
  assert.deepEqual(await stores.rateLimits.hit('rl-1', RULE, now), {
    allowed: true,
    remaining: 2,
    retryAfterSeconds: 0,
  })
  assert.equal((await stores.rateLimits.peek('rl-1', RULE, now)).remaining, 1)
}

/** Retries `check` until it passes (the client reconnects on its own), up to `timeoutMs`. */
async function eventually(check: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

describe('redis stores when redis fails', { skip }, () => {
  const servers: OwnRedis[] = []
  const clients: Redis[] = []
  let dir: string | undefined
  after(async () => {
    for (const client of clients) client.disconnect()
    for (const server of servers) await server.kill()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function own(dataDir?: string): Promise<OwnRedis> {
    const server = new OwnRedis(await sparePort(), dataDir)
    servers.push(server)
    await server.start()
    return server
  }

  async function client(server: OwnRedis, options = {}): Promise<Redis> {
    const redis = await connect({ host: '127.0.0.1', port: server.port }, options)
    clients.push(redis)
    return redis
  }

  it('killed: every operation fails fast, in-flight ones settle, all work again after a restart', async () => {
    const server = await own()
    const prefix = uniquePrefix('faults')
    const fast = createRedisStores({ redis: await client(server), prefix, commandTimeoutMs: 1000 })
    // A client with ioredis defaults (offline queue, 20 retries): the deadline still bounds it.
    const lax = createRedisStores({
      redis: await client(server, { enableOfflineQueue: true, maxRetriesPerRequest: 20 }),
      prefix,
      commandTimeoutMs: 300,
    })
    await assertAllWork(fast)
    await assertAllWork(lax)

    const started = performance.now()
    const inFlight = Array.from({ length: 200 }, (_, i) =>
      fast.op.set('code', `c-${i}`, code, { ttlSeconds: 60, family: 'g-1' }),
    )
    await server.kill()
    const settled = await Promise.allSettled(inFlight)
    assert.ok(performance.now() - started < 2000, 'in-flight operations settle within the deadline')
    for (const result of settled) {
      if (result.status === 'rejected') {
        assert.equal((result.reason as AuthkestraError).code, 'store_unavailable')
      }
    }

    await assertAllUnavailable(fast, 1500)
    await assertAllUnavailable(lax, 1000)

    await server.start()
    await eventually(() => fast.op.get('code', 'c-1'))
    await assertAllWork(fast) // the scripts died with the server: EVALSHA falls back to EVAL
    await eventually(() => lax.op.get('code', 'c-1'))
    await assertAllWork(lax)
  })

  it('frozen: no reply means store_unavailable after the deadline, then work again', async () => {
    const server = await own()
    const stores = createRedisStores({
      redis: await client(server),
      prefix: uniquePrefix('frozen'),
      commandTimeoutMs: 300,
    })
    await assertAllWork(stores)
    server.freeze()
    try {
      const started = performance.now()
      const err = await stores.op.consume('code', 'c-1').catch((e: unknown) => e)
      const elapsed = performance.now() - started
      assert.ok(err instanceof AuthkestraError && err.code === 'store_unavailable')
      assert.equal(err.message, 'op.consume failed: redis unavailable')
      assert.match(String(err.cause), /no reply from redis within 300 ms/)
      assert.ok(elapsed >= 290 && elapsed < 1000, `took ${Math.round(elapsed)} ms`)
      await assertAllUnavailable(stores, 1000)
    } finally {
      server.thaw()
    }
    await eventually(() => assertAllWork(stores))
  })

  it('through HTTP: the OP and the engine answer 503 while redis is down, and work after', async () => {
    dir = mkdtempSync(join(tmpdir(), 'authkestra-redis-'))
    const server = await own(dir) // append-only file: the OP's clients and keys survive SIGKILL
    const stores = createRedisStores({
      redis: await client(server),
      prefix: uniquePrefix('http'),
      commandTimeoutMs: 1000,
    })
    const logged: unknown[] = []
    let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
    const http: Server = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
    const issuer = `http://127.0.0.1:${(http.address() as { port: number }).port}`
    try {
      const op = await createOp({
        issuer,
        store: stores.op,
        logger: { warn: () => {}, error: (_message, err) => logged.push(err) },
        clients: [
          {
            client_id: 'app',
            client_secret: 'app-secret-0123456789abcdef',
            redirect_uris: [`${APP}/auth/callback/idp`],
            skip_consent: true,
          },
        ],
        accounts: [{ username: 'alice', password: 'wonderland', claims: { name: 'Alice' } }],
        dangerouslyAutoLogin: 'alice',
      })
      handler = op.handler
      const engine = createAuthkestra({
        providers: [idpProvider(issuer)],
        secret: SECRET,
        session: { store: stores.sessions },
      })
      const browser = new AppBrowser(engine.handler)
      const json = { accept: 'application/json' }
      const login = async () => {
        const { callback } = await browser.startLogin()
        assert.equal((await browser.request(callback.href)).status, 302)
        const current = await browser.request('/auth/session', { headers: json })
        assert.equal(current.status, 200)
      }
      await login()

      await server.kill()
      const authorize = new URL(`${issuer}/authorize`)
      for (const [k, v] of Object.entries({
        client_id: 'app',
        redirect_uri: `${APP}/auth/callback/idp`,
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }))
        authorize.searchParams.set(k, v)
      const opDown = await fetch(authorize, { redirect: 'manual' })
      assert.equal(opDown.status, 503)
      assert.equal(((await opDown.json()) as { error: string }).error, 'temporarily_unavailable')
      const tokenDown = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${btoa('app:app-secret-0123456789abcdef')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=authorization_code&code=replayed&redirect_uri=x&code_verifier=y',
      })
      assert.equal(tokenDown.status, 503)
      assert.equal(((await tokenDown.json()) as { error: string }).error, 'temporarily_unavailable')
      assert.ok(logged.length > 0)
      for (const err of logged) assert.equal((err as AuthkestraError).code, 'store_unavailable')

      const sessionDown = await browser.request('/auth/session', { headers: json })
      assert.equal(sessionDown.status, 503)
      assert.equal(((await sessionDown.json()) as { error: string }).error, 'store_unavailable')
      const logoutDown = await browser.request('/auth/logout', {
        method: 'POST',
        headers: { ...json, origin: APP },
      })
      assert.equal(logoutDown.status, 503)

      await server.start()
      await eventually(async () => {
        const back = await browser.request('/auth/session', { headers: json })
        assert.equal(back.status, 200, 'the session survived the restart')
      })
      await login()
      const logout = await browser.request('/auth/logout', {
        method: 'POST',
        headers: { ...json, origin: APP },
      })
      assert.equal(logout.status, 204)
      assert.equal((await browser.request('/auth/session', { headers: json })).status, 401)
    } finally {
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    }
  })
})
