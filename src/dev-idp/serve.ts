/**
 * Serves a Web-standard handler (`Request → Response`) on `node:http`, for the dev IdP. Bodies
 * are streamed both ways; a handler failure becomes a bare 500.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

/** Builds the Web request for a Node request, its URL on `origin` (scheme, host and port). */
export function toWebRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  // Append the path to the origin, never resolve it: `//evil.example/x` must stay a path here,
  // and an absolute-form target keeps only its path and query.
  const target = req.url ?? '/'
  const path = target.startsWith('/')
    ? target
    : (() => {
        try {
          const u = new URL(target)
          return `${u.pathname}${u.search}`
        } catch {
          return '/'
        }
      })()
  return new Request(`${origin}${path}`, {
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

/**
 * Starts a server for `handler` on `host:port`; resolves once listening. Request URLs use
 * `origin`, by default `http://<host>:<the port actually bound>` (so `port: 0` works).
 */
export async function serve(
  handler: (request: Request) => Promise<Response>,
  options: { host: string; port: number; origin?: string },
): Promise<Server> {
  let origin = options.origin ?? ''
  const server = createServer((req, res) => {
    handler(toWebRequest(req, origin))
      .then((response) => writeWebResponse(response, res))
      .catch(() => {
        if (!res.headersSent) res.statusCode = 500
        res.end()
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  if (origin === '') {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host
    origin = `http://${host}:${(server.address() as { port: number }).port}`
  }
  return server
}
