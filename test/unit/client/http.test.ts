import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { httpRequest, parseJsonObject, resolveHttpOptions } from '../../../src/client/http.ts'
import { code } from '../../helpers/assert-code.ts'

let server: Server
let base = ''

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    switch (url.pathname) {
      case '/json':
        res.setHeader('content-type', 'application/json')
        res.end('{"ok":true}')
        return
      case '/slow-headers':
        setTimeout(() => res.end('late'), 2000)
        return
      case '/slow-body':
        res.write('{"a":')
        setTimeout(() => res.end('1}'), 2000)
        return
      case '/big-declared':
        res.setHeader('content-length', '5000000')
        res.write('x')
        return
      case '/big-chunked':
        for (let i = 0; i < 40; i++) res.write('x'.repeat(65_536))
        res.end()
        return
      case '/redirect':
        res.statusCode = 302
        res.setHeader('location', '/json')
        res.end()
        return
      case '/bad-utf8':
        res.end(Buffer.from([0x7b, 0xff, 0x7d]))
        return
      default:
        res.statusCode = 404
        res.end()
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(() => {
  server.closeAllConnections()
  server.close()
})

// Roomy enough that a loaded machine never turns a size or shape check into a timeout; the
// timeout checks use their own 300 ms against a server that waits 2 s.
const opts = resolveHttpOptions({ timeoutMs: 10_000, maxResponseBytes: 1_000_000 })
const short = resolveHttpOptions({ timeoutMs: 300, maxResponseBytes: 1_000_000 })

describe('httpRequest over real HTTP', () => {
  it('reads a JSON body', async () => {
    const res = await httpRequest(`${base}/json`, { method: 'GET' }, opts, 'test endpoint')
    assert.deepEqual(parseJsonObject(res, 'test endpoint'), { ok: true })
  })

  it('times out on slow headers and on a slow body (provider_timeout, never a hang)', async () => {
    await assert.rejects(
      httpRequest(`${base}/slow-headers`, { method: 'GET' }, short, 'x'),
      code('provider_timeout'),
    )
    await assert.rejects(
      httpRequest(`${base}/slow-body`, { method: 'GET' }, short, 'x'),
      code('provider_timeout'),
    )
  })

  it('caps the body by Content-Length and while streaming', async () => {
    await assert.rejects(
      httpRequest(`${base}/big-declared`, { method: 'GET' }, opts, 'x'),
      code('provider_response_too_large'),
    )
    await assert.rejects(
      httpRequest(`${base}/big-chunked`, { method: 'GET' }, opts, 'x'),
      code('provider_response_too_large'),
    )
  })

  it('does not follow redirects', async () => {
    await assert.rejects(
      httpRequest(`${base}/redirect`, { method: 'GET' }, opts, 'x'),
      code('provider_bad_response'),
    )
  })

  it('reports a closed port as provider_unreachable, naming only the origin', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    await assert.rejects(
      httpRequest(
        `http://127.0.0.1:${port}/token?secret=abc`,
        { method: 'GET' },
        opts,
        'token endpoint',
      ),
      (err: Error) => {
        code('provider_unreachable')(err)
        assert.ok(!err.message.includes('secret=abc'))
        assert.match(err.message, /could not be reached \(ECONNREFUSED\)$/)
        return true
      },
    )
  })

  it('sends once more, on a new connection, when the connection is reset under a request', async () => {
    // Connections numbered from 1; those up to `resetUpTo` are reset when a request arrives, as
    // a kept-alive connection that the server closed while it sat idle.
    let resetUpTo = 0
    let connections = 0
    const seen: string[] = []
    const flaky = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push(Buffer.concat(chunks).toString())
        const socket = req.socket as typeof req.socket & { number?: number }
        if ((socket.number ?? 0) <= resetUpTo) return void socket.resetAndDestroy()
        res.setHeader('content-type', 'application/json')
        res.end('{"ok":true}')
      })
    })
    flaky.on('connection', (socket: { number?: number }) => {
      socket.number = ++connections
    })
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r))
    const at = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/token`
    const post = {
      method: 'POST' as const,
      body: 'grant_type=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }
    try {
      resetUpTo = 1
      const answer = await httpRequest(at, post, opts, 'token endpoint')
      assert.deepEqual(parseJsonObject(answer, 'token endpoint'), { ok: true })
      assert.deepEqual(seen, ['grant_type=x', 'grant_type=x'])
      assert.equal(connections, 2)
      // Once only: a second reset is final.
      flaky.closeAllConnections()
      seen.length = 0
      resetUpTo = Number.POSITIVE_INFINITY
      await assert.rejects(
        httpRequest(at, post, opts, 'token endpoint'),
        code('provider_unreachable', undefined, (err) =>
          assert.match(err.message, /\((ECONNRESET|UND_ERR_SOCKET)\)$/),
        ),
      )
      assert.equal(seen.length, 2)
    } finally {
      flaky.closeAllConnections()
      await new Promise<void>((r) => flaky.close(() => r()))
    }
  })

  it('refuses invalid UTF-8 and non-object JSON', async () => {
    const res = await httpRequest(`${base}/bad-utf8`, { method: 'GET' }, opts, 'x')
    assert.throws(() => parseJsonObject(res, 'x'), code('provider_bad_response'))
    const array = { status: 200, headers: new Headers(), body: new TextEncoder().encode('[1]') }
    assert.throws(() => parseJsonObject(array, 'x'), code('provider_bad_response'))
  })

  it('validates its own options', () => {
    assert.throws(() => resolveHttpOptions({ timeoutMs: 0 }), code('config_invalid'))
    assert.throws(() => resolveHttpOptions({ maxResponseBytes: 1.5 }), code('config_invalid'))
  })
})
