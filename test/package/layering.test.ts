// Guards the architecture in DESIGN.md: arrows only point down the subpath table, protocol code
// imports no web framework or driver, and only Node-specific layers touch `node:*`.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'

const SRC = new URL('../../src/', import.meta.url).pathname
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  client: ['dpop', 'core'],
  providers: ['client', 'core'],
  mfa: ['core'],
  dpop: ['core'],
  captcha: ['core'],
  op: ['dpop', 'mfa', 'core'],
  'dev-idp': ['node', 'op', 'captcha', 'mfa', 'core'],
  cli: ['client', 'core'],
  node: ['engine', 'op', 'core'],
  engine: ['client', 'dpop', 'core'],
  stores: ['core'],
  adapters: ['node', 'core'],
}
const THIRD_PARTY: Record<string, readonly string[]> = {
  core: [],
  client: ['jose'],
  providers: [],
  mfa: ['jose', '@simplewebauthn/server', 'uqr'],
  dpop: ['jose'],
  captcha: [],
  op: ['jose'],
  'dev-idp': [],
  cli: [],
  node: [],
  engine: ['jose'],
  stores: ['better-sqlite3', 'pg', 'ioredis'],
  adapters: ['express', 'fastify', 'hono'],
}
const NODE_LAYERS = new Set(['dev-idp', 'cli', 'node', 'adapters', 'stores'])
/** Layers a layer may import types from (erased at build: no runtime arrow). */
const TYPES_FROM: Record<string, readonly string[]> = {
  stores: ['op', 'engine', 'mfa'],
  adapters: ['engine', 'index.ts'],
  node: ['index.ts'],
  op: ['captcha'],
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** Import specifiers of a file, with whether the statement imports types only. */
function imports(source: string): { spec: string; typeOnly: boolean }[] {
  const found: { spec: string; typeOnly: boolean }[] = []
  for (const m of source.matchAll(
    /(?:^|\n)\s*(import type|import|export)\s[^'"]*?from\s+'([^']+)'/g,
  )) {
    found.push({ spec: m[2] as string, typeOnly: m[1] === 'import type' })
  }
  for (const m of source.matchAll(/import\(\s*'([^']+)'\s*\)/g))
    found.push({ spec: m[1] as string, typeOnly: false })
  return found
}

describe('layering', () => {
  it('has a rule for every folder of src/', () => {
    const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory())
    for (const folder of folders)
      assert.ok(folder in MAY_IMPORT, `src/${folder} has no layering rule`)
  })

  for (const layer of Object.keys(MAY_IMPORT).filter((l) => existsSync(join(SRC, l)))) {
    it(`${layer}/ imports only ${[...(MAY_IMPORT[layer] ?? []), ...(THIRD_PARTY[layer] ?? [])].join(', ') || 'itself'}`, () => {
      for (const file of files(join(SRC, layer))) {
        const rel = relative(SRC, file)
        const code = readFileSync(file, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/^\s*\/\/.*$/gm, '')
        for (const { spec, typeOnly } of imports(code)) {
          if (spec.startsWith('.')) {
            const target = relative(SRC, join(file, '..', spec)).split('/')[0] as string
            if (typeOnly && TYPES_FROM[layer]?.includes(target)) continue
            assert.ok(
              target === layer || MAY_IMPORT[layer]?.includes(target),
              `${rel} imports ${spec}`,
            )
          } else if (spec.startsWith('node:')) {
            // Only the Node crypto backend, the dev IdP (a Node command), the Node framework
            // adapters and the database stores may use Node APIs.
            assert.ok(
              /^core\/crypto\/node(-[a-z]+)?\.ts$/.test(rel) || NODE_LAYERS.has(layer),
              `${rel} imports ${spec}`,
            )
          } else {
            const parts = spec.split('/')
            const pkg = (spec.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
            assert.ok(THIRD_PARTY[layer]?.includes(pkg), `${rel} imports ${spec}`)
          }
        }
        if (!/^core\/crypto\/node(-[a-z]+)?\.ts$/.test(rel) && !NODE_LAYERS.has(layer)) {
          assert.doesNotMatch(
            code,
            /\bBuffer\.|\bprocess\.(env|versions|nextTick)/,
            `${rel} uses a Node global`,
          )
        }
      }
    })
  }
})
