/**
 * The Node-native path of the OP: a `node:http` request read straight into the OP's own request
 * shape (URL parsed once, headers read from Node's object, body buffered with a cap), and the
 * OP's response written straight back, with no Web `Request`, `Headers` or `Response` built on
 * the way.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BodyTooLarge } from '../core/read-capped.ts'
import type { OpRequest, OpResponse } from '../op/http/message.ts'
import { nodeHeaderReader } from './headers.ts'
import { requestPath } from './target.ts'

/** Reads the body of `req`, refusing more than `max` bytes (the rest is not read). */
export function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new BodyTooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const onData = (chunk: Buffer) => {
      total += chunk.length
      if (total > max) {
        req.off('data', onData)
        req.resume()
        reject(new BodyTooLarge())
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.once('error', reject)
  })
}

/**
 * The OP's request for a Node request, its URL on `origin` (the request-target is appended to
 * the origin, never resolved: `//host/x` stays a path; an absolute-form target keeps only its
 * path and query).
 *
 * @example
 * ```ts
 * createServer(async (req, res) => writeOpResponse(res, await op.handleMessage(opRequestOf(req, origin))))
 * ```
 */
export function opRequestOf(req: IncomingMessage, origin: string): OpRequest {
  return new NodeOpRequest(req, origin)
}

/** An {@link OpRequest} over a Node request (a class: no closures made per request). */
class NodeOpRequest implements OpRequest {
  readonly method: string
  readonly url: URL
  readonly headers: OpRequest['headers']
  readonly #req: IncomingMessage
  #body: Promise<Uint8Array> | undefined

  constructor(req: IncomingMessage, origin: string) {
    this.#req = req
    this.method = req.method ?? 'GET'
    this.url = new URL(`${origin}${requestPath(req.url ?? '/')}`)
    this.headers = nodeHeaderReader(req.headers)
  }

  get remoteAddress(): string | undefined {
    return this.#req.socket.remoteAddress
  }

  body(max: number): Promise<Uint8Array> {
    this.#body ??=
      this.method === 'GET' || this.method === 'HEAD'
        ? Promise.resolve(new Uint8Array())
        : readBody(this.#req, max)
    return this.#body
  }
}

/** Writes the OP's response onto a Node response. */
export function writeOpResponse(res: ServerResponse, response: OpResponse): void {
  const { body } = response
  const length = body === null ? 0 : Buffer.byteLength(body, 'utf8')
  res.writeHead(response.status, { ...response.headers, 'content-length': length })
  // A string body goes out in the same write as the headers (a Buffer would take a second one).
  res.end(body ?? undefined, 'utf8')
}
