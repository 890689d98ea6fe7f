// `npm run bench`: prints a table and writes bench/results.json. Every figure is a ratio against
// a baseline measured in the same run; absolute numbers on a shared machine are noise. The
// memory and load benchmarks are absolute by nature (MiB, error count) and get their own table.
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { cryptoBenchmarks } from './crypto.ts'
import { deviceBenchmarks } from './device.ts'
import { devsigBenchmarks } from './devsig.ts'
import { dpopBenchmarks } from './dpop.ts'
import { fapi2Benchmarks } from './fapi2.ts'
import { grantBenchmarks } from './grants.ts'
import { guardBenchmarks } from './guards.ts'
import { printTable } from './lib.ts'
import { loadBenchmark } from './load.ts'
import { memoryBenchmark } from './memory.ts'
import { mfaBenchmarks } from './mfa.ts'
import { agent, opBenchmarks } from './op.ts'
import { parBenchmarks } from './par.ts'
import { privateKeyJwtBenchmarks } from './private-key-jwt.ts'
import { signingBenchmarks, signingStartCost } from './signing.ts'
import { sprayBenchmark } from './spray.ts'
import { statelessBenchmarks } from './stateless.ts'
import { memoryReadBenchmarks, storeBenchmarks } from './stores.ts'

const started = performance.now()
const rows = [
  ...(await cryptoBenchmarks()),
  ...(await storeBenchmarks()),
  ...(await memoryReadBenchmarks()),
  ...(await statelessBenchmarks()),
  ...(await opBenchmarks()),
  ...(await guardBenchmarks()),
  ...(await deviceBenchmarks()),
  ...(await grantBenchmarks()),
  ...(await dpopBenchmarks()),
  ...(await devsigBenchmarks()),
  ...(await parBenchmarks()),
  ...(await signingBenchmarks()),
  ...(await privateKeyJwtBenchmarks()),
  ...(await fapi2Benchmarks()),
  ...(await mfaBenchmarks()),
]
const memory = await memoryBenchmark()
const load = await loadBenchmark()
const signingStart = await signingStartCost()
const spray = await sprayBenchmark('default')
const sprayOpen = await sprayBenchmark('off-unsafe')
agent.destroy()

const sprayed = (r: typeof spray) =>
  `${Math.round(r.attackPerSec)} POSTs/s for ${r.seconds.toFixed(0)} s: ${r.passwordChecks} password checks for the attack (${Object.entries(
    r.attack,
  )
    .map(([status, n]) => `${n}× ${status}`)
    .join(
      ', ',
    )}); legitimate logins ${r.legit.succeeded}/${r.legit.attempted}, p50 ${Math.round(r.legit.p50Ms)} ms; OP CPU ${r.opCpuMsPerAttackRequest.toFixed(2)} ms/POST`

const measurements = [
  {
    name: 'memory session store, 1,000,000 sessions (RSS growth after GC)',
    baseline: `${memory.baselineRssMiB.toFixed(0)} MiB RSS before filling`,
    measured: `${memory.growthMiB.toFixed(0)} MiB (${memory.bytesPerSession.toFixed(0)} B/session; heap +${memory.heapUsedGrowthMiB.toFixed(0)} MiB)`,
    target: '<= 400 MB',
    met: memory.growthMiB * 2 ** 20 <= 400e6,
    details: memory,
  },
  {
    name: `load: ${load.logins.toLocaleString('en-US')} OP logins at concurrency ${load.concurrency}`,
    baseline: '0 errors',
    measured: `${load.errors} errors, ${load.seconds.toFixed(1)} s, ${Math.round(load.loginsPerSec)} logins/s, OP CPU ${load.opCpuMsPerLogin.toFixed(2)} ms/login`,
    target: '0 errors',
    met: load.errors === 0,
    details: load,
  },
  {
    name: 'password spraying from 4 addresses, a legitimate user from a fifth (bench/spray.ts)',
    baseline: `limits off-unsafe: ${sprayed(sprayOpen)}`,
    measured: `default limits: ${sprayed(spray)}`,
    target: `checks <= ${spray.checksAllowedByLimits} (20 + 1 per 30 s per address); every legitimate login succeeds`,
    met:
      spray.passwordChecks <= spray.checksAllowedByLimits &&
      spray.legit.succeeded === spray.legit.attempted &&
      spray.legit.attempted > 0,
    details: { spray, sprayOpen },
  },
  {
    name: 'OP first start with signingAlgs ES256 + RS256 (only the ES256 key made at start)',
    baseline: `key generation ms: ${Object.entries(signingStart.keygenMs)
      .map(([alg, ms]) => `${alg} ${ms.toFixed(1)}`)
      .join(', ')}`,
    measured: `createOp ${signingStart.startMs.toFixed(1)} ms (median of 5)`,
    target: '<= 100 ms',
    met: signingStart.startMs <= 100,
    details: signingStart,
  },
]

printTable(rows)
console.log('\n| benchmark | baseline | measured | target | met |')
console.log('|---|---|---|---|---|')
for (const m of measurements) {
  console.log(
    `| ${m.name} | ${m.baseline} | ${m.measured} | ${m.target} | ${m.met ? 'yes' : 'no'} |`,
  )
}
const machine = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
}
writeFileSync(
  new URL('./results.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), machine, results: rows, measurements }, null, 2)}\n`,
)
console.log(
  `\nwrote bench/results.json (${machine.cpu}, ${machine.cores} cores, Node ${machine.node}) in ${((performance.now() - started) / 1000).toFixed(0)} s`,
)
