// `npm run bench` must keep running: its children configure real engines, OPs and stores, so a
// new configuration rule can break them silently (it did once: a redirectUri the engine came to
// refuse). This runs the guard, stateless, device, grant, PAR, OP and load benchmarks for a moment each and checks
// that every row measured something. No figure is compared with a threshold: speed is judged
// in the bench's own ratios, never in tests.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deviceBenchmarks } from '../../bench/device.ts'
import { devsigBenchmarks } from '../../bench/devsig.ts'
import { fapi2Benchmarks } from '../../bench/fapi2.ts'
import { grantBenchmarks } from '../../bench/grants.ts'
import { guardBenchmarks } from '../../bench/guards.ts'
import { loadBenchmark } from '../../bench/load.ts'
import { mfaBenchmarks } from '../../bench/mfa.ts'
import { agent, opBenchmarks } from '../../bench/op.ts'
import { parBenchmarks } from '../../bench/par.ts'
import { privateKeyJwtBenchmarks } from '../../bench/private-key-jwt.ts'
import { sprayBenchmark } from '../../bench/spray.ts'
import { statelessBenchmarks } from '../../bench/stateless.ts'

function measured(rows: { name: string; baselineOpsPerSec: number; candidateOpsPerSec: number }[]) {
  assert.ok(rows.length > 0)
  for (const row of rows) {
    assert.ok(row.baselineOpsPerSec > 0 && Number.isFinite(row.baselineOpsPerSec), row.name)
    assert.ok(row.candidateOpsPerSec > 0 && Number.isFinite(row.candidateOpsPerSec), row.name)
  }
}

describe('npm run bench still runs (a moment of each benchmark)', () => {
  it('guards', async () => measured(await guardBenchmarks({ roundMs: 100, rounds: 1 })))
  it('stateless', async () => measured(await statelessBenchmarks({ ms: 20, rounds: 1 })))
  it('device polling', async () => measured(await deviceBenchmarks()))
  it('devsig', async () => measured(await devsigBenchmarks({ ms: 20, rounds: 1, pool: 1000 })))
  it('custom grant and token exchange', async () =>
    measured(await grantBenchmarks({ rounds: 1, ms: 50 })))
  it('second factors', async () =>
    measured(await mfaBenchmarks({ rounds: 1, ms: 50, assertions: 50 })))
  it('private_key_jwt', async () =>
    measured(await privateKeyJwtBenchmarks({ rounds: 1, ms: 50, pool: 2000 })))
  it('FAPI 2.0 token requests', async () =>
    measured(await fapi2Benchmarks({ rounds: 1, ms: 50, pool: 2000 })))
  it('PAR logins', async () => measured(await parBenchmarks({ rounds: 1, ms: 50 })))
  it('OP logins', async () => measured(await opBenchmarks({ roundMs: 200, rounds: 1 })))
  it('password spraying', async () => {
    const run = await sprayBenchmark('default', { seconds: 1, rate: 50 })
    assert.ok(Object.keys(run.attack).length > 0, 'the attack was answered')
    assert.ok(run.legit.attempted > 0)
  })
  it('load', async () => {
    const load = await loadBenchmark(200, 8)
    assert.equal(load.errors, 0)
    agent.destroy()
  })
})
