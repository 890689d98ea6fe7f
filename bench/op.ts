// The embedded OP against `oidc-provider` v9: a full login (authorize → automatic login → code →
// token with PKCE) over real HTTP on loopback. Each OP runs in its own child process, so its CPU
// is read from /proc/<pid>/stat; the driver (this process) uses one keep-alive `node:http` client
// for both. Both sign ES256 ID tokens, keep state in memory and require PKCE from a public client.
//
// Also the shared helpers of the HTTP benchmarks (child processes, the client, timed loops).
// Run as `node --import tsx bench/op.ts serve ours|theirs` it is the child.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { serveFloor } from './floor-op.ts'
import type { Comparison } from './lib.ts'

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** A child process that printed one JSON line (its `info`) once ready. */
export interface Child<Info> {
  readonly pid: number
  readonly info: Info
  stop(): Promise<void>
}

/** Starts `node [nodeArgs] --import tsx <file> ...args` and waits for its first stdout line. */
export function startChild<Info>(
  file: string,
  args: readonly string[],
  nodeArgs: readonly string[] = [],
): Promise<Child<Info>> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', file, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl < 0) return
      child.stdout?.off('data', onData)
      child.stdout?.resume()
      try {
        const info = JSON.parse(out.slice(0, nl)) as Info
        resolve({
          pid: child.pid as number,
          info,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done()
              child.once('exit', () => done())
              child.kill('SIGTERM')
            }),
        })
      } catch {
        reject(new Error(`child ${args.join(' ')} said: ${out}\n${stderr}`))
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) =>
      reject(new Error(`child ${args.join(' ')} exited (${code}): ${stderr}`)),
    )
  })
}

const TICK_MS = 10 // USER_HZ is 100 on Linux

/** User + system CPU time of a process so far, in ms (all its threads). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

/** One keep-alive agent for every benchmark request. */
export const agent = new Agent({ keepAlive: true, maxSockets: 512 })

export interface HttpResponse {
  status: number
  headers: IncomingMessage['headers']
  body: string
}

/** A minimal HTTP/1.1 client on `node:http` (lighter than fetch, so the driver stays cheap). */
export function http(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Runs `op` on `concurrency` workers until `ms` elapsed; returns completions and errors. */
export async function runFor(
  ms: number,
  concurrency: number,
  op: () => Promise<unknown>,
): Promise<{ n: number; errors: number; elapsedMs: number; firstError?: unknown }> {
  const start = performance.now()
  const end = start + ms
  let n = 0
  let errors = 0
  let firstError: unknown
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          await op()
          n++
        } catch (err) {
          errors++
          firstError ??= err
        }
      }
    }),
  )
  return { n, errors, elapsedMs: performance.now() - start, firstError }
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

// ---------------------------------------------------------------------------------------------
// The login (driver side)

export const CLIENT_ID = 'bench'
export const REDIRECT_URI = 'http://127.0.0.1:9/cb'

export interface OpInfo {
  issuer: string
  authorize: string
  token: string
}

/**
 * One full login, as a browser plus a public client would do it; throws on any deviation.
 * `session`: the cookies of a browser already signed in at the OP (single sign-on).
 */
export async function login(op: OpInfo, session?: ReadonlyMap<string, string>): Promise<void> {
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const state = randomBytes(16).toString('base64url')
  const url = new URL(op.authorize)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString()
  const jar = new Map<string, string>(session)
  let next = url
  let code: string | undefined
  for (let hop = 0; hop < 8 && code === undefined; hop++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await http(next, cookie ? { headers: { cookie } } : {})
    for (const c of res.headers['set-cookie'] ?? []) {
      const pair = c.slice(0, c.indexOf(';') < 0 ? c.length : c.indexOf(';'))
      const eq = pair.indexOf('=')
      jar.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
    const location = res.headers.location
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`${next.pathname}: ${res.status} ${res.body.slice(0, 300)}`)
    }
    next = new URL(location, next)
    if (next.href.startsWith(REDIRECT_URI)) {
      if (next.searchParams.get('state') !== state) throw new Error(`bad callback ${next.search}`)
      code = next.searchParams.get('code') ?? undefined
      if (code === undefined) throw new Error(`no code: ${next.search}`)
    }
  }
  if (code === undefined) throw new Error('too many redirects')
  const res = await http(new URL(op.token), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: verifier,
    }).toString(),
  })
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.body.slice(0, 300)}`)
  const tokens = JSON.parse(res.body) as { id_token?: string; access_token?: string }
  if (!tokens.id_token || !tokens.access_token) throw new Error('token: no id_token/access_token')
}

const SELF = fileURLToPath(import.meta.url)

/**
 * Starts one OP in a child process: `ours` (createOp, served Node-natively), `theirs`
 * (oidc-provider) or `floor` (the minimal bare node:http OP of `floor-op.ts`).
 */
export function startOp(which: 'ours' | 'ours-sso' | 'theirs' | 'floor'): Promise<Child<OpInfo>> {
  return startChild<OpInfo>(SELF, ['serve', which])
}

// ---------------------------------------------------------------------------------------------
// The benchmark

export interface OpBenchOptions {
  roundMs?: number
  rounds?: number
}

type Which = 'ours' | 'theirs' | 'floor'

export async function opBenchmarks(options: OpBenchOptions = {}): Promise<Comparison[]> {
  const roundMs = options.roundMs ?? 2500
  const rounds = options.rounds ?? 3
  const ops: Record<Which, Child<OpInfo>> = {
    ours: await startOp('ours'),
    theirs: await startOp('theirs'),
    floor: await startOp('floor'),
  }
  const names: Which[] = ['theirs', 'ours', 'floor']
  const rows: Comparison[] = []
  try {
    for (const name of names) {
      const warm = await runFor(1500, 8, () => login(ops[name].info))
      if (warm.errors > 0) throw warm.firstError
    }
    for (const concurrency of [1, 16]) {
      const rate: Record<Which, number[]> = { ours: [], theirs: [], floor: [] }
      const cpu: Record<Which, { ms: number; n: number }> = {
        ours: { ms: 0, n: 0 },
        theirs: { ms: 0, n: 0 },
        floor: { ms: 0, n: 0 },
      }
      for (let r = 0; r < rounds; r++) {
        // Rotate the order so that no OP always runs first (or last) in a round.
        const order = names.map((_, i) => names[(i + r) % names.length] as Which)
        for (const name of order) {
          const op = ops[name]
          const before = cpuMs(op.pid)
          const res = await runFor(roundMs, concurrency, () => login(op.info))
          cpu[name].ms += cpuMs(op.pid) - before
          cpu[name].n += res.n
          if (res.errors > 0) throw res.firstError
          rate[name].push((res.n * 1000) / res.elapsedMs)
        }
      }
      const perCpuSecond = (name: Which) => (cpu[name].n * 1000) / cpu[name].ms
      const msPerLogin = (name: Which) => (cpu[name].ms / cpu[name].n).toFixed(2)
      rows.push({
        name: `OP login, concurrency ${concurrency} (logins/s)`,
        baseline: 'oidc-provider 9',
        candidate: 'authkestra OP',
        baselineOpsPerSec: median(rate.theirs),
        candidateOpsPerSec: median(rate.ours),
        ratio: median(rate.ours) / median(rate.theirs),
      })
      // CPU as logins per OP CPU-second, so the ratio reads like the others (> 1: ours cheaper).
      const cpuRow = (baseline: 'theirs' | 'floor', label: string, target: string) => ({
        name: `OP CPU, concurrency ${concurrency} (logins per OP CPU-s; ms/login ${msPerLogin(baseline)} → ${msPerLogin('ours')})`,
        baseline: label,
        candidate: 'authkestra OP',
        baselineOpsPerSec: perCpuSecond(baseline),
        candidateOpsPerSec: perCpuSecond('ours'),
        ratio: perCpuSecond('ours') / perCpuSecond(baseline),
        target,
      })
      rows.push(cpuRow('theirs', 'oidc-provider 9', '>= 4x (CPU <= 0.25x)'))
      rows.push(cpuRow('floor', 'minimal bare node:http OP', '>= 0.67x (CPU <= 1.5x)'))
    }
    rows.push(...(await ssoRows(ops.ours, roundMs, rounds)))
  } finally {
    for (const name of names) await ops[name].stop()
  }
  return rows
}

/**
 * What a login over an OP session costs against the automatic login (both ours, concurrency 16):
 * the browser signed in once through the login form, then every login reads the session and the
 * consent, and records the client in the session (two writes, for logout) before the code.
 */
async function ssoRows(
  auto: Child<OpInfo>,
  roundMs: number,
  rounds: number,
): Promise<Comparison[]> {
  const sso = await startOp('ours-sso')
  try {
    const { loginThroughForm } = await import('../test/helpers/login-form.ts')
    const { CookieJar } = await import('../test/helpers/cookie-jar.ts')
    const jar = new CookieJar()
    const url = new URL(sso.info.authorize)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString()
    await loginThroughForm(url, { username: 'alice', password: 'wonderland-bench', jar })
    const session = new Map(
      (jar.header() ?? '').split('; ').map((pair) => {
        const eq = pair.indexOf('=')
        return [pair.slice(0, eq), pair.slice(eq + 1)] as [string, string]
      }),
    )
    const warm = await runFor(1500, 8, () => login(sso.info, session))
    if (warm.errors > 0) throw warm.firstError
    const runs = {
      auto: { ms: 0, n: 0, rate: [] as number[] },
      sso: { ms: 0, n: 0, rate: [] as number[] },
    }
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? (['auto', 'sso'] as const) : (['sso', 'auto'] as const)) {
        const child = name === 'auto' ? auto : sso
        const before = cpuMs(child.pid)
        const res = await runFor(roundMs, 16, () =>
          login(child.info, name === 'sso' ? session : undefined),
        )
        if (res.errors > 0) throw res.firstError
        runs[name].ms += cpuMs(child.pid) - before
        runs[name].n += res.n
        runs[name].rate.push((res.n * 1000) / res.elapsedMs)
      }
    }
    const perCpuSecond = (name: 'auto' | 'sso') => (runs[name].n * 1000) / runs[name].ms
    const msPerLogin = (name: 'auto' | 'sso') => (runs[name].ms / runs[name].n).toFixed(2)
    return [
      {
        name: `OP CPU, concurrency 16 (logins per OP CPU-s; ms/login ${msPerLogin('auto')} → ${msPerLogin('sso')})`,
        baseline: 'authkestra OP, automatic login',
        candidate: 'authkestra OP, signed-in browser (SSO, session-client records)',
        baselineOpsPerSec: perCpuSecond('auto'),
        candidateOpsPerSec: perCpuSecond('sso'),
        ratio: perCpuSecond('sso') / perCpuSecond('auto'),
      },
    ]
  } finally {
    await sso.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// The children

/** Listens on 127.0.0.1:0 first (the issuer needs the port), then installs the real handler. */
async function listen(): Promise<{
  issuer: string
  setHandler(h: (req: IncomingMessage, res: ServerResponse) => void): void
}> {
  let handle = (_req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = 503
    res.end()
  }
  const server = createServer((req, res) => handle(req, res))
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    issuer: `http://127.0.0.1:${port}`,
    setHandler: (h) => {
      handle = h
    },
  }
}

async function serveOurs(autoLogin = true): Promise<OpInfo> {
  const { createOp } = await import('../src/op/create-op.ts')
  const { opRequestOf, writeOpResponse } = await import('../src/node/op-message.ts')
  const { issuer, setHandler } = await listen()
  const op = await createOp({
    issuer,
    signingAlg: 'ES256',
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code'],
        skip_consent: true,
      },
    ],
    accounts: [{ username: 'alice', password: 'wonderland-bench', claims: { name: 'Alice' } }],
    ...(autoLogin ? { dangerouslyAutoLogin: 'alice' } : {}),
    logger: { warn: () => {}, error: (m) => process.stderr.write(`${m}\n`) },
  })
  // The Node-native path the dev IdP serves on (src/node/op-message.ts): no Web objects.
  setHandler((req, res) => {
    op.handleMessage(opRequestOf(req, issuer))
      .then((response) => writeOpResponse(res, response))
      .catch(() => {
        res.statusCode = 500
        res.end()
      })
  })
  const meta = op.metadata() as { authorization_endpoint: string; token_endpoint: string }
  return { issuer, authorize: meta.authorization_endpoint, token: meta.token_endpoint }
}

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  interactionDetails(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ prompt: { name: string } }>
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
  ): Promise<void>
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

async function serveTheirs(): Promise<OpInfo> {
  const { exportJWK, generateKeyPair } = await import('jose')
  // @ts-expect-error oidc-provider ships no type declarations
  const { default: ProviderClass } = await import('oidc-provider')
  const { issuer, setHandler } = await listen()
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'es256-bench', alg: 'ES256', use: 'sig' }
  const Provider = ProviderClass as new (issuer: string, config: unknown) => Provider
  type GrantCtx = {
    oidc: {
      client: { clientId: string }
      session: { accountId: string }
      provider: {
        Grant: new (init: {
          clientId: string
          accountId: string
        }) => { addOIDCScope(s: string): void; save(): Promise<string> }
      }
    }
  }
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    claims: { openid: ['sub'], profile: ['name'] },
    scopes: ['openid', 'profile'],
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, name: 'Alice' }),
    }),
    // oidc-provider's documented recipe for a first-party client: grant without a consent
    // prompt (the same as `skip_consent` on ours), so its login is authorize → login → code.
    loadExistingGrant: async (ctx: GrantCtx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      })
      grant.addOIDCScope('openid')
      await grant.save()
      return grant
    },
  })
  provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error ${String(err)}\n`))
  const callback = provider.callback()
  setHandler((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/interaction/')) {
      // The automatic login of test/e2e/helpers/oidc-provider-server.ts.
      provider
        .interactionDetails(req, res)
        .then((details) => {
          if (details.prompt.name !== 'login') throw new Error(`prompt ${details.prompt.name}`)
          return provider.interactionFinished(req, res, { login: { accountId: 'alice' } })
        })
        .catch((err: unknown) => {
          process.stderr.write(`interaction: ${String(err)}\n`)
          res.statusCode = 500
          res.end()
        })
      return
    }
    callback(req, res)
  })
  return { issuer, authorize: `${issuer}/auth`, token: `${issuer}/token` }
}

if (process.argv[1] === SELF && process.argv[2] === 'serve') {
  const which = process.argv[3]
  const info =
    which === 'theirs'
      ? await serveTheirs()
      : which === 'floor'
        ? await serveFloor(CLIENT_ID, REDIRECT_URI)
        : await serveOurs(which !== 'ours-sso')
  process.stdout.write(`${JSON.stringify(info)}\n`)
  process.on('SIGTERM', () => process.exit(0))
} else if (process.argv[1] === SELF) {
  const { printTable } = await import('./lib.ts')
  printTable(await opBenchmarks())
  agent.destroy()
}
