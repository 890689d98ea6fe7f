/**
 * `authkestra/node`: mount the engine, the embedded OP or a guard in any Node framework (plain
 * `node:http`, Koa, NestJS, Connect, …), the way the Express and Fastify adapters do it.
 *
 * - {@link authkestraListener}: the engine's routes on the Node-native path (no Web `Request` or
 *   `Response` built), passing every other request on;
 * - {@link opListener}: the embedded OP the same way;
 * - {@link guardRequestOf}: what a guard reads, from a Node request;
 * - {@link toWebRequest} / {@link writeWebResponse}: plain Node ↔ Web translation, for anything
 *   that takes a fetch handler (`auth.handler`, `op.handler`).
 *
 * The request's origin: `http`, or `https` on a TLS socket, and the `Host` header; behind a
 * reverse proxy, `trustProxy: true` takes the first `X-Forwarded-Proto` and `X-Forwarded-Host`
 * instead (only set it when a proxy you run always sets both: a client could send them
 * otherwise). A request with a Host that is not a host name answers 400.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthkestraBase, GuardRequest } from '../index.ts'
import type { Op } from '../op/create-op.ts'
import { opRequestOf, writeOpResponse } from './op-message.ts'
import {
  engineRequest,
  guardRequest,
  nodeBody,
  webHeaders,
  webRequest,
  webUrl,
  writeMessage,
  writeResponse,
} from './web.ts'

/** How the request's origin is read. */
export interface NodeOriginOptions {
  /**
   * Take the scheme and host from `X-Forwarded-Proto` / `X-Forwarded-Host` (their first
   * values), as set by a reverse proxy in front of the app. Default false: the socket and `Host`.
   */
  readonly trustProxy?: boolean
}

/** The next handler of a middleware chain; absent, unmatched requests get 404. */
export type NextFunction = (error?: unknown) => void

const first = (value: string | string[] | undefined): string | undefined => {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined) return undefined
  const comma = text.indexOf(',')
  const one = (comma < 0 ? text : text.slice(0, comma)).trim()
  return one === '' ? undefined : one
}

/** The scheme and host of `req`, per {@link NodeOriginOptions}. */
function originOf(
  req: IncomingMessage,
  options: NodeOriginOptions,
): { protocol: string; host: string | undefined } {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true
  if (options.trustProxy === true) {
    return {
      protocol: first(req.headers['x-forwarded-proto']) ?? (tls ? 'https' : 'http'),
      host: first(req.headers['x-forwarded-host']) ?? req.headers.host,
    }
  }
  return { protocol: tls ? 'https' : 'http', host: req.headers.host }
}

function badRequest(res: ServerResponse): void {
  res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request')
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found')
}

/**
 * The Web `Request` of a Node request (its body streamed when read), for a fetch handler such as
 * `auth.handler` or `op.handler`; undefined when its scheme, Host or target is not one.
 *
 * @example
 * ```ts
 * createServer(async (req, res) => {
 *   const request = toWebRequest(req)
 *   if (!request) return void res.writeHead(400).end()
 *   await writeWebResponse(await auth.handler(request), res)
 * })
 * ```
 */
export function toWebRequest(
  req: IncomingMessage,
  options: NodeOriginOptions = {},
): Request | undefined {
  const { protocol, host } = originOf(req, options)
  const url = webUrl(protocol, host, req.url ?? '/')
  if (url === undefined) return undefined
  const headers = webHeaders(req.headers)
  return webRequest(url, req.method ?? 'GET', headers, nodeBody(req, headers))
}

/**
 * Writes a Web `Response` onto a Node response (streaming its body); `Set-Cookie`s join any the
 * framework set already.
 *
 * @example
 * ```ts
 * await writeWebResponse(await op.handler(toWebRequest(req) as Request), res)
 * ```
 */
export function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  return writeResponse(response, res)
}

/**
 * What a guard reads, from a Node request (no Web `Request` built, the body left unread);
 * undefined when its scheme, Host or target is not one.
 *
 * @example
 * ```ts
 * const request = guardRequestOf(req)
 * const result = request && (await session(auth)(request))
 * if (!result?.ok) return void res.writeHead(401).end()
 * ```
 */
export function guardRequestOf(
  req: IncomingMessage,
  options: NodeOriginOptions = {},
): GuardRequest | undefined {
  const { protocol, host } = originOf(req, options)
  return guardRequest(protocol, host, req.url ?? '/', req.method ?? 'GET', req.headers)
}

/**
 * A Node listener (or middleware) serving the engine's routes under `auth.basePath` on the
 * Node-native path; any other request goes to `next`, or gets 404 without one. Errors of the
 * engine go to `next(error)`, or answer 500.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { authkestraListener } from 'authkestra/node'
 *
 * const routes = authkestraListener(auth)
 * createServer((req, res) => routes(req, res, () => res.writeHead(404).end())).listen(3000)
 * ```
 */
export function authkestraListener(
  auth: AuthkestraBase,
  options: NodeOriginOptions = {},
): (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void {
  const prefix = `${auth.basePath}/`
  return (req, res, next) => {
    const target = req.url ?? '/'
    if (!target.startsWith(prefix)) return next ? next() : notFound(res)
    const { protocol, host } = originOf(req, options)
    const request = engineRequest(protocol, host, target, req, {
      web: () => toWebRequest(req, options),
    })
    if (request === undefined) return badRequest(res)
    auth
      .handleMessage(request)
      .then((response) => writeMessage(response, res))
      .catch((err: unknown) => {
        if (next) return next(err)
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
  }
}

/**
 * A Node listener serving the embedded OP on the Node-native path, the way `authkestra dev-idp`
 * does: every request's URL is taken on the issuer's origin (the OP checks its own paths).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { createOp } from 'authkestra/op'
 * import { opListener } from 'authkestra/node'
 *
 * const op = await createOp({ issuer: 'http://localhost:9000', clients })
 * createServer(opListener(op)).listen(9000)
 * ```
 */
export function opListener(op: Op): (req: IncomingMessage, res: ServerResponse) => void {
  const origin = new URL(op.issuer).origin
  return (req, res) => {
    op.handleMessage(opRequestOf(req, origin))
      .then((response) => writeOpResponse(res, response))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
  }
}
