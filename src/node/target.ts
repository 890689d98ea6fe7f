/**
 * The path (and query) of a Node request-target, to append to a fixed origin. It is appended,
 * never resolved: `//evil.example/x` stays a path of the origin; an absolute-form target
 * (`http://host/x?y`) keeps only its path and query; anything unparsable is `/`.
 *
 * @module
 */

/**
 * The path and query of `target`.
 *
 * @example
 * ```ts
 * new URL(`${origin}${requestPath(req.url ?? '/')}`)
 * ```
 */
export function requestPath(target: string): string {
  if (target.startsWith('/')) return target
  try {
    const absolute = new URL(target)
    return `${absolute.pathname}${absolute.search}`
  } catch {
    return '/'
  }
}
