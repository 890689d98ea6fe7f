/**
 * The OP's own request and response shapes. Endpoints read an {@link OpRequest} and answer an
 * {@link OpResponse}: plain objects, so a Node server can feed them from `node:http` and write
 * them back without building Web `Request`/`Response` objects (the Node-native path), while
 * `op.handler` converts to and from Web objects for fetch runtimes.
 *
 * @module
 */
import { readCapped } from '../../core/read-capped.ts'

/** Header lookup by (case-insensitive) name; Web `Headers` fits. */
export interface HeaderReader {
  get(name: string): string | null
}

/** What the OP reads of a request. */
export interface OpRequest {
  readonly method: string
  /** The request URL, parsed once. */
  readonly url: URL
  readonly headers: HeaderReader
  /**
   * The body, read once, at most `maxBytes` (a larger body, or a declared `Content-Length`
   * over it, rejects with `BodyTooLarge`). Empty for a bodiless request.
   */
  body(maxBytes: number): Promise<Uint8Array>
}

/** What the OP answers. Header names are lower-case; `set-cookie` may hold several values. */
export interface OpResponse {
  readonly status: number
  readonly headers: Record<string, string | string[]>
  readonly body: string | null
}

/**
 * The OP's view of a Web `Request`.
 *
 * @example
 * ```ts
 * const response = await op.handleMessage(fromWebRequest(request))
 * ```
 */
export function fromWebRequest(request: Request): OpRequest {
  let read: Promise<Uint8Array> | undefined
  return {
    method: request.method,
    url: new URL(request.url),
    headers: request.headers,
    body: (max) => {
      read ??= readCapped(request.body, request.headers, max)
      return read
    },
  }
}

/**
 * A Web `Response` for an {@link OpResponse}.
 *
 * @example
 * ```ts
 * return toWebResponse(await op.handleMessage(fromWebRequest(request)))
 * ```
 */
export function toWebResponse(response: OpResponse): Response {
  const headers = new Headers()
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else headers.set(name, value as string)
  }
  return new Response(response.body, { status: response.status, headers })
}

/** Adds a `Set-Cookie` to a response (several may be set). */
export function addCookie(response: OpResponse, cookie: string): OpResponse {
  const existing = response.headers['set-cookie']
  response.headers['set-cookie'] =
    existing === undefined
      ? [cookie]
      : [...(Array.isArray(existing) ? existing : [existing]), cookie]
  return response
}

/** True for an {@link OpResponse} (as opposed to the values endpoints pass between steps). */
export function isOpResponse(value: unknown): value is OpResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as OpResponse).status === 'number' &&
    'headers' in value &&
    'body' in value
  )
}
