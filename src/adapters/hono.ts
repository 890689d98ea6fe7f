/**
 * `authkestra/hono`: the engine in Hono 4, on any runtime Hono runs on. `authkestra(auth)`
 * serves the auth routes (the same name as in the Express and Fastify adapters; the earlier
 * `authkestraRoutes` still works); `requireAuth(guard)` protects a route and puts the typed principal in
 * `c.get('auth')`. Translation only: Hono already speaks `Request` and `Response`.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { AuthkestraBase, Guard } from '../index.ts'

/** The raw request; if a middleware already read its body through `c.req`, a copy carrying it. */
async function rawRequest(c: Context): Promise<Request> {
  const raw = c.req.raw
  if (!raw.bodyUsed) return raw
  const body = await c.req.arrayBuffer().catch(() => null) // Hono caches what c.req.json() & co read
  return new Request(raw.url, {
    method: raw.method,
    headers: raw.headers,
    body,
    signal: raw.signal,
  })
}

/**
 * The peer's address where the runtime hands it to Hono: `@hono/node-server` (`env.incoming`),
 * Bun (`env.requestIP`), Deno (`env.remoteAddr`); for the engine's per-address limits.
 */
function peerAddress(c: Context): string | undefined {
  const env = c.env as
    | {
        incoming?: { socket?: { remoteAddress?: string } }
        requestIP?: (request: Request) => { address?: string } | null
        remoteAddr?: { hostname?: string }
      }
    | undefined
  if (typeof env !== 'object' || env === null) return undefined
  return (
    env.incoming?.socket?.remoteAddress ??
    (typeof env.requestIP === 'function' ? env.requestIP(c.req.raw)?.address : undefined) ??
    env.remoteAddr?.hostname
  )
}

/**
 * Middleware serving `${auth.basePath}/*` through the engine; any other path goes to `next()`.
 * Use it with `app.use` or on the base path itself.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { authkestra } from 'authkestra/hono'
 *
 * const app = new Hono()
 * app.use(authkestra(auth)) // or app.all('/auth/*', authkestra(auth))
 * ```
 */
export function authkestra(auth: AuthkestraBase): MiddlewareHandler {
  const prefix = `${auth.basePath}/`
  return async (c, next) => {
    if (!c.req.path.startsWith(prefix)) return next()
    return auth.handler(await rawRequest(c), { remoteAddress: peerAddress(c) })
  }
}

/**
 * The former name of {@link authkestra}, kept working.
 *
 * @deprecated Use `authkestra(auth)`, the name every adapter uses.
 * @example
 * ```ts
 * app.use(authkestra(auth)) // the same as app.use(authkestra(auth))
 * ```
 */
export const authkestraRoutes: (auth: AuthkestraBase) => MiddlewareHandler = authkestra

/**
 * Middleware that runs `guard`: on refusal it answers the guard's response (401 with
 * `WWW-Authenticate`, or 403); otherwise `c.get('auth')` is the principal, typed by the guard.
 *
 * @example
 * ```ts
 * import { sessionGuard } from 'authkestra'
 * import { requireAuth } from 'authkestra/hono'
 *
 * const signedIn = sessionGuard(auth)
 * app.get('/api/me', requireAuth(signedIn), (c) => c.json({ user: c.get('auth').user }))
 * ```
 */
export function requireAuth<Principal>(
  guard: Guard<Principal>,
): MiddlewareHandler<{ Variables: { auth: Principal } }> {
  return async (c, next) => {
    const result = await guard(c.req.raw)
    if (!result.ok) return result.response
    c.set('auth', result.principal)
    return next()
  }
}
