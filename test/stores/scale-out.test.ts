// Scale-out: two app instances in separate processes share one Redis. A login started on one
// completes on the other (the flow state travels in its sealed cookie, the session in Redis),
// and a logout on one is seen by the other; in stateless mode too (the revocation in Redis).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import type { Server } from 'node:http'
import { Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { serve } from '../../src/dev-idp/serve.ts'
import { createOp } from '../../src/op/create-op.ts'
import { freePort } from '../helpers/net.ts'

const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const SECRET = 'scale-out-test-secret-that-is-long-enough-01'
const root = new URL('../../', import.meta.url).pathname

async function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    socket.setTimeout(1000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.connect(port, host)
  })
}

const redisUp = await reachable(REDIS.hostname, Number(REDIS.port || 6379))
if (!redisUp) console.log(`# scale-out test skipped: no Redis at ${REDIS.host} (set REDIS_URL)`)

describe('scale-out over a shared Redis', {
  skip: redisUp ? false : `no Redis at ${REDIS.host}`,
}, () => {
  const children: ChildProcess[] = []
  let idp: Server
  let a = 0
  let b = 0
  let c = 0
  let d = 0

  function instance(
    name: string,
    port: number,
    issuer: string,
    prefix: string,
    mode: 'session' | 'jwt' = 'session',
  ): Promise<void> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/stores/helpers/app-instance.ts'],
      {
        cwd: root,
        env: {
          ...process.env,
          NAME: name,
          PORT: String(port),
          ISSUER: issuer,
          REDIRECT: `http://127.0.0.1:${mode === 'jwt' ? c : a}/auth/callback/idp`,
          PREFIX: prefix,
          MODE: mode,
          REDIS_URL: REDIS.href,
          SECRET,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    children.push(child)
    let output = ''
    return new Promise((resolve, reject) => {
      child.stdout?.on('data', (d) => {
        output += d
        if (output.includes('ready')) resolve()
      })
      child.stderr?.on('data', (d) => {
        output += d
      })
      child.on('exit', (code) => reject(new Error(`instance ${name} exited ${code}: ${output}`)))
    })
  }

  before(async () => {
    let handler: (r: Request) => Promise<Response> = async () => new Response(null, { status: 503 })
    idp = await serve((r) => handler(r), { host: '127.0.0.1', port: 0 })
    const issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}`
    a = await freePort()
    b = await freePort()
    c = await freePort()
    d = await freePort()
    const op = await createOp({
      issuer,
      logger: { warn: () => {}, error: () => {} },
      clients: [
        {
          client_id: 'app',
          client_secret: 'app-secret-0123456789abcdef',
          redirect_uris: [
            `http://127.0.0.1:${a}/auth/callback/idp`,
            `http://127.0.0.1:${c}/auth/callback/idp`,
          ],
          skip_consent: true,
        },
      ],
      accounts: [
        { username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } },
      ],
      dangerouslyAutoLogin: 'alice',
    })
    handler = op.handler
    const prefix = `authkestra-scale-${process.pid}-${Date.now()}:`
    await Promise.all([
      instance('A', a, issuer, prefix),
      instance('B', b, issuer, prefix),
      instance('C', c, issuer, `${prefix}jwt:`, 'jwt'),
      instance('D', d, issuer, `${prefix}jwt:`, 'jwt'),
    ])
  })

  after(async () => {
    for (const child of children) child.kill('SIGTERM')
    idp?.closeAllConnections()
    idp?.close()
  })

  it('completes on B a login started on A, shares the session, and shares the logout', async () => {
    const login = await fetch(`http://127.0.0.1:${a}/auth/login/idp?returnTo=/api/me`, {
      redirect: 'manual',
    })
    assert.equal(login.status, 302)
    const flowCookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? ''
    const atOp = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' })
    const callback = new URL(atOp.headers.get('location') ?? '')
    callback.port = String(b) // the load balancer sends the callback to the other instance
    const done = await fetch(callback, { redirect: 'manual', headers: { cookie: flowCookie } })
    assert.equal(done.status, 302, await done.text())
    const sessionCookie =
      (done.headers.getSetCookie().find((c) => c.startsWith('ak_session=')) ?? '').split(';')[0] ??
      ''
    assert.match(sessionCookie, /^ak_session=/)
    for (const [port, name] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      const me = await fetch(`http://127.0.0.1:${port}/api/me`, {
        headers: { cookie: sessionCookie },
      })
      assert.equal(me.status, 200)
      const body = (await me.json()) as { instance: string; user: { email: string } }
      assert.equal(body.instance, name)
      assert.equal(body.user.email, 'alice@example.com')
    }
    const logout = await fetch(`http://127.0.0.1:${a}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: sessionCookie, origin: `http://127.0.0.1:${a}` },
    })
    assert.equal(logout.status, 303)
    const after = await fetch(`http://127.0.0.1:${b}/api/me`, {
      headers: { cookie: sessionCookie },
    })
    assert.equal(after.status, 401, 'B sees the logout made on A')
  })

  it('stateless mode: a logout on C revokes the token on D, as a cookie and as a bearer token', async () => {
    const login = await fetch(`http://127.0.0.1:${c}/auth/login/idp`, { redirect: 'manual' })
    const flowCookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? ''
    const atOp = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' })
    const callback = new URL(atOp.headers.get('location') ?? '')
    callback.port = String(d)
    const done = await fetch(callback, { redirect: 'manual', headers: { cookie: flowCookie } })
    assert.equal(done.status, 302, await done.text())
    const tokenCookie =
      (done.headers.getSetCookie().find((x) => x.startsWith('ak_token=')) ?? '').split(';')[0] ?? ''
    const token = tokenCookie.slice('ak_token='.length)
    assert.equal(token.split('.').length, 3)
    const me = (port: number, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/api/me`, { headers })
    assert.equal((await me(d, { cookie: tokenCookie })).status, 200)
    const logout = await fetch(`http://127.0.0.1:${c}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: tokenCookie, origin: `http://127.0.0.1:${c}` },
    })
    assert.equal(logout.status, 303)
    assert.equal((await me(d, { cookie: tokenCookie })).status, 401, 'D sees the revocation')
    assert.equal((await me(d, { authorization: `Bearer ${token}` })).status, 401)
    assert.equal((await me(c, { authorization: `Bearer ${token}` })).status, 401)
  })
})
