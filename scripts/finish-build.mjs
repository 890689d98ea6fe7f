// After `tsc -p tsconfig.build.json`: TypeScript rewrites `./x.ts` to `./x.js` in the emitted
// JavaScript (rewriteRelativeImportExtensions) but not in the declaration files, whose imports
// would then name files that are not shipped, and which TypeScript before 5.x (or without
// allowImportingTsExtensions) refuses. This rewrites every relative `.ts` specifier of dist/**/*.d.ts
// to `.js`, the way the JavaScript already has it, and fails if one is left.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dist = new URL('../dist/', import.meta.url).pathname
const RELATIVE_TS = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g

let files = 0
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue
  const path = join(entry.parentPath ?? entry.path, entry.name)
  const text = readFileSync(path, 'utf8')
  const fixed = text.replace(RELATIVE_TS, '$1$2.js$3')
  if (/['"]\.{1,2}\/[^'"]*\.ts['"]/.test(fixed)) {
    console.error(`finish-build: a relative .ts import is left in ${path}`)
    process.exit(1)
  }
  if (fixed !== text) {
    writeFileSync(path, fixed)
    files++
  }
}
console.log(`finish-build: ${files} declaration files now import .js`)
