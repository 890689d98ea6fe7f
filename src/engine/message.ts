/**
 * The engine's own request shape, so the Node adapters can feed its routes straight from
 * `node:http` (no Web `Request` per request) while `auth.handler` serves fetch runtimes. Routes
 * answer the shared {@link MessageResponse}.
 *
 * @module
 */
import type { MessageResponse } from '../core/http-message.ts'
import { readCapped } from '../core/read-capped.ts'
import type { GuardRequest } from './guards/types.ts'

/** What the engine's routes read of a request. */
export interface EngineRequest extends GuardRequest {
  /**
   * The body, read once, at most `maxBytes` (a larger one rejects with `BodyTooLarge`); empty
   * for a bodiless request.
   */
  body(maxBytes: number): Promise<Uint8Array>
  /** The request as a Web `Request`, for `onLogin` (made on first use when it came from Node). */
  web(): Request
  /** The peer's address when the server knows it (the Node paths: the socket's), for limits. */
  readonly remoteAddress?: string | undefined
}

/**
 * The engine's view of a Web `Request`.
 *
 * @example
 * ```ts
 * const response = await auth.handleMessage(engineRequestOf(request))
 * ```
 */
export function engineRequestOf(request: Request, remoteAddress?: string): EngineRequest {
  let read: Promise<Uint8Array> | undefined
  return {
    remoteAddress,
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: (max) => {
      read ??= readCapped(request.body, request.headers, max)
      return read
    },
    web: () => request,
  }
}

/** A response that must not be cached, with the given headers and cookies. */
export function noStore(
  status: number,
  headers: Record<string, string>,
  body: string | null,
  cookies: readonly string[] = [],
): MessageResponse {
  const out: Record<string, string | string[]> = { ...headers, 'cache-control': 'no-store' }
  if (cookies.length > 0) out['set-cookie'] = [...cookies]
  return { status, headers: out, body }
}

/** A JSON response that must not be cached. */
export function jsonResponse(
  body: unknown,
  status: number,
  cookies: readonly string[] = [],
): MessageResponse {
  return noStore(
    status,
    { 'content-type': 'application/json; charset=utf-8' },
    JSON.stringify(body),
    cookies,
  )
}

/** A redirect (302 unless told) that must not be cached. */
export function redirect(
  location: string,
  cookies: readonly string[] = [],
  status = 302,
): MessageResponse {
  return noStore(status, { location }, null, cookies)
}
