/**
 * Where a login may send the user afterwards: only a path on this site. Anything that a browser
 * could read as another origin (`//evil.example`, `/\evil.example`, `https://…`) is refused,
 * as are control characters and values over 1 KiB.
 *
 * @module
 */

/**
 * Longest `returnTo`, in UTF-8 bytes.
 *
 * @example
 * ```ts
 * const ok = new TextEncoder().encode(path).length <= MAX_RETURN_TO_BYTES
 * ```
 */
export const MAX_RETURN_TO_BYTES = 1024

/**
 * True when `value` is a same-origin relative path that is safe to redirect to.
 *
 * @example
 * ```ts
 * isSafeReturnTo('/dashboard?tab=1') // true
 * isSafeReturnTo('//evil.example')   // false
 * isSafeReturnTo('/\\evil.example')  // false (browsers read "\" as "/")
 * ```
 */
export function isSafeReturnTo(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.startsWith('/') &&
    !value.startsWith('//') &&
    !value.includes('\\') &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    !/[\u0000-\u001f\u007f]/.test(value) &&
    new TextEncoder().encode(value).length <= MAX_RETURN_TO_BYTES
  )
}
