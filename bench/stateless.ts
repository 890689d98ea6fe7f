// What the stateless logout costs: `verifyRequest` of a session JWT (HS256 signature and claims)
// without a revocation store (baseline: the explicit opt-out) and with one (the token's login
// and user looked up in one call), for each store. Serial calls, as one request would make them;
// the process CPU per verification is measured beside the rate (the driver is this process).
// Stores whose server is not reachable are skipped with a printed reason.
import { createKeyring } from '../src/core/keyring.ts'
import { StatelessTokens } from '../src/engine/stateless.ts'
import {
  createAuthkestra,
  createMemoryRevocationStore,
  type RevocationStore,
  type StatelessAuthkestra,
} from '../src/index.ts'
import { github } from '../src/providers/github.ts'
import type { Comparison } from './lib.ts'
import { databaseStores } from './stores.ts'

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'
const ORIGIN = 'http://127.0.0.1:3000'

function engine(revocations: RevocationStore | 'none-logout-keeps-tokens-valid-until-exp') {
  return createAuthkestra({
    providers: [
      github({
        clientId: 'bench',
        clientSecret: 'bench',
        redirectUri: `${ORIGIN}/auth/callback/github`,
      }),
    ],
    secret: SECRET,
    jwt: { revocations, delivery: 'json' },
  })
}

interface Rate {
  opsPerSec: number
  cpuUsPerOp: number
}

async function rate(op: () => Promise<unknown>, ms: number): Promise<Rate> {
  let n = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  while (performance.now() - start < ms) {
    for (let i = 0; i < 32; i++) await op()
    n += 32
  }
  const elapsed = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { opsPerSec: (n * 1000) / elapsed, cpuUsPerOp: (used.user + used.system) / n }
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

async function stores(): Promise<
  { name: string; store: RevocationStore; close(): Promise<void> }[]
> {
  const memory = { name: 'memory', store: createMemoryRevocationStore(), close: async () => {} }
  const databases = await databaseStores('revocations')
  return [memory, ...databases.map((d) => ({ name: d.name, store: d.revocations, close: d.close }))]
}

export async function statelessBenchmarks(
  options: { ms?: number; rounds?: number } = {},
): Promise<Comparison[]> {
  const ms = options.ms ?? 300
  const rounds = options.rounds ?? 5
  const plain = engine('none-logout-keeps-tokens-valid-until-exp')
  // A token as a login issues it, signed by the engine's own token code under the same secret.
  const tokens = new StatelessTokens(
    createKeyring(SECRET),
    { ttlSeconds: 3600, absoluteSeconds: 86_400, issuer: 'authkestra', audience: 'authkestra' },
    { now: () => Date.now() },
  )
  const who = { provider: 'github', subject: '583231' }
  const user = { id: 'u-1', name: 'Alice Liddell', email: 'alice@example.com' }
  const { token } = await tokens.issue(user, who, tokens.newLogin('A'.repeat(43)))
  const request = new Request(`${ORIGIN}/api`, { headers: { authorization: `Bearer ${token}` } })
  const verifyWith = (auth: StatelessAuthkestra<unknown>) => async () => {
    if (!(await auth.verifyRequest(request))) throw new Error('token refused')
  }
  const rows: Comparison[] = []
  for (const candidate of await stores()) {
    try {
      const withStore = engine(candidate.store)
      // a few unrelated revocations, so the lookup is not of an empty table
      for (let i = 0; i < 100; i++)
        await candidate.store.revoke(`sid:bench${i}`, Date.now(), Date.now() + 3_600_000)
      await rate(verifyWith(plain), 50)
      await rate(verifyWith(withStore), 50)
      const b: Rate[] = []
      const c: Rate[] = []
      for (let r = 0; r < rounds; r++) {
        b.push(await rate(verifyWith(plain), ms))
        c.push(await rate(verifyWith(withStore), ms))
      }
      const bOps = median(b.map((x) => x.opsPerSec))
      const cOps = median(c.map((x) => x.opsPerSec))
      const bCpu = median(b.map((x) => x.cpuUsPerOp))
      const cCpu = median(c.map((x) => x.cpuUsPerOp))
      rows.push({
        name: `stateless verifyRequest, serial (CPU µs/op ${bCpu.toFixed(1)} → ${cCpu.toFixed(1)})`,
        baseline: 'no revocation store',
        candidate: `revocations: ${candidate.name}`,
        baselineOpsPerSec: bOps,
        candidateOpsPerSec: cOps,
        ratio: cOps / bOps,
      })
    } finally {
      await candidate.close()
    }
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printTable } = await import('./lib.ts')
  printTable(await statelessBenchmarks())
}
