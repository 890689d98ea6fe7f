// Every error code in the closed union is documented in docs/errors.md, and nothing else is.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'

const source = readFileSync(new URL('../../src/core/errors.ts', import.meta.url), 'utf8')
const docs =
  readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').split('\n## Other')[0] ??
  ''

describe('error code table', () => {
  it('documents exactly the codes of AuthkestraErrorCode', () => {
    const union = source.slice(
      source.indexOf('export type AuthkestraErrorCode'),
      source.indexOf('/** Options accepted'),
    )
    const codes = [...union.matchAll(/\|\s*'([a-z_]+)'/g)].map((m) => m[1]).sort()
    const documented = [...docs.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort()
    assert.ok(codes.length > 20)
    assert.deepEqual(documented, codes)
  })
})
