// Memory of the in-memory session store: the RSS growth of one process holding 1,000,000 sessions
// (after a full GC), against the same process before filling. The sessions are stored as a login
// stores them: keyed by the SHA-256 (base64url) of a random id, each with its own user object.
// Runs in a child with --expose-gc so nothing else of the benchmark run is in that heap.
// Run as `node --expose-gc --import tsx bench/memory.ts child` it is the child.
import { createHash, randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { startChild } from './op.ts'

const SELF = fileURLToPath(import.meta.url)
const COUNT = 1_000_000

export interface MemoryResult {
  sessions: number
  baselineRssMiB: number
  filledRssMiB: number
  growthMiB: number
  bytesPerSession: number
  heapUsedGrowthMiB: number
  fillSeconds: number
}

export async function memoryBenchmark(): Promise<MemoryResult> {
  const child = await startChild<MemoryResult>(SELF, ['child'], ['--expose-gc'])
  await child.stop()
  return child.info
}

async function measure(): Promise<MemoryResult> {
  const { createMemorySessionStore } = await import('../src/engine/sessions/memory.ts')
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with --expose-gc')
  const settle = () => {
    for (let i = 0; i < 3; i++) gc()
    return process.memoryUsage()
  }
  const store = createMemorySessionStore()
  const before = settle()
  const start = performance.now()
  const now = Date.now()
  const seed = randomBytes(16)
  for (let i = 0; i < COUNT; i++) {
    const key = createHash('sha256').update(seed).update(String(i)).digest('base64url')
    await store.set(
      key,
      {
        user: { id: `u-${i}`, name: `User ${i}`, email: `user${i}@example.com` },
        provider: 'github',
        subject: String(10_000_000 + i),
        createdAt: now,
        expiresAt: now + 7 * 86_400_000,
        lastSeenAt: now,
        userKey: createHash('sha256')
          .update(`github:${10_000_000 + i}`)
          .digest('base64url'),
      },
      1800,
    )
  }
  const fillSeconds = (performance.now() - start) / 1000
  const after = settle()
  if (store.size() !== COUNT) throw new Error(`store holds ${store.size()} sessions`)
  const MiB = 2 ** 20
  return {
    sessions: COUNT,
    baselineRssMiB: before.rss / MiB,
    filledRssMiB: after.rss / MiB,
    growthMiB: (after.rss - before.rss) / MiB,
    bytesPerSession: (after.rss - before.rss) / COUNT,
    heapUsedGrowthMiB: (after.heapUsed - before.heapUsed) / MiB,
    fillSeconds,
  }
}

if (process.argv[1] === SELF && process.argv[2] === 'child') {
  const result = await measure()
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.on('SIGTERM', () => process.exit(0))
} else if (process.argv[1] === SELF) {
  console.log(await memoryBenchmark())
}
