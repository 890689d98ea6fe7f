// The OP's logger: with a debug method, a line per answer (method, path, status), never the
// query; without one, nothing per request.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createOp } from '../../src/op/create-op.ts'

const ISSUER = 'https://id.example'
const clients = [{ client_id: 'app', redirect_uris: ['https://app.example/cb'] }]

describe('OP logger', () => {
  it('with debug: a line per answer, without the query', async () => {
    const lines: string[] = []
    const op = await createOp({
      issuer: ISSUER,
      clients,
      logger: { debug: (m) => lines.push(m), warn: () => {}, error: () => {} },
    })
    await op.handler(new Request(`${ISSUER}/.well-known/openid-configuration`))
    await op.handler(new Request(`${ISSUER}/authorize?client_id=app&state=s3cr3t`))
    await op.handler(new Request(`${ISSUER}/nowhere`))
    assert.equal(lines[0], 'GET /.well-known/openid-configuration → 200')
    assert.match(lines[1] ?? '', /^GET \/authorize → \d{3}$/)
    assert.equal(lines[2], 'GET /nowhere → 404')
    assert.ok(!lines.some((l) => l.includes('s3cr3t')))
  })

  it('without debug: no line per request', async () => {
    const lines: string[] = []
    const op = await createOp({
      issuer: ISSUER,
      clients,
      logger: { warn: (m) => lines.push(m), error: (m) => lines.push(m) },
    })
    lines.length = 0 // the start-up warning about the in-memory store
    await op.handler(new Request(`${ISSUER}/.well-known/openid-configuration`))
    assert.deepEqual(lines, [])
  })
})
