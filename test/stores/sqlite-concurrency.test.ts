// Atomicity across connections: worker threads, each with its own better-sqlite3 connection to
// one WAL file, migrate at once, then race to consume the same codes (every code is consumed
// first exactly once overall) or to hit the same rate limit (exactly `limit` hits get through).
// (This file is also the workers' code: see `isMainThread`.)
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { createSqliteStores } from '../../src/stores/sqlite.ts'

interface Job {
  readonly file: string
  /** [0]: go migrate, [1]: go consume (0 = wait, 1 = go). */
  readonly gates: SharedArrayBuffer
  readonly ids: readonly string[]
  /** Hit the rate limit `ids[0]` this many times instead of consuming codes. */
  readonly hits?: number
}

const RULE = { limit: 10, windowSeconds: 60 }
const NOW = 1_795_000_000_000.5

const WORKERS = 4
// Node 20 workers do not inherit the tsx loader: register it, then load this file.
const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => register())
  .then(() => import(${JSON.stringify(import.meta.url)}))`
const CODES = 25

/** Blocks this worker until the main thread opens gate `i`. */
function waitGate(gates: SharedArrayBuffer, i: number): void {
  Atomics.wait(new Int32Array(gates), i, 0)
}

function openGate(gates: SharedArrayBuffer, i: number): void {
  const view = new Int32Array(gates)
  Atomics.store(view, i, 1)
  Atomics.notify(view, i)
}

async function work({ file, gates, ids, hits }: Job): Promise<void> {
  const database = new Database(file)
  const stores = createSqliteStores({ database })
  waitGate(gates, 0)
  await stores.migrate()
  parentPort?.postMessage({ migrated: true })
  waitGate(gates, 1)
  if (hits !== undefined) {
    const remaining: number[] = []
    for (let i = 0; i < hits; i++) {
      const decision = await stores.rateLimits.hit(ids[0] as string, RULE, NOW)
      if (decision.allowed) remaining.push(decision.remaining)
    }
    stores.close()
    database.close()
    parentPort?.postMessage({ remaining })
    return
  }
  const firsts: string[] = []
  let replays = 0
  for (const id of ids) {
    const result = await stores.op.consume('code', id)
    if (result && !result.alreadyConsumed) firsts.push(id)
    else if (result) replays++
  }
  stores.close()
  database.close()
  parentPort?.postMessage({ firsts, replays })
}

if (!isMainThread) {
  await work(workerData as Job)
} else {
  describe('sqlite consume across connections', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ak-sqlite-race-'))
    after(() => rmSync(dir, { recursive: true, force: true }))

    it('migrates concurrently and lets exactly one connection consume each code first', async () => {
      const file = join(dir, 'race.sqlite')
      const setup = new Database(file)
      setup.pragma('journal_mode = WAL')
      const gates = new SharedArrayBuffer(8)
      const ids = Array.from({ length: CODES }, (_, i) => `code-${i}`)

      const workers = Array.from({ length: WORKERS }, (_, w) => {
        // Each worker walks the codes in its own order, so the races differ per code.
        const order = w % 2 === 0 ? ids : [...ids].reverse()
        return new Worker(bootstrap, { eval: true, workerData: { file, gates, ids: order } })
      })
      const messages = workers.map((worker) => {
        const received: unknown[] = []
        return new Promise<unknown[]>((resolve, reject) => {
          worker.on('message', (m) => received.push(m))
          worker.on('error', reject)
          worker.on('exit', (exitCode) =>
            exitCode === 0 ? resolve(received) : reject(new Error(`worker exited ${exitCode}`)),
          )
        })
      })
      const migrated = workers.map(
        (worker) => new Promise<void>((resolve) => worker.once('message', () => resolve())),
      )

      openGate(gates, 0)
      await Promise.all(migrated)
      const stores = createSqliteStores({ database: setup })
      for (const id of ids) {
        await stores.op.set(
          'code',
          id,
          {
            grantId: id,
            clientId: 'web',
            sub: 'alice',
            scopes: ['openid'],
            authTime: 1,
            redirectUri: 'https://app.example/cb',
          },
          { ttlSeconds: 60, family: id },
        )
      }
      openGate(gates, 1)

      const results = (await Promise.all(messages)).map(
        (received) => received.at(-1) as { firsts: string[]; replays: number },
      )
      const firsts = results.flatMap((r) => r.firsts).sort()
      assert.deepEqual(firsts, [...ids].sort(), 'each code consumed first exactly once')
      assert.equal(
        results.reduce((n, r) => n + r.replays, 0),
        CODES * (WORKERS - 1),
      )
      assert.equal((await stores.op.consume('code', 'code-0'))?.alreadyConsumed, true)
      stores.close()
      setup.close()
    })

    it('lets exactly `limit` hits of a rate limit through, across connections', async () => {
      const file = join(dir, 'rate.sqlite')
      const setup = new Database(file)
      setup.pragma('journal_mode = WAL')
      const gates = new SharedArrayBuffer(8)
      const workers = Array.from(
        { length: WORKERS },
        () =>
          new Worker(bootstrap, {
            eval: true,
            workerData: { file, gates, ids: ['race'], hits: 10 },
          }),
      )
      const done = workers.map(
        (worker) =>
          new Promise<{ remaining: number[] }>((resolve, reject) => {
            worker.on('message', (m: { remaining?: number[] }) => {
              if (m.remaining) resolve({ remaining: m.remaining })
            })
            worker.on('error', reject)
            worker.on('exit', (exitCode) => {
              if (exitCode !== 0) reject(new Error(`worker exited ${exitCode}`))
            })
          }),
      )
      const migrated = workers.map(
        (worker) => new Promise<void>((resolve) => worker.once('message', () => resolve())),
      )
      openGate(gates, 0)
      await Promise.all(migrated) // every worker is ready: the hits start together
      openGate(gates, 1)
      const remaining = (await Promise.all(done)).flatMap((r) => r.remaining)
      assert.deepEqual(
        remaining.sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        `${WORKERS} × 10 hits, limit 10: each allowed hit saw its own state`,
      )
      const stores = createSqliteStores({ database: setup })
      assert.equal((await stores.rateLimits.peek('race', RULE, NOW)).allowed, false)
      stores.close()
      setup.close()
    })
  })
}
