/**
 * URI checks shared by the client and the OP.
 *
 * @module
 */

/**
 * True for an absolute URI (it has a scheme, RFC 3986 §4.3) without a fragment: what RFC 8707
 * §2 allows as a resource indicator.
 */
export function isAbsoluteUriWithoutFragment(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    !value.includes('#') &&
    /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) &&
    URL.canParse(value)
  )
}
