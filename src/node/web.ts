/**
 * Node ↔ Web translation: Node request parts to a Web `Request` or to the engine's own request
 * (the Node-native path), and a Web `Response` or the engine's response onto a Node
 * `ServerResponse`. Translation only. The Express and Fastify adapters are built on it, and
 * `authkestra/node` (`./index.ts`) offers it to any Node framework.
 *
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import { BodyTooLarge } from '../core/read-capped.ts'
import type { EngineRequest, GuardRequest, MessageResponse } from '../index.ts'
import { nodeHeaderReader } from './headers.ts'
import { readBody } from './op-message.ts'

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** Web headers from Node's (repeated values appended, HTTP/2 pseudo-headers left out). */
export function webHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue
    if (Array.isArray(value)) for (const v of value) out.append(name, v)
    else out.set(name, value)
  }
  return out
}

/**
 * The absolute URL of a request, or undefined when its scheme, Host or target is not one. The
 * request-target is appended to `protocol://host`, never resolved against it, so
 * `//evil.example/x` stays a path of this origin; an absolute-form target keeps only its path
 * and query.
 */
export function webUrl(
  protocol: string,
  host: string | undefined,
  target: string,
): URL | undefined {
  const scheme = protocol.toLowerCase()
  if ((scheme !== 'http' && scheme !== 'https') || host === undefined || !HOST.test(host))
    return undefined
  try {
    if (!target.startsWith('/')) {
      if (!/^https?:\/\//i.test(target)) return undefined
      const absolute = new URL(target)
      target = absolute.pathname + absolute.search
    }
    return new URL(`${scheme}://${host}${target}`)
  } catch {
    return undefined
  }
}

/** A stream over `req` that touches it only when read, so an unread body is left to Node. */
function lazyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= (Readable.toWeb(req) as ReadableStream<Uint8Array>).getReader()
        const next = await reader.read()
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}

/** A parsed urlencoded body as form data again (arrays repeat the key). */
function formOf(body: object): URLSearchParams {
  const form = new URLSearchParams()
  for (const [key, value] of Object.entries(body))
    for (const item of Array.isArray(value) ? value : [value]) form.append(key, String(item))
  return form
}

/**
 * The body to forward: the stream while nobody has read it; when a body parser already consumed
 * it (Express's `json`, `urlencoded`, `text`, `raw`), the parsed body serialized again, or none.
 * Never waits on a drained stream. Drops the length and encoding headers of a replaced body.
 */
export function nodeBody(
  req: IncomingMessage & { body?: unknown },
  headers: Headers,
): BodyInit | null {
  if (req.method === 'GET' || req.method === 'HEAD') return null
  if (req.body === undefined && !req.readableDidRead && !req.readableEnded) return lazyStream(req)
  for (const name of ['content-length', 'content-encoding', 'transfer-encoding'])
    headers.delete(name)
  const body = req.body
  const type = headers.get('content-type') ?? ''
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return body as Uint8Array<ArrayBuffer>
  if (body === null || typeof body !== 'object') return null
  if (type.includes('application/x-www-form-urlencoded')) return formOf(body)
  if (type.includes('json')) return JSON.stringify(body)
  return null
}

/**
 * What a guard reads, straight from a Node request: the absolute URL (checked like
 * {@link webUrl}), the method and a header view over Node's own object. Undefined for a bad
 * scheme, Host or target.
 */
export function guardRequest(
  protocol: string,
  host: string | undefined,
  target: string,
  method: string,
  headers: IncomingHttpHeaders,
): GuardRequest | undefined {
  const url = webUrl(protocol, host, target)
  return url === undefined
    ? undefined
    : { url: url.href, method, headers: nodeHeaderReader(headers) }
}

/** A Web request from its parts (`body` may be a stream). */
export function webRequest(
  url: URL,
  method: string,
  headers: Headers,
  body: BodyInit | null,
): Request {
  return new Request(url, { method, headers, body, duplex: 'half' } as RequestInit)
}

/** Writes a Web response onto a Node response; its cookies join any already set. */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') res.appendHeader(name, value)
    else res.setHeader(name, value)
  }
  if (response.body === null) res.end()
  else await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), res)
}

const encoder = new TextEncoder()

/** The bytes of a body a parser already read (re-serialized by {@link nodeBody}), capped. */
async function parsedBytes(init: BodyInit | Uint8Array | null, max: number): Promise<Uint8Array> {
  let bytes: Uint8Array
  if (init === null) bytes = new Uint8Array()
  else if (typeof init === 'string') bytes = encoder.encode(init)
  else if (init instanceof Uint8Array) bytes = init
  else if (init instanceof URLSearchParams) bytes = encoder.encode(init.toString())
  else bytes = new Uint8Array()
  if (bytes.length > max) throw new BodyTooLarge()
  return bytes
}

/**
 * The engine's request for a Node request, straight from `node:http` (the URL checked like
 * {@link webUrl}, headers read from Node's object). The body is read only when a route asks:
 * from the stream while unread, else what a body parser left (see {@link nodeBody}); `web`
 * builds a Web `Request` only for `onLogin`. Undefined for a bad scheme, Host or target.
 */
export function engineRequest(
  protocol: string,
  host: string | undefined,
  target: string,
  req: IncomingMessage & { body?: unknown },
  from: {
    /** The Web request, for `onLogin`. */
    web: () => Request | undefined
    /** The body when the framework buffered it already (Fastify's catch-all parser). */
    buffered?: Uint8Array
  },
): EngineRequest | undefined {
  const url = webUrl(protocol, host, target)
  if (url === undefined) return undefined
  const method = req.method ?? 'GET'
  let body: Promise<Uint8Array> | undefined
  let request: Request | undefined
  return {
    url: url.href,
    method,
    headers: nodeHeaderReader(req.headers),
    remoteAddress: req.socket?.remoteAddress,
    body: (max) => {
      body ??=
        method === 'GET' || method === 'HEAD'
          ? Promise.resolve(new Uint8Array())
          : from.buffered !== undefined
            ? parsedBytes(from.buffered, max)
            : req.body === undefined && !req.readableDidRead && !req.readableEnded
              ? readBody(req, max)
              : parsedBytes(nodeBody(req, webHeaders(req.headers)), max)
      return body
    },
    web: () => {
      request ??= from.web() ?? webRequest(url, method, webHeaders(req.headers), null)
      return request
    },
  }
}

/** Writes an engine response onto a Node response; its cookies join any already set. */
export function writeMessage(response: MessageResponse, res: ServerResponse): void {
  res.statusCode = response.status
  for (const [name, value] of Object.entries(response.headers)) {
    if (name === 'set-cookie') res.appendHeader(name, value)
    else res.setHeader(name, value)
  }
  res.end(response.body ?? undefined)
}
