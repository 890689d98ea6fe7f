// The engine's Node-native request in the Express and Fastify adapters: the body a route reads
// (from the unread stream, from what a body parser left, from Fastify's buffer), capped, and the
// Web request made for onLogin. Over real HTTP on loopback.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import { BodyTooLarge } from '../../../src/core/read-capped.ts'
import type { EngineRequest } from '../../../src/index.ts'
import { engineRequest, writeMessage } from '../../../src/node/web.ts'

/** What a route would answer: the body it read (or that it was too large) and the Web URL. */
async function echo(request: EngineRequest, max = 64) {
  try {
    const bytes = await request.body(max)
    return { body: new TextDecoder().decode(bytes), web: request.web().url }
  } catch (err) {
    return { tooLarge: err instanceof BodyTooLarge }
  }
}

async function post(port: number, body: string, type: string, path = '/x?y=1') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  })
  return { status: res.status, json: await res.json() }
}

async function listen(server: ReturnType<typeof createServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('engine request from Express', () => {
  for (const parser of ['none', 'urlencoded', 'json', 'text'] as const) {
    it(`reads the body with ${parser === 'none' ? 'no body parser' : `express.${parser}()`}`, async () => {
      const app = express()
      if (parser !== 'none') app.use(express[parser]({ type: '*/*' }))
      app.post('/x', (req, res) => {
        const request = engineRequest(req.protocol, req.host, req.originalUrl, req, {
          web: () => undefined,
        })
        assert.ok(request)
        void echo(request).then((out) =>
          writeMessage(
            {
              status: 200,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(out),
            },
            res,
          ),
        )
      })
      const server = createServer(app)
      const port = await listen(server)
      try {
        const json = parser === 'json'
        const type = json ? 'application/json' : 'application/x-www-form-urlencoded'
        const sent = json ? '{"a":"b"}' : 'a=b&a=c'
        const small = await post(port, sent, type)
        assert.equal(small.json.web, `http://127.0.0.1:${port}/x?y=1`)
        assert.equal(small.json.body, sent)
        const big = await post(
          port,
          json ? `{"a":"${'z'.repeat(100)}"}` : `a=${'z'.repeat(100)}`,
          type,
        )
        assert.deepEqual(big.json, { tooLarge: true })
      } finally {
        server.close()
      }
    })
  }
})

describe('engine request from Fastify', () => {
  it('reads the buffered body, capped', async () => {
    const app = Fastify()
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body))
    app.post('/x', async (request) => {
      const forEngine = engineRequest(request.protocol, request.host, request.url, request.raw, {
        web: () => undefined,
        buffered: request.body as Uint8Array,
      })
      assert.ok(forEngine)
      return echo(forEngine)
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    try {
      const { json } = await post(port, 'a=b', 'application/x-www-form-urlencoded')
      assert.deepEqual(json, { body: 'a=b', web: `http://127.0.0.1:${port}/x?y=1` })
      const big = await post(port, 'z'.repeat(100), 'text/plain')
      assert.deepEqual(big.json, { tooLarge: true })
    } finally {
      await app.close()
    }
  })
})

describe('engine request: a bad Host', () => {
  it('is no request at all (the adapter answers 400)', () => {
    const req = { method: 'GET', headers: {} } as never
    assert.equal(engineRequest('http', 'bad host', '/x', req, { web: () => undefined }), undefined)
    assert.equal(
      engineRequest('gopher', 'a.example', '/x', req, { web: () => undefined }),
      undefined,
    )
  })
})
