// Load: 10,000 full logins (authorize → auto-login → code → token with PKCE) at concurrency 64
// against our OP in its own child process (the same OP and driver as bench/op.ts). Every login
// must succeed: the error count must be 0.
import { fileURLToPath } from 'node:url'
import { agent, cpuMs, login, startOp } from './op.ts'

export interface LoadResult {
  logins: number
  concurrency: number
  errors: number
  firstError?: string
  seconds: number
  loginsPerSec: number
  opCpuMsPerLogin: number
}

export async function loadBenchmark(total = 10_000, concurrency = 64): Promise<LoadResult> {
  const op = await startOp('ours')
  try {
    let next = 0
    let errors = 0
    let firstError: string | undefined
    const cpuBefore = cpuMs(op.pid)
    const start = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++
          try {
            await login(op.info)
          } catch (err) {
            errors++
            firstError ??= String(err)
          }
        }
      }),
    )
    const seconds = (performance.now() - start) / 1000
    return {
      logins: total,
      concurrency,
      errors,
      ...(firstError ? { firstError } : {}),
      seconds,
      loginsPerSec: total / seconds,
      opCpuMsPerLogin: (cpuMs(op.pid) - cpuBefore) / total,
    }
  } finally {
    await op.stop()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await loadBenchmark())
  agent.destroy()
}
