/**
 * Serves a Web-standard handler (`Request → Response`) on `node:http`, for the dev IdP. Bodies
 * are streamed both ways; a handler failure becomes a bare 500; a request for another host name
 * is refused before the handler runs (DNS rebinding, see `./host-check.ts`).
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { opRequestOf, writeOpResponse } from '../node/op-message.ts'
import { requestPath } from '../node/target.ts'
import type { OpRequest, OpResponse } from '../op/http/message.ts'
import { allowedHostSet, checkHost, hostRefusal } from './host-check.ts'

/**
 * Builds the Web request for a Node request, its URL on `origin` (scheme, host and port) with the
 * request-target appended, never resolved (see `requestPath`).
 */
export function toWebRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  return new Request(`${origin}${requestPath(req.url ?? '/')}`, {
    method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit)
}

/** Writes a Web response to a Node response. */
export async function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue
    res.setHeader(name, value)
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  if (!response.body) {
    res.end()
    return
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk)
  res.end()
}

/** A Web-standard handler. */
export type WebHandler = (request: Request) => Promise<Response>

/** A handler on the OP's own shapes, served without Web objects (the Node-native path). */
export interface MessageHandler {
  readonly message: (request: OpRequest) => Promise<OpResponse>
}

/** Options of {@link serve}. */
export interface ServeOptions {
  readonly host: string
  readonly port: number
  /**
   * Scheme, host and port of request URLs: a string, or computed from the port actually bound
   * (so `port: 0` works). Default `http://<host>:<bound port>`.
   */
  readonly origin?: string | ((boundPort: number) => string)
  /**
   * `Host` values served besides the origin's host (`name`, taking the bound port, or
   * `name:port`). Any other `Host` gets 421, a missing or malformed one 400, before the handler
   * runs (the DNS-rebinding defence of `./host-check.ts`).
   */
  readonly allowedHosts?: readonly string[]
}

/**
 * What a server whose handler is not ready yet answers: 503 with `Retry-After: 1` and an OAuth
 * `temporarily_unavailable` body (RFC 6749 §4.1.2.1), so clients and scripts know to retry.
 */
export function startingResponse(): Response {
  return Response.json(
    {
      error: 'temporarily_unavailable',
      error_description: 'the server is starting; retry shortly',
    },
    { status: 503, headers: { 'retry-after': '1', 'cache-control': 'no-store' } },
  )
}

/**
 * Starts a server for `handler` on `host:port`; resolves once listening. While `handler` is a
 * pending promise, requests get {@link startingResponse}; if it rejects, 503 too. Every request
 * has its `Host` checked first (see {@link ServeOptions.allowedHosts}).
 */
export async function serve(
  handler: WebHandler | MessageHandler | Promise<WebHandler | MessageHandler>,
  options: ServeOptions,
): Promise<Server> {
  let origin = ''
  let allowed: ReadonlySet<string> = new Set()
  let ready: WebHandler | MessageHandler | undefined =
    handler instanceof Promise ? undefined : handler
  if (handler instanceof Promise) {
    handler.then(
      (h) => {
        ready = h
      },
      () => {},
    )
  }
  const server = createServer((req, res) => {
    const refused = origin === '' ? undefined : checkHost(req.headers.host, allowed)
    if (refused !== undefined) {
      const { status, headers, body } = hostRefusal(refused, origin)
      res.writeHead(status, headers).end(body)
      return
    }
    const fail = () => {
      if (!res.headersSent) res.statusCode = 500
      res.end()
    }
    const current = origin === '' ? undefined : ready
    if (current === undefined) {
      writeWebResponse(startingResponse(), res).catch(fail)
    } else if (typeof current === 'function') {
      current(toWebRequest(req, origin))
        .then((r) => writeWebResponse(r, res))
        .catch(fail)
    } else {
      current
        .message(opRequestOf(req, origin))
        .then((r) => writeOpResponse(res, r))
        .catch(fail)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const port = (server.address() as { port: number }).port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  const computed = typeof options.origin === 'function' ? options.origin(port) : options.origin
  origin = new URL(computed ?? `http://${host}:${port}`).origin
  allowed = new Set([new URL(origin).host, ...allowedHostSet(options.allowedHosts ?? [], port)])
  return server
}
