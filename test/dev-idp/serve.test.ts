// The dev IdP's HTTP server: the Host check that stops DNS rebinding (421 for another name, 400
// without one, before the handler runs) and the answer while the OP is still starting (503 with
// Retry-After and an OAuth error body).
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import { after, describe, it } from 'node:test'
import { allowedHostSet, checkHost, normalizeHost } from '../../src/dev-idp/host-check.ts'
import { serve, type WebHandler } from '../../src/dev-idp/serve.ts'
import { rawHttp } from '../helpers/net.ts'

const servers: Server[] = []
after(() => {
  for (const server of servers) server.close()
})

async function start(
  handler: WebHandler | Promise<WebHandler>,
  options: { allowedHosts?: string[]; origin?: string } = {},
): Promise<number> {
  const server = await serve(handler, { host: '127.0.0.1', port: 0, ...options })
  servers.push(server)
  return (server.address() as { port: number }).port
}

function spy(): WebHandler & { calls: Request[] } {
  const calls: Request[] = []
  const handler = async (request: Request) => {
    calls.push(request)
    return Response.json({ ok: true, url: request.url })
  }
  return Object.assign(handler, { calls })
}

describe('Host check (DNS rebinding)', () => {
  it('serves its own host, refuses others with 421 and a missing Host with 400, before the handler', async () => {
    const handler = spy()
    const port = await start(handler)
    const own = await rawHttp(port, { host: `127.0.0.1:${port}`, path: '/x' })
    assert.equal(own.status, 200)
    assert.equal(JSON.parse(own.body).url, `http://127.0.0.1:${port}/x`)
    assert.equal(handler.calls.length, 1)
    for (const host of [
      `evil.example:${port}`,
      'evil.example',
      `localhost:${port}`,
      `127.0.0.1:${port + 1}`,
      `127.0.0.1.evil.example:${port}`,
      `[::1]:${port}`,
    ]) {
      const refused = await rawHttp(port, { host, method: 'POST', path: '/token', body: 'a=1' })
      assert.equal(refused.status, 421, host)
      assert.doesNotMatch(refused.body, /evil|localhost|\[::1\]/, 'the request Host is not echoed')
      assert.match(refused.body, new RegExp(`Use http://127\\.0\\.0\\.1:${port}`))
    }
    for (const host of [undefined, '', 'a b', 'user@127.0.0.1', '127.0.0.1/x']) {
      const bad = await rawHttp(port, { host })
      assert.equal(bad.status, 400, String(host))
    }
    // Node answers an HTTP/1.1 request without Host by itself; HTTP/1.0 may omit it, so this one
    // reaches the check (and the assertions below test the check itself, not Node).
    const socket = connect(port, '127.0.0.1')
    socket.end('GET /x HTTP/1.0\r\n\r\n')
    let reply = ''
    for await (const chunk of socket) reply += chunk
    assert.match(reply, /^HTTP\/1\.[01] 400 /)
    assert.equal(handler.calls.length, 1, 'the handler never ran for a refused Host')
  })

  it('checkHost: 400 for no Host, a malformed or repeated one; 421 for another; undefined for its own', () => {
    const allowed = new Set(['127.0.0.1:9000'])
    for (const header of [
      undefined,
      '',
      'a b',
      'user@127.0.0.1:9000',
      '127.0.0.1:9000/x',
      ['a', 'b'],
    ])
      assert.equal(checkHost(header, allowed), 400, String(header))
    assert.equal(checkHost('evil.example:9000', allowed), 421)
    assert.equal(checkHost('127.0.0.1:9000', allowed), undefined)
  })

  it('serves extra names it was told to allow, on the bound port unless one is given', async () => {
    const handler = spy()
    const port = await start(handler, { allowedHosts: ['localhost', 'idp.test:8443'] })
    assert.equal((await rawHttp(port, { host: `localhost:${port}` })).status, 200)
    assert.equal((await rawHttp(port, { host: `LOCALHOST:${port}` })).status, 200)
    assert.equal((await rawHttp(port, { host: 'idp.test:8443' })).status, 200)
    assert.equal((await rawHttp(port, { host: `idp.test:${port}` })).status, 421)
    assert.equal((await rawHttp(port, { host: 'localhost' })).status, 421)
  })

  it('takes the origin’s host: a default port matches a Host without one', async () => {
    const handler = spy()
    const port = await start(handler, { origin: 'https://idp.example' })
    const ok = await rawHttp(port, { host: 'idp.example', path: '/a' })
    assert.equal(ok.status, 200)
    assert.equal(JSON.parse(ok.body).url, 'https://idp.example/a')
    assert.equal((await rawHttp(port, { host: 'idp.example:443' })).status, 421)
    assert.equal((await rawHttp(port, { host: `127.0.0.1:${port}` })).status, 421)
  })

  it('normalizes hosts like URLs do', () => {
    assert.equal(normalizeHost('LocalHost:9000'), 'localhost:9000')
    assert.equal(normalizeHost('example.com:80'), 'example.com')
    assert.equal(normalizeHost('[::1]:9000'), '[::1]:9000')
    assert.equal(normalizeHost('localhost', 9000), 'localhost:9000')
    assert.equal(normalizeHost('a/b'), undefined)
    assert.equal(normalizeHost('u:p@h'), undefined)
    assert.deepEqual([...allowedHostSet(['127.0.0.1', 'x.test:1'], 9)], ['127.0.0.1:9', 'x.test:1'])
    assert.equal(checkHost(['a', 'b'], new Set(['a'])), 400)
  })
})

describe('while the handler is not ready', () => {
  it('answers 503 with Retry-After and a temporarily_unavailable body, then serves', async () => {
    let ready: (handler: WebHandler) => void = () => {}
    const handler = spy()
    const port = await start(new Promise<WebHandler>((resolve) => (ready = resolve)))
    const starting = await rawHttp(port, { host: `127.0.0.1:${port}`, path: '/token' })
    assert.equal(starting.status, 503)
    assert.equal(starting.headers['retry-after'], '1')
    assert.equal(starting.headers['cache-control'], 'no-store')
    assert.match(String(starting.headers['content-type']), /^application\/json/)
    assert.equal(JSON.parse(starting.body).error, 'temporarily_unavailable')
    assert.equal((await rawHttp(port, { host: `evil.example:${port}` })).status, 421)
    ready(handler)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal((await rawHttp(port, { host: `127.0.0.1:${port}` })).status, 200)
  })

  it('keeps answering 503 when the handler failed to start', async () => {
    const port = await start(Promise.reject(new Error('no')))
    assert.equal((await rawHttp(port, { host: `127.0.0.1:${port}` })).status, 503)
  })
})
