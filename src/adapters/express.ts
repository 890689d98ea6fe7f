/**
 * `authkestra/express`: the engine in Express 4 and 5. `authkestra(auth)` is a middleware serving
 * the auth routes; `requireAuth(guard)` protects a route; `getAuth(req, guard)` reads its typed
 * principal. Translation only: every decision is the engine's. Nothing here is imported from
 * Express at run time (no `Router`, no route syntax, which changed between 4 and 5), so the app's
 * own Express, whichever major, is the one that runs. Body parsers mounted before it are fine (a
 * consumed body is forwarded re-serialized, never awaited again), and the request URL follows
 * `app.set('trust proxy', …)`: `req.protocol`, and the host read the way Express 5's `req.host`
 * reads it (Express 4's `req.host` drops the port).
 *
 * @module
 */
import type {
  Request as ExpressRequest,
  Response as ExpressResponse,
  RequestHandler,
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
} from '../node/web.ts'

declare global {
  namespace Express {
    interface Request {
      /** The principal `requireAuth` accepted (read it typed with `getAuth`). */
      auth?: unknown
    }
  }
}

/**
 * The request's host with its port: `X-Forwarded-Host` (its first value) when the app trusts the
 * peer as a proxy (`trust proxy`), else `Host`. What Express 5's `req.host` does; Express 4 has
 * no such getter (its `req.host` is the hostname), but both keep the compiled trust function.
 */
function hostOf(req: ExpressRequest): string | undefined {
  const trust = req.app.get('trust proxy fn') as
    | ((address: string | undefined, hop: number) => boolean)
    | undefined
  const forwarded = req.headers['x-forwarded-host']
  const value = typeof forwarded === 'string' ? forwarded : forwarded?.[0]
  if (value !== undefined && value !== '' && trust?.(req.socket.remoteAddress, 0) === true) {
    const comma = value.indexOf(',')
    return (comma < 0 ? value : value.slice(0, comma)).trimEnd()
  }
  return req.headers.host
}

/** The Web request for `req`, with its body (for `onLogin`); undefined for a bad Host. */
function toWebRequest(req: ExpressRequest): Request | undefined {
  const url = webUrl(req.protocol, hostOf(req), req.originalUrl)
  if (url === undefined) return undefined
  const headers = webHeaders(req.headers)
  return webRequest(url, req.method, headers, nodeBody(req, headers))
}

function badRequest(res: ExpressResponse): void {
  res.status(400).type('text/plain').send('Bad Request')
}

/**
 * Middleware serving `${auth.basePath}/…` through the engine; every other request goes on to the
 * next handler. Mount it at the app's root.
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
export function authkestra(auth: AuthkestraBase): RequestHandler {
  const prefix = `${auth.basePath}/`
  return (req, res, next) => {
    if (!req.originalUrl.startsWith(prefix)) return next()
    const request = engineRequest(req.protocol, hostOf(req), req.originalUrl, req, {
      web: () => toWebRequest(req),
    })
    if (request === undefined) return badRequest(res)
    auth
      .handleMessage(request)
      .then((response) => writeMessage(response, res))
      .catch(next)
  }
}

/**
 * Middleware that runs `guard` on the request: on refusal it sends the guard's response (401 with
 * `WWW-Authenticate`, or 403); otherwise it sets `req.auth` and calls the next handler. The guard
 * sees the URL and headers only, read straight from Node (no Web `Request` is built), so the body
 * stays unread for the parsers after it.
 *
 * @example
 * ```ts
 * import { sessionGuard } from 'authkestra'
 * import { getAuth, requireAuth } from 'authkestra/express'
 *
 * const signedIn = sessionGuard(auth)
 * app.get('/api/me', requireAuth(signedIn), (req, res) => {
 *   res.json(getAuth(req, signedIn).user)
 * })
 * ```
 */
export function requireAuth<Principal>(guard: Guard<Principal>): RequestHandler {
  return (req, res, next) => {
    const request = guardRequest(
      req.protocol,
      hostOf(req),
      req.originalUrl,
      req.method,
      req.headers,
    )
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
