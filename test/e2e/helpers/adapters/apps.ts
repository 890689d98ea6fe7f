// The same app four times: the engine's auth routes, `GET /api/me` (guarded by `session(auth)`,
// answering the principal), `POST /api/echo` (guarded, answering its text body: the guard must
// leave the body to the route), `GET /api/token` (guarded by `bearer()`, answering the token's
// subject and scopes), the stateless engine's routes under /jwt with `GET /api/jwt-me`, and
// `GET /public`, served by the raw Web handler on node:http, Express, Fastify and Hono. Each
// server listens first, so the engine knows its real origin.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
// @ts-expect-error the alias has no type declarations of its own (its types are @types/express 4)
import express4 from 'express4'
import Fastify from 'fastify'
import { Hono } from 'hono'
import * as forExpress from '../../../../src/adapters/express.ts'
import * as forFastify from '../../../../src/adapters/fastify.ts'
import * as forHono from '../../../../src/adapters/hono.ts'
import type { Session } from '../../../../src/index.ts'
import {
  nodeBody,
  webHeaders,
  webRequest,
  webUrl,
  writeResponse,
} from '../../../../src/node/web.ts'
import type { Wiring } from './wiring.ts'

export interface RunningApp {
  readonly origin: string
  readonly wiring: Wiring
  close(): Promise<void>
}

/** Starts one app; `build` makes its engine once the origin is known. */
export type StartApp = (build: (origin: string) => Wiring) => Promise<RunningApp>

type Listener = (req: IncomingMessage, res: ServerResponse) => void

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
}

/** A node:http server whose listener is set once the origin is known. */
async function deferredServer(): Promise<{
  server: Server
  origin: string
  set(l: Listener): void
}> {
  let listener: Listener = (_req, res) => res.writeHead(503).end()
  const server = createServer((req, res) => listener(req, res))
  const origin = await listen(server)
  return { server, origin, set: (l) => (listener = l) }
}

/** The raw engine handler, no framework: a small Web router on node:http. */
export const startNodeHttp: StartApp = async (build) => {
  const { server, origin, set } = await deferredServer()
  const wiring = build(origin)
  const { auth, signedIn, apiToken, jwtAuth, jwtSignedIn } = wiring
  const route = async (request: Request, remoteAddress?: string): Promise<Response> => {
    const { pathname } = new URL(request.url)
    if (pathname.startsWith(`${auth.basePath}/`)) return auth.handler(request, { remoteAddress })
    if (pathname.startsWith(`${jwtAuth.basePath}/`)) return jwtAuth.handler(request)
    if (pathname === '/api/jwt-me' && request.method === 'GET') {
      const result = await jwtSignedIn(request)
      return result.ok ? Response.json(result.principal) : result.response
    }
    if (pathname === '/public' && request.method === 'GET') return Response.json({ public: true })
    if (pathname === '/api/token' && request.method === 'GET') {
      const result = await apiToken(request)
      if (!result.ok) return result.response
      return Response.json({ subject: result.principal.subject, scopes: result.principal.scopes })
    }
    if (pathname !== '/api/me' && pathname !== '/api/echo')
      return new Response(null, { status: 404 })
    const result = await signedIn(request)
    if (!result.ok) return result.response
    if (pathname === '/api/me') return Response.json(result.principal)
    return new Response(await request.text(), { headers: { 'content-type': 'text/plain' } })
  }
  set((req, res) => {
    const url = webUrl('http', req.headers.host, req.url ?? '/')
    if (url === undefined) return void res.writeHead(400).end()
    const headers = webHeaders(req.headers)
    const request = webRequest(url, req.method ?? 'GET', headers, nodeBody(req, headers))
    route(request, req.socket.remoteAddress)
      .then((response) => writeResponse(response, res))
      .catch(() => res.writeHead(500).end())
  })
  return { origin, wiring, close: closer(server) }
}

/**
 * Express (5, or 4 through the `express4` alias), body parsers mounted before the auth
 * middleware, behind a (trusted) loopback proxy. The same app on either major: the adapter
 * imports nothing from Express at run time, so the app's own Express runs it.
 */
const expressApp =
  (expressOf: typeof express): StartApp =>
  async (build) => {
    const { server, origin, set } = await deferredServer()
    const wiring = build(origin)
    const { auth, signedIn, apiToken, jwtAuth, jwtSignedIn } = wiring
    const app = expressOf()
    app.set('trust proxy', 'loopback')
    app.use(expressOf.json())
    app.use(expressOf.urlencoded({ extended: false }))
    app.use(forExpress.authkestra(auth))
    app.use(forExpress.authkestra(jwtAuth))
    app.get('/api/jwt-me', forExpress.requireAuth(jwtSignedIn), (req, res) => {
      res.json(forExpress.getAuth(req, jwtSignedIn))
    })
    app.get('/public', (_req, res) => {
      res.json({ public: true })
    })
    app.get('/api/me', forExpress.requireAuth(signedIn), (req, res) => {
      const principal: Session<unknown> = forExpress.getAuth(req, signedIn) // typed by the guard
      res.json(principal)
    })
    app.get('/api/token', forExpress.requireAuth(apiToken), (req, res) => {
      const { subject, scopes } = forExpress.getAuth(req, apiToken)
      res.json({ subject, scopes })
    })
    app.post('/api/echo', forExpress.requireAuth(signedIn), expressOf.text(), (req, res) => {
      res.type('text/plain').send(req.body)
    })
    set(app)
    return { origin, wiring, close: closer(server) }
  }

/** Express 5. */
export const startExpress: StartApp = expressApp(express)

/** Express 4 (the `express4` dev dependency, an alias of express@4), typed as Express 5's. */
export const startExpress4: StartApp = expressApp(express4 as unknown as typeof express)

/** Fastify 5 (trusting a loopback proxy), with a route of its own taking forms to prove the auth routes' parser stays theirs. */
export const startFastify: StartApp = async (build) => {
  const { server, origin, set } = await deferredServer()
  const wiring = build(origin)
  const { auth, signedIn, apiToken, jwtAuth, jwtSignedIn } = wiring
  const app = Fastify({
    trustProxy: '127.0.0.1',
    serverFactory: (handler) => {
      set(handler)
      return server
    },
  })
  await app.register(forFastify.authkestra(auth))
  await app.register(forFastify.authkestra(jwtAuth))
  app.get('/api/jwt-me', { preHandler: forFastify.requireAuth(jwtSignedIn) }, async (request) =>
    forFastify.getAuth(request, jwtSignedIn),
  )
  app.get('/public', async () => ({ public: true }))
  app.get('/api/me', { preHandler: forFastify.requireAuth(signedIn) }, async (request) => {
    const principal: Session<unknown> = forFastify.getAuth(request, signedIn) // typed by the guard
    return principal
  })
  app.get('/api/token', { preHandler: forFastify.requireAuth(apiToken) }, async (request) => {
    const { subject, scopes } = forFastify.getAuth(request, apiToken)
    return { subject, scopes }
  })
  app.post('/api/echo', { preHandler: forFastify.requireAuth(signedIn) }, async (request, reply) =>
    reply.type('text/plain').send(request.body),
  )
  app.post('/api/form', async () => ({ parsed: true }))
  app.get('/api/decorated', async (request) => ({
    decorated: app.hasRequestDecorator('auth'),
    auth: request.auth,
  }))
  await app.ready()
  return {
    origin,
    wiring,
    close: async () => {
      await app.close()
      await closer(server)()
    },
  }
}

/** Hono 4 on @hono/node-server, with an audit middleware that reads POST bodies before the auth routes. */
export const startHono: StartApp = async (build) => {
  let app = new Hono()
  let ready: (origin: string) => void = () => {}
  const listening = new Promise<string>((resolve) => (ready = resolve))
  const server = serve(
    { fetch: (request, env) => app.fetch(request, env), hostname: '127.0.0.1', port: 0 },
    (info) => ready(`http://127.0.0.1:${info.port}`),
  ) as Server
  const origin = await listening
  const wiring = build(origin)
  const { auth, signedIn, apiToken, jwtAuth, jwtSignedIn } = wiring
  app = new Hono()
  app.post('/auth/*', async (c, next) => {
    await c.req.text() // an audit log reading the body: the engine must still get a usable request
    await next()
  })
  app.use(forHono.authkestraRoutes(auth))
  app.use(forHono.authkestraRoutes(jwtAuth))
  app.get('/api/jwt-me', forHono.requireAuth(jwtSignedIn), (c) => c.json(c.get('auth')))
  app.get('/public', (c) => c.json({ public: true }))
  app.get('/api/me', forHono.requireAuth(signedIn), (c) => {
    const principal: Session<unknown> = c.get('auth') // typed through the middleware's Variables
    return c.json(principal)
  })
  app.get('/api/token', forHono.requireAuth(apiToken), (c) => {
    const { subject, scopes } = c.get('auth')
    return c.json({ subject, scopes })
  })
  app.post('/api/echo', forHono.requireAuth(signedIn), async (c) => c.text(await c.req.text()))
  return { origin, wiring, close: closer(server) }
}
