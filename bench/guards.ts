// Guard overhead in Fastify: the same route unguarded (baseline) and guarded by session(auth)
// (memory store, then Redis if reachable) and by bearer({ secret }) with an HS256 at+jwt.
// The Fastify app runs in a child process; this process drives it with concurrent keep-alive
// requests over loopback, in interleaved rounds (medians).
// Run as `node --import tsx bench/guards.ts serve` it is the child.
import { createHash, randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Comparison } from './lib.ts'
import { agent, cpuMs, http, median, runFor, startChild } from './op.ts'

const SELF = fileURLToPath(import.meta.url)
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'
const ISSUER = 'https://issuer.bench'
const AUDIENCE = 'https://api.bench'
const COOKIE = 'sid'

interface GuardsInfo {
  origin: string
  cookie: string
  token: string
  redis: boolean
}

interface Route {
  path: string
  headers: Record<string, string>
}

export async function guardBenchmarks(
  options: { roundMs?: number; rounds?: number; concurrency?: number } = {},
): Promise<Comparison[]> {
  const roundMs = options.roundMs ?? 1500
  const rounds = options.rounds ?? 3
  const concurrency = options.concurrency ?? 32
  const child = await startChild<GuardsInfo>(SELF, ['serve'])
  const { origin, cookie, token } = child.info
  const open: Route = { path: '/open', headers: {} }
  const candidates: { name: string; target: string; route: Route }[] = [
    {
      name: 'session(auth), memory store',
      target: '>= 0.9x',
      route: { path: '/session', headers: { cookie: `${COOKIE}=${cookie}` } },
    },
    ...(child.info.redis
      ? [
          {
            name: 'session(auth), Redis store',
            target: '>= 0.9x',
            route: { path: '/session-redis', headers: { cookie: `${COOKIE}=${cookie}` } },
          },
          {
            name: 'session(auth), Redis store, sessionCache (tracked)',
            target: '>= 0.9x',
            route: {
              path: '/session-redis-cached',
              headers: { cookie: `${COOKIE}=${cookie}` },
            },
          },
        ]
      : []),
    {
      name: 'bearer({ secret }), HS256 at+jwt',
      target: '>= 0.8x',
      route: { path: '/bearer', headers: { authorization: `Bearer ${token}` } },
    },
  ]
  if (!child.info.redis) console.log('guards: Redis store skipped (not reachable)')
  const hit = (route: Route) => async () => {
    const res = await http(new URL(route.path, origin), { headers: route.headers })
    if (res.status !== 200) throw new Error(`${route.path}: ${res.status} ${res.body}`)
  }
  const cpu = new Map<Route, { ms: number; n: number }>()
  const rate = async (route: Route) => {
    const before = cpuMs(child.pid)
    const r = await runFor(roundMs, concurrency, hit(route))
    if (r.errors > 0) throw r.firstError
    const used = cpu.get(route) ?? { ms: 0, n: 0 }
    cpu.set(route, { ms: used.ms + cpuMs(child.pid) - before, n: used.n + r.n })
    return (r.n * 1000) / r.elapsedMs
  }
  const usPerRequest = (route: Route) => {
    const used = cpu.get(route) ?? { ms: 0, n: 1 }
    return ((used.ms * 1000) / used.n).toFixed(0)
  }
  const rows: Comparison[] = []
  try {
    for (const route of [open, ...candidates.map((c) => c.route)]) await rate(route) // warm-up
    for (const candidate of candidates) {
      const b: number[] = []
      const c: number[] = []
      for (let r = 0; r < rounds; r++) {
        b.push(await rate(open))
        c.push(await rate(candidate.route))
      }
      rows.push({
        name: `Fastify route guarded, ${concurrency} concurrent (req/s; server CPU µs/req ${usPerRequest(open)} → ${usPerRequest(candidate.route)})`,
        baseline: 'unguarded',
        candidate: candidate.name,
        baselineOpsPerSec: median(b),
        candidateOpsPerSec: median(c),
        ratio: median(c) / median(b),
        target: candidate.target,
      })
    }
  } finally {
    await child.stop()
  }
  return rows
}

// ---------------------------------------------------------------------------------------------
// The child: a Fastify app with the four routes.

async function serve(): Promise<GuardsInfo> {
  const { default: Fastify } = await import('fastify')
  const { SignJWT } = await import('jose')
  const { bearer, createAuthkestra, createMemorySessionStore, session } = await import(
    '../src/index.ts'
  )
  const { requireAuth } = await import('../src/adapters/fastify.ts')
  const { github } = await import('../src/providers/github.ts')
  type Store = import('../src/index.ts').SessionStore

  // A session as a login stores it: under the SHA-256 of the cookie's id (manager.ts).
  const cookie = randomBytes(32).toString('base64url')
  const key = createHash('sha256').update(cookie).digest('base64url')
  const now = Date.now()
  const stored = {
    user: { id: 'u-1', name: 'Alice Liddell', email: 'alice@example.com' },
    provider: 'github',
    subject: 'sub-1',
    createdAt: now,
    expiresAt: now + 86_400_000,
    lastSeenAt: now,
    userKey: createHash('sha256').update('github:sub-1').digest('base64url'),
  }
  const authWith = async (store: Store) => {
    await store.set(key, stored, 3600)
    return createAuthkestra({
      providers: [
        github({
          clientId: 'bench',
          clientSecret: 'bench',
          redirectUri: 'http://127.0.0.1/auth/callback/github',
        }),
      ],
      secret: SECRET,
      secureCookies: false,
      session: { store, cookieName: COOKIE },
    })
  }
  const app = Fastify({ logger: false })
  const reply = async () => ({ ok: true, items: [1, 2, 3] })
  app.get('/open', reply)
  app.get(
    '/session',
    { preHandler: requireAuth(session(await authWith(createMemorySessionStore()))) },
    reply,
  )
  let redis = false
  try {
    const { Redis } = await import('ioredis')
    const { createRedisStores } = await import('../src/stores/redis.ts')
    const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
    })
    await client.connect()
    const stores = createRedisStores({ redis: client, prefix: `authkestra-bench-${process.pid}:` })
    app.get(
      '/session-redis',
      { preHandler: requireAuth(session(await authWith(stores.sessions))) },
      reply,
    )
    const cached = createRedisStores({
      redis: client,
      prefix: `authkestra-bench-cached-${process.pid}:`,
      sessionCache: true,
    })
    await cached.sessionCache?.ready
    app.get(
      '/session-redis-cached',
      { preHandler: requireAuth(session(await authWith(cached.sessions))) },
      reply,
    )
    redis = true
    process.on('SIGTERM', () => {
      cached.close()
      void client
        .del(
          `authkestra-bench-${process.pid}:session:${key}`,
          `authkestra-bench-cached-${process.pid}:session:${key}`,
        )
        .finally(() => process.exit(0))
    })
  } catch {
    // no Redis: the row is skipped
  }
  app.get(
    '/bearer',
    { preHandler: requireAuth(bearer({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE })) },
    reply,
  )
  const iat = Math.floor(now / 1000)
  const token = await new SignJWT({ scope: 'api', client_id: 'bench' })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('user-1')
    .setJti(randomBytes(8).toString('hex'))
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(new TextEncoder().encode(SECRET))
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })
  return { origin, cookie, token, redis }
}

if (process.argv[1] === SELF && process.argv[2] === 'serve') {
  const info = await serve()
  process.stdout.write(`${JSON.stringify(info)}\n`)
  if (!info.redis) process.on('SIGTERM', () => process.exit(0))
} else if (process.argv[1] === SELF) {
  const { printTable } = await import('./lib.ts')
  printTable(await guardBenchmarks())
  agent.destroy()
}
