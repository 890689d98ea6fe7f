// Runs every `*.test.ts` file under test/ with Node's built-in test runner (TypeScript via tsx).
// Node 20's `--test` does not expand globs itself, so the files are listed here.
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const only = process.argv.slice(2)

function collect(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...collect(path))
    else if (name.endsWith('.test.ts')) out.push(relative(root, path))
  }
  return out
}

const files = collect(join(root, 'test')).filter(
  (f) => only.length === 0 || only.some((o) => f.includes(o)),
)
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
// The spec reporter ends with a list of the failing tests, so a log that keeps only its tail
// still names what failed.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
  {
    cwd: root,
    stdio: 'inherit',
  },
)
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)))
