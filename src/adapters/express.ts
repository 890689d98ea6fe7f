/**
 * `authkestra/express`: the engine in Express 5. `authkestra(auth)` is a router serving the auth
 * routes; `requireAuth(guard)` protects a route; `getAuth(req, guard)` reads its typed principal.
 * Translation only: every decision is the engine's. Body parsers mounted before the router are
 * fine (a consumed body is forwarded re-serialized, never awaited again), and the request URL
 * follows `app.set('trust proxy', …)` through `req.protocol` and `req.host`.
 *
 * @module
 */
import {
  type Request as ExpressRequest,
  type Response as ExpressResponse,
  type RequestHandler,
  Router,
} from 'express'
import type { AuthkestraBase, Guard } from '../index.ts'
import {
  engineRequest,
  guardRequest,
  nodeBody,
  webHeaders,
  webRequest,
  webUrl,
  writeMessage,
  writeResponse,
} from './node-web.ts'

declare global {
  namespace Express {
    interface Request {
      /** The principal `requireAuth` accepted (read it typed with `getAuth`). */
      auth?: unknown
    }
  }
}

/** The Web request for `req`, with its body (for `onLogin`); undefined for a bad Host. */
function toWebRequest(req: ExpressRequest): Request | undefined {
  const url = webUrl(req.protocol, req.host, req.originalUrl)
  if (url === undefined) return undefined
  const headers = webHeaders(req.headers)
  return webRequest(url, req.method, headers, nodeBody(req, headers))
}

function badRequest(res: ExpressResponse): void {
  res.status(400).type('text/plain').send('Bad Request')
}

/**
 * A router serving `${auth.basePath}/*` through the engine. Mount it at the app's root.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { authkestra } from 'authkestra/express'
 *
 * const app = express()
 * app.set('trust proxy', 'loopback') // behind a reverse proxy: https URLs, Secure cookies
 * app.use(authkestra(auth)) // GET /auth/login/github, /auth/callback/github, POST /auth/logout…
 * ```
 */
export function authkestra(auth: AuthkestraBase): Router {
  const router = Router()
  router.all(`${auth.basePath}/*path`, (req, res, next) => {
    const request = engineRequest(req.protocol, req.host, req.originalUrl, req, {
      web: () => toWebRequest(req),
    })
    if (request === undefined) return badRequest(res)
    auth
      .handleMessage(request)
      .then((response) => writeMessage(response, res))
      .catch(next)
  })
  return router
}

/**
 * Middleware that runs `guard` on the request: on refusal it sends the guard's response (401 with
 * `WWW-Authenticate`, or 403); otherwise it sets `req.auth` and calls the next handler. The guard
 * sees the URL and headers only, read straight from Node (no Web `Request` is built), so the body
 * stays unread for the parsers after it.
 *
 * @example
 * ```ts
 * import { session } from 'authkestra'
 * import { getAuth, requireAuth } from 'authkestra/express'
 *
 * const signedIn = session(auth)
 * app.get('/api/me', requireAuth(signedIn), (req, res) => {
 *   res.json(getAuth(req, signedIn).user)
 * })
 * ```
 */
export function requireAuth<Principal>(guard: Guard<Principal>): RequestHandler {
  return (req, res, next) => {
    const request = guardRequest(req.protocol, req.host, req.originalUrl, req.method, req.headers)
    if (request === undefined) return badRequest(res)
    guard(request)
      .then(async (result) => {
        if (!result.ok) return writeResponse(result.response, res)
        req.auth = result.principal
        next()
      })
      .catch(next)
  }
}

/**
 * The principal `requireAuth(guard)` accepted for this request, typed by the guard (or by the
 * type argument). Throws when no `requireAuth` ran before: a wiring mistake, not a user error.
 *
 * @example
 * ```ts
 * app.get('/api/me', requireAuth(signedIn), (req, res) => {
 *   const { user, expiresAt } = getAuth(req, signedIn)
 *   res.json({ user, expiresAt })
 * })
 * ```
 */
export function getAuth<Principal>(req: ExpressRequest, _guard?: Guard<Principal>): Principal {
  if (req.auth === undefined) throw new TypeError('getAuth: no requireAuth() ran for this route')
  return req.auth as Principal
}
