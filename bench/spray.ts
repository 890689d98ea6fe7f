// Password spraying at a fixed rate (200 login POSTs/s by default) against our OP in its own
// child process on loopback, with a legitimate user signing in every 500 ms from another address
// meanwhile. The OP trusts loopback as its proxy, so X-Forwarded-For plays the addresses: the
// attack comes from 4, each POST with a new username. Run twice: with the default limits and with
// every limit 'off-unsafe' (the baseline). Reported: what the attack got (401 = a password was
// checked, 429 = refused before any hash, 503 = the OP's password-check queue was full), the
// password checks the OP ran, the legitimate logins that succeeded and their latency, and the
// OP's CPU per attack request. Absolute by nature: its own table in `npm run bench`.
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { agent, cpuMs, http, median, startChild } from './op.ts'

const SELF = fileURLToPath(import.meta.url)
const CLIENT_ID = 'spray'
const REDIRECT_URI = 'http://127.0.0.1:9/cb'
const ATTACKERS = 4
const CHALLENGE = createHash('sha256').update('v'.repeat(43)).digest('base64url')

interface SprayInfo {
  readonly issuer: string
}

export interface SprayResult {
  readonly limits: 'default' | 'off-unsafe'
  readonly seconds: number
  readonly attackPerSec: number
  readonly attack: Readonly<Record<string, number>>
  /** Password checks the OP ran for the attack (the legitimate user's not counted). */
  readonly passwordChecks: number
  readonly legit: {
    readonly attempted: number
    readonly succeeded: number
    readonly p50Ms: number
    readonly maxMs: number
  }
  readonly opCpuMsPerAttackRequest: number
  /**
   * The most password checks the default limits allow the attack in the run: per address, the
   * burst of 20 and one more per 30 s (`passwordPerIp`: 20 per 600 s).
   */
  readonly checksAllowedByLimits: number
}

/** A cookie jar for one browser (names only: the OP's cookies are path-scoped under it). */
class Jar {
  readonly cookies = new Map<string, string>()
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  take(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const pair = line.slice(0, line.indexOf(';') < 0 ? undefined : line.indexOf(';'))
      const eq = pair.indexOf('=')
      const value = pair.slice(eq + 1)
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(pair.slice(0, eq))
      else this.cookies.set(pair.slice(0, eq), value)
    }
  }
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1]
const actionOf = (html: string) =>
  /<form method="post" action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&')

/** A browser at `address`: authorize → the login page; returns its form, or undefined. */
async function openLogin(issuer: string, jar: Jar, address: string) {
  const url = new URL(`${issuer}/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    prompt: 'login',
  }).toString()
  const headers = () => ({ 'x-forwarded-for': address, cookie: jar.header() })
  const start = await http(url, { headers: headers() })
  jar.take(start.headers['set-cookie'])
  const page = await http(new URL(String(start.headers.location), issuer), { headers: headers() })
  jar.take(page.headers['set-cookie'])
  return formOf(page.body)
}

function formOf(html: string): { action: string; csrf: string } | undefined {
  const action = actionOf(html)
  const csrf = csrfOf(html)
  return action && csrf ? { action, csrf } : undefined
}

async function post(
  issuer: string,
  jar: Jar,
  address: string,
  action: string,
  form: Record<string, string>,
) {
  const response = await http(new URL(action, issuer), {
    method: 'POST',
    headers: {
      'x-forwarded-for': address,
      cookie: jar.header(),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  })
  jar.take(response.headers['set-cookie'])
  return response
}

/** Runs one spraying scenario against a fresh OP child. */
export async function sprayBenchmark(
  limits: 'default' | 'off-unsafe',
  options: { seconds?: number; rate?: number } = {},
): Promise<SprayResult> {
  const seconds = options.seconds ?? 30
  const rate = options.rate ?? 200
  const op = await startChild<SprayInfo>(SELF, ['serve', limits])
  const { issuer } = op.info
  try {
    const attack: Record<string, number> = {}
    let sent = 0
    let username = 0
    const total = Math.round(seconds * rate)
    const started = performance.now()
    const cpuBefore = cpuMs(op.pid)
    // One lane per in-flight attack request; each waits for its slot of the fixed schedule.
    const lane = async (i: number) => {
      const address = `198.51.100.${(i % ATTACKERS) + 1}`
      const jar = new Jar()
      let form: { action: string; csrf: string } | undefined
      while (sent < total) {
        form ??= await openLogin(issuer, jar, address)
        if (!form) continue
        const slot = sent++
        const wait = started + (slot * 1000) / rate - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        const response = await post(issuer, jar, address, form.action, {
          username: `user${username++}`,
          password: 'Winter2030!',
          csrf: form.csrf,
        })
        attack[response.status] = (attack[response.status] ?? 0) + 1
        form = formOf(response.body)
      }
    }
    const legit = { attempted: 0, succeeded: 0, latencies: [] as number[] }
    const user = async () => {
      while (performance.now() - started < seconds * 1000) {
        const t = performance.now()
        legit.attempted++
        const jar = new Jar()
        const form = await openLogin(issuer, jar, '192.0.2.50')
        const done = form
          ? await post(issuer, jar, '192.0.2.50', form.action, {
              username: 'alice',
              password: 'wonderland',
              csrf: form.csrf,
            })
          : undefined
        if (done?.status === 303 && String(done.headers.location).startsWith(REDIRECT_URI)) {
          legit.succeeded++
          legit.latencies.push(performance.now() - t)
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 500 - (performance.now() - t))))
      }
    }
    await Promise.all([...Array.from({ length: 32 }, (_, i) => lane(i)), user()])
    const elapsed = (performance.now() - started) / 1000
    const cpu = cpuMs(op.pid) - cpuBefore
    const stats = JSON.parse((await http(new URL(`${issuer}/__stats`))).body) as {
      checks: number
      legitChecks: number
    }
    return {
      limits,
      seconds: elapsed,
      attackPerSec: sent / elapsed,
      attack,
      passwordChecks: stats.checks - stats.legitChecks,
      legit: {
        attempted: legit.attempted,
        succeeded: legit.succeeded,
        p50Ms: legit.latencies.length ? median(legit.latencies) : Number.NaN,
        maxMs: legit.latencies.length ? Math.max(...legit.latencies) : Number.NaN,
      },
      opCpuMsPerAttackRequest: cpu / sent,
      checksAllowedByLimits: ATTACKERS * (20 + Math.floor(elapsed / 30)),
    }
  } finally {
    await op.stop()
  }
}

/** The OP child: built-in-style scrypt password checks (counted), loopback as trusted proxy. */
async function serve(limits: 'default' | 'off-unsafe'): Promise<SprayInfo> {
  const { createServer } = await import('node:http')
  const { createOp } = await import('../src/op/create-op.ts')
  const { opListener } = await import('../src/node/index.ts')
  const { hashPassword, verifyPassword } = await import('../src/core/password.ts')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const hash = await hashPassword('wonderland')
  let checks = 0
  let legitChecks = 0
  const op = await createOp({
    issuer,
    signingAlgs: ['ES256'],
    logger: { warn() {}, error() {} },
    trustedProxies: ['loopback'],
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [REDIRECT_URI],
        skip_consent: true,
      },
    ],
    // Every username costs one scrypt check, as with the built-in accounts (no timing oracle).
    authenticate: async (username, password) => {
      checks++
      if (username === 'alice') legitChecks++
      const ok = await verifyPassword(password, hash)
      return ok && username === 'alice' ? 'alice' : null
    },
    findAccount: async (sub) => ({ sub, claims: {} }),
    ...(limits === 'off-unsafe'
      ? { rateLimits: { passwordPerIp: 'off-unsafe', passwordPerUsername: 'off-unsafe' } as const }
      : {}),
  })
  const listener = opListener(op)
  server.on('request', (req, res) => {
    if (req.url === '/__stats') return void res.end(JSON.stringify({ checks, legitChecks }))
    listener(req, res)
  })
  return { issuer }
}

if (process.argv[1] === SELF && process.argv[2] === 'serve') {
  const info = await serve(process.argv[3] === 'off-unsafe' ? 'off-unsafe' : 'default')
  process.stdout.write(`${JSON.stringify(info)}\n`)
  process.on('SIGTERM', () => process.exit(0))
} else if (process.argv[1] === SELF) {
  for (const limits of ['default', 'off-unsafe'] as const) console.log(await sprayBenchmark(limits))
  agent.destroy()
}
