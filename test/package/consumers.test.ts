// The package as a user installs it: `npm pack` of the built package, unpacked into small
// consumer apps (under test-artifacts/, so that the package's own dependencies resolve from this
// repository's node_modules, as they would from the app's). Each app is run or compiled in a
// child process:
// - CommonJS (`"type": "commonjs"`): `require()` of every subpath, which needs the package to
//   have no top-level `await` (Node loads ES modules synchronously for `require`), and a login
//   URL built through it;
// - ES modules: `import` of every subpath;
// - TypeScript with `skipLibCheck: false`, with the repository's TypeScript and with 4.9, for
//   `moduleResolution` `nodenext` (ESM and CommonJS apps), `bundler` and `node10` (4.9: no
//   `bundler`, and a CommonJS app under `nodenext` is refused by TypeScript before 5.8 itself,
//   which the README says).
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

const root = new URL('../../', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>
}
const subpaths = Object.keys(pkg.exports)
  .filter((s) => !s.endsWith('.json'))
  .map((s) => (s === '.' ? 'authkestra' : `authkestra/${s.slice(2)}`))
const built = existsSync(join(root, 'dist/core/index.js'))
const work = join(root, 'test-artifacts/consumers')

const tools = join(root, 'test-artifacts/tools')
let ts49: string | undefined | null = null

/**
 * TypeScript 4.9's `tsc`, installed on first use into test-artifacts/tools (not a dev
 * dependency: its `tsc` binary would take the place of the repository's). Undefined, and the
 * tests say they are skipped, when the npm registry cannot be reached.
 */
function typescript49(): string | undefined {
  if (ts49 !== null) return ts49
  const tsc = join(tools, 'node_modules/typescript/bin/tsc')
  if (!existsSync(tsc)) {
    mkdirSync(tools, { recursive: true })
    writeFileSync(join(tools, 'package.json'), '{ "private": true }')
    const installed = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', 'typescript@4.9.5'],
      { cwd: tools, encoding: 'utf8' },
    )
    if (installed.status !== 0) {
      console.log(`# TypeScript 4.9 could not be installed: ${installed.stderr.slice(0, 300)}`)
    }
  }
  ts49 = existsSync(tsc) ? tsc : undefined
  return ts49
}

/** Writes `files` into a fresh app folder with the packed package unpacked in its node_modules. */
function app(name: string, tarball: string, files: Record<string, string>): string {
  const dir = join(work, name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'node_modules/authkestra'), { recursive: true })
  execFileSync('tar', [
    '-xzf',
    tarball,
    '-C',
    join(dir, 'node_modules/authkestra'),
    '--strip-components=1',
  ])
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`,
  )
  return result.stdout
}

describe('the packed package in consumer apps', {
  skip: built ? false : 'dist/ is not built: run `npm run build` (npm test does)',
}, () => {
  let tarball = ''

  before(() => {
    mkdirSync(work, { recursive: true })
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    tarball = join(work, (JSON.parse(out) as { filename: string }[])[0]?.filename ?? '')
  })
  after(() => rmSync(work, { recursive: true, force: true }))

  it('ships every docs/ page the README links to, so its links work in node_modules', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n')
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const linked = [...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1] as string)
    assert.ok(linked.length >= 4, `README links ${linked.length} docs pages`)
    for (const page of new Set(linked)) assert.ok(listing.includes(`package/${page}`), page)
  })

  it('ships no source maps without their sources, and declarations that import .js', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n')
    assert.ok(!listing.some((f) => f.startsWith('package/src/')), 'no src/ in the package')
    const dir = app('listing', tarball, {})
    const map = JSON.parse(
      readFileSync(join(dir, 'node_modules/authkestra/dist/core/pkce.js.map'), 'utf8'),
    ) as { sourcesContent?: string[] }
    assert.ok(map.sourcesContent?.[0]?.includes('code_verifier'), 'the map carries its source')
    for (const file of listing.filter((f) => f.endsWith('.d.ts'))) {
      const text = readFileSync(join(dir, 'node_modules/authkestra', file.slice(8)), 'utf8')
      assert.doesNotMatch(text, /['"]\.{1,2}\/[^'"]*\.ts['"]/, file)
    }
  })

  it('CommonJS: require() of every subpath; the node:crypto backend; a login URL', () => {
    const dir = app('cjs', tarball, {
      'package.json': '{ "type": "commonjs" }',
      'main.js': `const subpaths = ${JSON.stringify(subpaths)}
const loaded = subpaths.map((id) => Object.keys(require(id)).length)
const { defaultCrypto } = require('authkestra/core')
const { createAuthkestra } = require('authkestra')
const { github } = require('authkestra/providers')
const auth = createAuthkestra({
  providers: [github({ clientId: 'app', clientSecret: 'app-secret', redirectUri: 'https://app.example/auth/callback/github' })],
  secret: 'consumer-test-secret-0123456789abcdef',
  session: {},
})
auth.handler(new Request('https://app.example/auth/login/github')).then((response) => {
  const location = new URL(response.headers.get('location'))
  console.log(JSON.stringify({ loaded, backend: defaultCrypto.name, method: location.searchParams.get('code_challenge_method') }))
})
`,
    })
    const out = JSON.parse(run(process.execPath, ['main.js'], dir)) as {
      loaded: number[]
      backend: string
      method: string
    }
    assert.equal(out.loaded.length, subpaths.length)
    assert.ok(
      out.loaded.every((n) => n > 0),
      'every subpath exports something',
    )
    assert.equal(out.backend, 'node')
    assert.equal(out.method, 'S256')
  })

  it('ES modules: import of every subpath', () => {
    const dir = app('esm', tarball, {
      'package.json': '{ "type": "module" }',
      'main.js': `const subpaths = ${JSON.stringify(subpaths)}
const loaded = await Promise.all(subpaths.map(async (id) => Object.keys(await import(id)).length))
console.log(JSON.stringify(loaded))
`,
    })
    const loaded = JSON.parse(run(process.execPath, ['main.js'], dir)) as number[]
    assert.ok(loaded.length === subpaths.length && loaded.every((n) => n > 0))
  })

  const typescripts = [
    ['the repository’s TypeScript', () => join(root, 'node_modules/typescript/bin/tsc')],
    ['TypeScript 4.9', typescript49],
  ] as const
  const resolutions = [
    ['nodenext, an ES module app', 'module', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['nodenext, a CommonJS app', 'commonjs', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['bundler', 'module', { module: 'esnext', moduleResolution: 'bundler' }],
    ['node10', 'commonjs', { module: 'commonjs', moduleResolution: 'node' }],
  ] as const
  for (const [version, tscPath] of typescripts) {
    for (const [what, type, options] of resolutions) {
      // `bundler` resolution came with TypeScript 5.0.
      if (version === 'TypeScript 4.9' && what === 'bundler') continue
      it(`types: ${version}, moduleResolution ${what}, skipLibCheck false`, (t) => {
        const tsc = tscPath()
        if (tsc === undefined) {
          t.skip(`${version} could not be installed from the npm registry`)
          return
        }
        const esm = type === 'module'
        const source = `${esm ? 'import { createAuthkestra, type Session } from' : 'import { createAuthkestra, Session } from'} 'authkestra'
import { oidc } from 'authkestra/providers'
import { createOp } from 'authkestra/op'
import { authkestra } from 'authkestra/express'
import { createSqliteStores } from 'authkestra/stores/sqlite'
import { Pkce } from 'authkestra/core'
export const auth = createAuthkestra({
  providers: [oidc({ id: 'id', issuer: 'https://id.example', clientId: 'app', redirectUri: 'https://app.example/auth/callback/id' })],
  secret: 'consumer-test-secret-0123456789abcdef',
  session: {},
})
export type Current = Session<unknown> | null
export const used = [createOp, authkestra, createSqliteStores, Pkce.generate]
`
        const dir = app(`types-${version.length}-${what.replace(/\W+/g, '-')}`, tarball, {
          'package.json': JSON.stringify({ type }),
          'main.ts': esm ? source : source.replace('type Session', 'Session'),
          'tsconfig.json': JSON.stringify({
            compilerOptions: {
              ...options,
              target: 'es2022',
              lib: ['es2022', 'dom'],
              strict: true,
              // What `tsc --init` sets; better-sqlite3's types need it for their default import.
              esModuleInterop: true,
              skipLibCheck: false,
              noEmit: true,
              types: ['node'],
            },
            files: ['main.ts'],
          }),
        })
        if (version === 'TypeScript 4.9' && what === 'nodenext, a CommonJS app') {
          // TypeScript learnt in 5.8 that Node's require() loads ES modules; before, it refuses
          // the import, and the README says so (use import(), node10 resolution, or TS ≥ 5.8).
          const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
            cwd: dir,
            encoding: 'utf8',
          })
          assert.notEqual(result.status, 0)
          assert.match(result.stdout, /TS1479/)
          return
        }
        run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir)
      })
    }
  }
})
