// `authkestra/node`, over real HTTP on loopback: the engine's listener (its routes served, the
// rest passed on or 404, a bad Host 400, an engine error to next or 500), the origin it reads
// (X-Forwarded-* only with trustProxy), guardRequestOf feeding a guard, the Web translation, and
// the OP's listener.
import assert from 'node:assert/strict'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { createAuthkestra, sessionGuard } from '../../../src/index.ts'
import {
  authkestraListener,
  guardRequestOf,
  opListener,
  toWebRequest,
  writeWebResponse,
} from '../../../src/node/index.ts'
import { createOp } from '../../../src/op/create-op.ts'
import { github } from '../../../src/providers/github.ts'
import { rawHttp } from '../../helpers/net.ts'

const servers: Server[] = []
after(() => {
  for (const server of servers) {
    server.closeAllConnections()
    server.close()
  }
})

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const auth = createAuthkestra({
  providers: [
    github({
      clientId: 'id',
      clientSecret: 'secret',
      redirectUri: 'https://app.example/auth/callback/github',
    }),
  ],
  secret: 'node-subpath-test-secret-0123456789abcdef',
  session: {},
})

describe('authkestraListener', () => {
  it('serves the auth routes Node-natively and passes every other request to next', async () => {
    const routes = authkestraListener(auth)
    const origin = await serve((req, res) => routes(req, res, () => res.end('next')))
    const login = await fetch(`${origin}/auth/login/github`, { redirect: 'manual' })
    assert.equal(login.status, 302)
    assert.match(login.headers.get('location') ?? '', /code_challenge_method=S256/)
    assert.equal((await fetch(`${origin}/auth/session`)).status, 401)
    assert.equal(await (await fetch(`${origin}/other`)).text(), 'next')
    assert.equal(await (await fetch(`${origin}/authx/login/github`)).text(), 'next')
  })

  it('answers 404 for other paths without next, and 400 for a Host that is not a host name', async () => {
    const origin = await serve(authkestraListener(auth))
    assert.equal((await fetch(`${origin}/elsewhere`)).status, 404)
    const port = new URL(origin).port
    const bad = await rawHttp(Number(port), { path: '/auth/session', host: 'not_a_host' })
    assert.equal(bad.status, 400)
  })

  it('hands an engine error to next(error), or answers 500 without next', async () => {
    const failing = { ...auth, handleMessage: () => Promise.reject(new Error('boom')) }
    const seen: unknown[] = []
    const withNext = authkestraListener(failing)
    const a = await serve((req, res) =>
      withNext(req, res, (error) => {
        seen.push(error)
        res.writeHead(502).end()
      }),
    )
    assert.equal((await fetch(`${a}/auth/session`)).status, 502)
    assert.equal((seen[0] as Error).message, 'boom')
    const b = await serve(authkestraListener(failing))
    assert.equal((await fetch(`${b}/auth/session`)).status, 500)
  })

  it('reads X-Forwarded-Proto/Host only with trustProxy', async () => {
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example:8443' }
    const plain = await serve(authkestraListener(auth))
    const trusting = await serve(authkestraListener(auth, { trustProxy: true }))
    const flowCookie = async (origin: string) =>
      (await fetch(`${origin}/auth/login/github`, { headers, redirect: 'manual' })).headers
        .getSetCookie()
        .some((c) => c.startsWith('__Host-'))
    assert.equal(await flowCookie(plain), false, 'a client’s X-Forwarded-Proto is not believed')
    assert.equal(await flowCookie(trusting), true, 'behind the proxy the request is https')
  })
})

describe('guardRequestOf and the Web translation', () => {
  it('feeds a guard from a Node request, and translates to and from Web objects', async () => {
    const signedIn = sessionGuard(auth)
    const origin = await serve(async (req, res) => {
      if (req.url === '/guarded') {
        const request = guardRequestOf(req, { trustProxy: true })
        const result = request ? await signedIn(request) : undefined
        res.end(JSON.stringify({ url: request?.url, ok: result?.ok }))
        return
      }
      const request = toWebRequest(req)
      if (!request) return void res.writeHead(400).end()
      await writeWebResponse(
        new Response(`${request.method} ${request.url} ${await request.text()}`, {
          headers: [
            ['set-cookie', 'a=1'],
            ['set-cookie', 'b=2'],
          ],
        }),
        res,
      )
    })
    const guarded = await fetch(`${origin}/guarded`, {
      headers: { 'x-forwarded-host': 'app.example', 'x-forwarded-proto': 'https' },
    })
    assert.deepEqual(await guarded.json(), { url: 'https://app.example/guarded', ok: false })
    const echoed = await fetch(`${origin}/echo?q=1`, { method: 'POST', body: 'hello' })
    assert.equal(await echoed.text(), `POST ${origin}/echo?q=1 hello`)
    assert.deepEqual(echoed.headers.getSetCookie(), ['a=1', 'b=2'])
  })
})

describe('opListener', () => {
  it('serves the embedded OP on its issuer', async () => {
    let listener: RequestListener = (_req, res) => void res.writeHead(503).end()
    const origin = await serve((req, res) => listener(req, res))
    const op = await createOp({
      issuer: origin,
      clients: [{ client_id: 'app', redirect_uris: ['http://127.0.0.1:9/cb'] }],
      logger: { warn: () => {}, error: () => {} },
    })
    listener = opListener(op)
    const discovery = await fetch(`${origin}/.well-known/openid-configuration`)
    assert.equal(discovery.status, 200)
    assert.equal(((await discovery.json()) as { issuer: string }).issuer, origin)
  })
})
