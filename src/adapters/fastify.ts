/**
 * `authkestra/fastify`: the engine in Fastify 5. `authkestra(auth)` is a plugin serving the auth
 * routes; `requireAuth(guard)` is a `preHandler` hook; `getAuth(request, guard)` reads the typed
 * principal. Translation only: every decision is the engine's. The auth routes take any body
 * (their own content-type parser, scoped to them), and URLs follow Fastify's `trustProxy`.
 *
 * @module
 */
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify'
import type { AuthkestraBase, Guard, MessageResponse } from '../index.ts'
import { engineRequest, guardRequest, webHeaders, webRequest, webUrl } from '../node/web.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The principal `requireAuth` accepted, else null (read it typed with `getAuth`). */
    auth: unknown
  }
}

/** The Web request for `request`, with its buffered body; undefined for a bad Host. */
function toWebRequest(request: FastifyRequest): Request | undefined {
  const url = webUrl(request.protocol, request.host, request.url)
  if (url === undefined) return undefined
  const body = request.body instanceof Uint8Array ? (request.body as Uint8Array<ArrayBuffer>) : null
  return webRequest(url, request.method, webHeaders(request.headers), body)
}

/** Sends an engine response through the reply (so the app's `onSend` hooks still run). */
function sendMessage(reply: FastifyReply, response: MessageResponse): FastifyReply {
  reply.code(response.status)
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value)
  return response.body === null ? reply.send() : reply.send(response.body)
}

/** Sends a Web response through the reply (so the app's `onSend` hooks still run). */
function send(reply: FastifyReply, response: Response): FastifyReply {
  reply.code(response.status)
  for (const [name, value] of response.headers) reply.header(name, value)
  return response.body === null ? reply.send() : reply.send(response.body)
}

function badRequest(reply: FastifyReply): FastifyReply {
  return reply.code(400).type('text/plain').send('Bad Request')
}

/**
 * A plugin serving `ALL ${auth.basePath}/*` through the engine. It is not encapsulated (so the
 * `request.auth` decoration reaches every route); the routes and their catch-all body parser
 * live in a child context, so the app's own parsers are untouched.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { authkestra } from 'authkestra/fastify'
 *
 * const app = Fastify({ trustProxy: true }) // behind a reverse proxy
 * await app.register(authkestra(auth)) // GET /auth/login/github, POST /auth/logout…
 * ```
 */
export function authkestra(auth: AuthkestraBase): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (fastify) => {
    if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null)
    await fastify.register(async (routes) => {
      routes.removeAllContentTypeParsers()
      routes.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
        done(null, body)
      })
      routes.all(`${auth.basePath}/*`, async (request, reply) => {
        // The catch-all parser buffered any body: the route reads that, never the drained stream.
        const forEngine = engineRequest(request.protocol, request.host, request.url, request.raw, {
          web: () => toWebRequest(request),
          buffered: request.body instanceof Uint8Array ? request.body : new Uint8Array(),
        })
        if (forEngine === undefined) return badRequest(reply)
        return sendMessage(reply, await auth.handleMessage(forEngine))
      })
    })
  }
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'authkestra',
  })
}

/**
 * A `preHandler` hook that runs `guard`: on refusal it sends the guard's response (401 with
 * `WWW-Authenticate`, or 403); otherwise it sets `request.auth` and the route runs.
 *
 * @example
 * ```ts
 * import { sessionGuard } from 'authkestra'
 * import { getAuth, requireAuth } from 'authkestra/fastify'
 *
 * const signedIn = sessionGuard(auth)
 * app.get('/api/me', { preHandler: requireAuth(signedIn) }, async (request) => {
 *   return getAuth(request, signedIn).user
 * })
 * ```
 */
export function requireAuth<Principal>(guard: Guard<Principal>): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const forGuard = guardRequest(
      request.protocol,
      request.host,
      request.url,
      request.method,
      request.headers,
    )
    if (forGuard === undefined) return badRequest(reply)
    const result = await guard(forGuard)
    if (!result.ok) return send(reply, result.response)
    request.auth = result.principal
  }
}

/**
 * The principal `requireAuth(guard)` accepted for this request, typed by the guard (or by the
 * type argument). Throws when no `requireAuth` ran before: a wiring mistake, not a user error.
 *
 * @example
 * ```ts
 * app.get('/api/me', { preHandler: requireAuth(signedIn) }, async (request) => {
 *   const { user, expiresAt } = getAuth(request, signedIn)
 *   return { user, expiresAt }
 * })
 * ```
 */
export function getAuth<Principal>(request: FastifyRequest, _guard?: Guard<Principal>): Principal {
  if (request.auth === null || request.auth === undefined)
    throw new TypeError('getAuth: no requireAuth() ran for this route')
  return request.auth as Principal
}
