/**
 * The OP's own request and response shapes. Endpoints read an {@link OpRequest} and answer an
 * {@link OpResponse}: plain objects, so a Node server can feed them from `node:http` and write
 * them back without building Web `Request`/`Response` objects (the Node-native path), while
 * `op.handler` converts to and from Web objects for fetch runtimes.
 *
 * @module
 */
import { addCookies, type HeaderReader, type MessageResponse } from '../../core/http-message.ts'
import { readCapped } from '../../core/read-capped.ts'

export type { HeaderReader } from '../../core/http-message.ts'

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
  /**
   * The peer's network address, when the server knows it (the Node paths: the socket's). Behind
   * a proxy it is the proxy's: the client address rate limits count under is found from it and
   * the trusted proxies (`createOp({ trustedProxies })`).
   */
  readonly remoteAddress?: string | undefined
}

/** What the OP answers: the shared {@link MessageResponse}. */
export type OpResponse = MessageResponse

/**
 * The OP's view of a Web `Request`.
 *
 * @example
 * ```ts
 * const response = await op.handleMessage(fromWebRequest(request))
 * ```
 */
export function fromWebRequest(request: Request, remoteAddress?: string): OpRequest {
  let read: Promise<Uint8Array> | undefined
  return {
    remoteAddress,
    method: request.method,
    url: new URL(request.url),
    headers: request.headers,
    body: (max) => {
      read ??= readCapped(request.body, request.headers, max)
      return read
    },
  }
}

export { toWebResponse } from '../../core/http-message.ts'

/** Adds a `Set-Cookie` to a response (several may be set). */
export function addCookie(response: OpResponse, cookie: string): OpResponse {
  return addCookies(response, [cookie])
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
