// Imports the built package through its own `exports` map, as a user would (`npm test` builds
// first), so a missing subpath or a broken `.ts` → `.js` rewrite fails here.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>
}
const built = existsSync(new URL('../../dist/core/index.js', import.meta.url))

describe('package exports', {
  skip: built ? false : 'dist/ is not built: run `npm run build` (npm test does)',
}, () => {
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue
    it(`${subpath} resolves to existing JS and type files and loads`, async () => {
      assert.ok(existsSync(new URL(`../../${target.default}`, import.meta.url)), target.default)
      assert.ok(existsSync(new URL(`../../${target.types}`, import.meta.url)), target.types)
      const mod = (await import(
        subpath === '.' ? 'authkestra' : `authkestra/${subpath.slice(2)}`
      )) as Record<string, unknown>
      assert.ok(Object.keys(mod).length > 0)
    })
  }

  it('authkestra/core runs PKCE from the built files', async () => {
    const specifier: string = 'authkestra/core' // not a literal: dist/ may not exist at type-check time
    const { Pkce } = (await import(specifier)) as typeof import('../../src/core/index.ts')
    const pair = await Pkce.generate()
    assert.equal(await Pkce.verify(pair.codeVerifier, pair.codeChallenge), true)
  })
})
