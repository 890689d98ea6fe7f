// Tiny benchmark harness: every figure is a ratio against a baseline measured in the same run,
// with baseline and candidate rounds interleaved so machine drift hits both alike.
import type { OpRequest } from '../src/op/http/message.ts'

export interface Comparison {
  name: string
  baseline: string
  candidate: string
  baselineOpsPerSec: number
  candidateOpsPerSec: number
  /** candidate ÷ baseline throughput (> 1: candidate faster). */
  ratio: number
  target?: string
}

type Op = () => unknown | Promise<unknown>

async function opsPerSecond(op: Op, ms: number): Promise<number> {
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < ms) {
    for (let i = 0; i < 64; i++) await op()
    n += 64
    elapsed = performance.now() - start
  }
  return (n * 1000) / elapsed
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

/** Measures `candidate` against `baseline`: `rounds` interleaved rounds of `ms` each, medians. */
export async function compare(
  name: string,
  baseline: [string, Op],
  candidate: [string, Op],
  options: { rounds?: number; ms?: number; target?: string } = {},
): Promise<Comparison> {
  const rounds = options.rounds ?? 5
  const ms = options.ms ?? 200
  await opsPerSecond(baseline[1], 50)
  await opsPerSecond(candidate[1], 50)
  const b: number[] = []
  const c: number[] = []
  for (let r = 0; r < rounds; r++) {
    b.push(await opsPerSecond(baseline[1], ms))
    c.push(await opsPerSecond(candidate[1], ms))
  }
  const baselineOpsPerSec = median(b)
  const candidateOpsPerSec = median(c)
  return {
    name,
    baseline: baseline[0],
    candidate: candidate[0],
    baselineOpsPerSec,
    candidateOpsPerSec,
    ratio: candidateOpsPerSec / baselineOpsPerSec,
    ...(options.target ? { target: options.target } : {}),
  }
}

/** A form POST on an OP's own message path (no HTTP), for in-process OP benchmarks. */
export function opPost(
  issuer: string,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): OpRequest {
  const body = new TextEncoder().encode(new URLSearchParams(form).toString())
  const all = new Headers({ 'content-type': 'application/x-www-form-urlencoded', ...headers })
  return { method: 'POST', url: new URL(`${issuer}${path}`), headers: all, body: async () => body }
}

/** The row's name with CPU µs per request beside it (in process, 1e6 ÷ ops/s). */
export function withCpuMicros(row: Comparison): Comparison {
  const us = (opsPerSec: number) => (1e6 / opsPerSec).toFixed(0)
  return {
    ...row,
    name: `${row.name}; CPU µs/request ${us(row.baselineOpsPerSec)} → ${us(row.candidateOpsPerSec)}`,
  }
}

/** Prints comparisons as a table. */
export function printTable(rows: Comparison[]): void {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  console.log(
    '| benchmark | baseline | candidate | baseline ops/s | candidate ops/s | ratio | target |',
  )
  console.log('|---|---|---|---:|---:|---:|---|')
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.baseline} | ${r.candidate} | ${fmt(r.baselineOpsPerSec)} | ${fmt(r.candidateOpsPerSec)} | ${r.ratio.toFixed(2)}x | ${r.target ?? ''} |`,
    )
  }
}
