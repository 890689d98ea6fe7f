// Guards the architecture in DESIGN.md: arrows only point down the subpath table, protocol code
// imports no web framework or driver, and only the Node crypto backend touches `node:*`.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'

const SRC = new URL('../../src/', import.meta.url).pathname
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  client: ['core'],
  providers: ['client', 'core'],
  op: ['core'],
  'dev-idp': ['op', 'core'],
  engine: ['client', 'core'],
}
const THIRD_PARTY: Record<string, readonly string[]> = {
  core: [],
  client: ['jose'],
  providers: [],
  op: ['jose'],
  'dev-idp': [],
  engine: ['jose'],
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
  })
}

function imports(source: string): string[] {
  const found: string[] = []
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g))
    found.push(m[1] as string)
  for (const m of source.matchAll(/import\(\s*'([^']+)'\s*\)/g)) found.push(m[1] as string)
  return found
}

describe('layering', () => {
  for (const layer of Object.keys(MAY_IMPORT)) {
    it(`${layer}/ imports only ${[...(MAY_IMPORT[layer] ?? []), ...(THIRD_PARTY[layer] ?? [])].join(', ') || 'itself'}`, () => {
      for (const file of files(join(SRC, layer))) {
        const rel = relative(SRC, file)
        const code = readFileSync(file, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/^\s*\/\/.*$/gm, '')
        for (const spec of imports(code)) {
          if (spec.startsWith('.')) {
            const target = relative(SRC, join(file, '..', spec)).split('/')[0] as string
            assert.ok(
              target === layer || MAY_IMPORT[layer]?.includes(target),
              `${rel} imports ${spec}`,
            )
          } else if (spec.startsWith('node:')) {
            // Only the Node crypto backend and the dev IdP (a Node command) may use Node APIs.
            assert.ok(
              rel === 'core/crypto/node.ts' || layer === 'dev-idp',
              `${rel} imports ${spec}`,
            )
          } else {
            const pkg = spec.split('/')[0] as string
            assert.ok(THIRD_PARTY[layer]?.includes(pkg), `${rel} imports ${spec}`)
          }
        }
        if (rel !== 'core/crypto/node.ts' && layer !== 'dev-idp') {
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
