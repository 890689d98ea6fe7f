/**
 * Header lookup over Node's `IncomingHttpHeaders` (names already lower-case), shaped like the
 * `get` of Web `Headers`: repeated headers joined with `, ` (cookies with `; `), absent ones
 * `null`. Reads Node's object in place; nothing is copied.
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http'

/**
 * A `get(name)` view of Node request headers.
 *
 * @example
 * ```ts
 * const headers = nodeHeaderReader(req.headers)
 * headers.get('Authorization') // the header, or null
 * ```
 */
export function nodeHeaderReader(headers: IncomingHttpHeaders): {
  get(name: string): string | null
} {
  return new NodeHeaderReader(headers)
}

/** A class, not a closure per request: one shape, nothing made per lookup. */
class NodeHeaderReader {
  readonly #headers: IncomingHttpHeaders
  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers
  }

  get(name: string): string | null {
    const key = name.toLowerCase()
    const value = this.#headers[key]
    if (value === undefined) return null
    if (Array.isArray(value)) return value.join(key === 'cookie' ? '; ' : ', ')
    return value
  }
}
