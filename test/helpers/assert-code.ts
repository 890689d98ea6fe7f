import { AuthkestraError, type AuthkestraErrorCode } from '../../src/core/errors.ts'

/**
 * An `assert.rejects`/`assert.throws` matcher for an AuthkestraError with this exact code (and
 * OAuth `error`, when given); `extra` may assert more about the error (status, description, …).
 */
export function code(
  expected: AuthkestraErrorCode,
  oauthError?: string,
  extra?: (err: AuthkestraError) => void,
) {
  return (err: unknown): boolean => {
    if (!(err instanceof AuthkestraError))
      throw new Error(`expected AuthkestraError, got ${String(err)}`)
    if (err.code !== expected)
      throw new Error(`expected code ${expected}, got ${err.code}: ${err.message}`)
    if (oauthError !== undefined && err.oauthError !== oauthError) {
      throw new Error(`expected oauthError ${oauthError}, got ${String(err.oauthError)}`)
    }
    extra?.(err)
    return true
  }
}
