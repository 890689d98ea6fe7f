/**
 * The syntax of OAuth `error` values (RFC 6749 §4.1.2.1, §5.2): printable ASCII without `"` and
 * `\`. Values outside it are not echoed anywhere.
 *
 * @module
 */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/

/** True when `value` is a syntactically valid OAuth `error` code. */
export function isOAuthErrorCode(value: unknown): value is string {
  return typeof value === 'string' && ERROR_CODE.test(value)
}
