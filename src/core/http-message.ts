/**
 * The small response shape the OP's endpoints and the engine's routes answer with: status,
 * lower-case headers (`set-cookie` may hold several values) and a string body. Node servers
 * write it straight to `node:http` (the Node-native path, `authkestra/node`); fetch runtimes get
 * a Web `Response` from {@link toWebResponse}.
 *
 * @module
 */

/** Header lookup by (case-insensitive) name; Web `Headers` fits. */
export interface HeaderReader {
  get(name: string): string | null
}

/** A response: status, lower-case header names, a string body or none. */
export interface MessageResponse {
  readonly status: number
  readonly headers: Record<string, string | string[]>
  readonly body: string | null
}

/**
 * A Web `Response` for a {@link MessageResponse}.
 *
 * @example
 * ```ts
 * return toWebResponse({ status: 204, headers: { 'cache-control': 'no-store' }, body: null })
 * ```
 */
export function toWebResponse(response: MessageResponse): Response {
  const headers = new Headers()
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else headers.set(name, value as string)
  }
  return new Response(response.body, { status: response.status, headers })
}

/**
 * Adds `Set-Cookie` values to a response (after any it has) and returns it.
 *
 * @example
 * ```ts
 * addCookies(response, ['sid=; Path=/; Max-Age=0'])
 * ```
 */
export function addCookies<R extends MessageResponse>(response: R, cookies: readonly string[]): R {
  if (cookies.length === 0) return response
  const existing = response.headers['set-cookie']
  response.headers['set-cookie'] =
    existing === undefined
      ? [...cookies]
      : [...(Array.isArray(existing) ? existing : [existing]), ...cookies]
  return response
}
