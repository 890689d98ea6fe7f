// `npm run bench`: prints a table and writes bench/results.json. Every figure is a ratio against
// a baseline measured in the same run; absolute numbers on a shared machine are noise.
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { cryptoBenchmarks } from './crypto.ts'
import { printTable } from './lib.ts'
import { storeBenchmarks } from './stores.ts'

const rows = [...(await cryptoBenchmarks()), ...(await storeBenchmarks())]
printTable(rows)
const machine = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
}
writeFileSync(
  new URL('./results.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), machine, results: rows }, null, 2)}\n`,
)
console.log(
  `\nwrote bench/results.json (${machine.cpu}, ${machine.cores} cores, Node ${machine.node})`,
)
