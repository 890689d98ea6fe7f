// Property-based fuzzing of the protected-resource metadata endpoint a `bearer({
// resourceMetadata })` guard serves (RFC 9728 §3): random methods, paths near and far from the
// well-known one, queries and headers. Property: never 5xx, never throws; 200 with exactly the
// configured document only for GET (HEAD: no body) of the exact path, 405 with `Allow` for other
// methods there, 404 elsewhere; nothing of the request is echoed. FUZZ_RUNS sets the runs.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { bearer } from '../../src/engine/guards/bearer.ts'
import { NUM_RUNS } from './helpers/arbitraries.ts'

const API = 'https://api.example'
const PATH = '/.well-known/oauth-protected-resource/v1'
const MARK = 'zq-fuzz-mark'

describe('protected resource metadata (fuzz)', () => {
  const guard = bearer({
    issuer: 'https://id.example',
    secret: 'x'.repeat(32),
    logger: { warn() {} },
    resourceMetadata: { resource: `${API}/v1`, authorizationServers: ['https://id.example'] },
  })
  const metadata = guard.metadata
  assert.ok(metadata)
  const document = JSON.stringify(metadata.document)

  const pathArb = fc.oneof(
    { weight: 4, arbitrary: fc.constant(PATH) },
    fc.constantFrom(
      `${PATH}/`,
      `${PATH}/x`,
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/v2',
      '/.well-known/OAUTH-PROTECTED-RESOURCE/v1',
      '/.well-known/oauth-protected-resource%2Fv1',
      '/v1',
    ),
    fc.webPath().map((p) => `/${MARK}${p}`),
  )
  const methodArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD') },
    fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  )
  const queryArb = fc.option(
    fc.string({ maxLength: 40 }).map((q) => `?${MARK}=${encodeURIComponent(q)}`),
    { nil: '' },
  )
  const headerArb = fc.dictionary(
    fc.constantFrom('authorization', 'dpop', 'accept', 'x-forwarded-host', 'origin'),
    fc
      .string({ maxLength: 60 })
      .filter((v) => /^[\x20-\x7e]*$/.test(v))
      .map((v) => `${MARK}${v}`),
  )

  it('serves the document only at its path, by GET or HEAD; exact codes otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(methodArb, pathArb, queryArb, headerArb, async (method, path, q, h) => {
        const request = new Request(`${API}${path}${q}`, { method, headers: h })
        const response = metadata.handler(request)
        const body = await response.text()
        assert.ok(response.status < 500)
        assert.ok(!body.includes(MARK), 'nothing of the request is echoed')
        const atPath = new URL(request.url).pathname === PATH
        if (!atPath) {
          assert.equal(response.status, 404)
        } else if (method === 'GET' || method === 'HEAD') {
          assert.equal(response.status, 200)
          assert.equal(response.headers.get('content-type'), 'application/json')
          assert.equal(body, method === 'GET' ? document : '')
        } else {
          assert.equal(response.status, 405)
          assert.equal(response.headers.get('allow'), 'GET, HEAD')
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
